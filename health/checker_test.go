package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errDown = errors.New("dependency down")

func fail(context.Context) error { return errDown }

func succeed(context.Context) error { return nil }

const openTimeout = time.Second

// newBreaker returns a closed breaker named name that trips at its first
// failure and probes after openTimeout.
func newBreaker(t *testing.T, name string) *breaker.Breaker {
	t.Helper()
	b, err := breaker.New(breaker.Config{Name: name, ConsecutiveFailures: 1, OpenTimeout: openTimeout})
	require.NoError(t, err)
	return b
}

// into puts b into state st the way it gets there in use: failures trip
// it, the open duration passing makes it half-open (call inside a synctest
// bubble for that), an operator forces it.
func into(t *testing.T, b *breaker.Breaker, st breaker.State) {
	t.Helper()
	switch st {
	case breaker.Closed:
	case breaker.Open:
		_ = b.Execute(context.Background(), fail)
	case breaker.HalfOpen:
		_ = b.Execute(context.Background(), fail)
		time.Sleep(openTimeout)
	case breaker.ForcedOpen:
		b.ForceOpen()
	case breaker.ForcedClosed:
		b.ForceClosed()
	}
	require.Equal(t, st, b.State())
}

func newChecker(t *testing.T, cfg health.Config) *health.Checker {
	t.Helper()
	c, err := health.New(cfg)
	require.NoError(t, err)
	return c
}

func TestStatusSumsUpTheBreakers(t *testing.T) {
	const (
		closed       = breaker.Closed
		open         = breaker.Open
		halfOpen     = breaker.HalfOpen
		forcedOpen   = breaker.ForcedOpen
		forcedClosed = breaker.ForcedClosed
	)
	for _, tc := range []struct {
		name   string
		states []breaker.State
		want   health.Status
	}{
		{"no breakers is ok", nil, health.OK},
		{"one closed is ok", []breaker.State{closed}, health.OK},
		{"forced closed is ok", []breaker.State{forcedClosed, closed}, health.OK},
		{"one open of one is down", []breaker.State{open}, health.Down},
		{"one half-open is degraded", []breaker.State{halfOpen}, health.Degraded},
		{"one open of two is degraded", []breaker.State{closed, open}, health.Degraded},
		{"forced open counts as open", []breaker.State{open, forcedOpen}, health.Down},
		{"forced open alone is down", []breaker.State{forcedOpen}, health.Down},
		{"half-open with open is degraded", []breaker.State{halfOpen, open}, health.Degraded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var bs []*breaker.Breaker
				for i, st := range tc.states {
					// Open ones stay open while the half-open ones' open
					// duration passes.
					d := openTimeout
					if st == open {
						d = time.Hour
					}
					b, err := breaker.New(breaker.Config{Name: string(rune('a' + i)), ConsecutiveFailures: 1, OpenTimeout: d})
					require.NoError(t, err)
					bs = append(bs, b)
					if st == halfOpen {
						into(t, b, open)
					} else {
						into(t, b, st)
					}
				}
				time.Sleep(openTimeout)
				rep := newChecker(t, health.Config{Breakers: bs}).Report()
				assert.Equal(t, tc.want, rep.Status)
				require.Len(t, rep.Breakers, len(tc.states))
				for i, st := range tc.states {
					assert.Equal(t, st, rep.Breakers[i].State, "breaker %d", i)
				}
			})
		})
	}
}

func TestHandlerServesTheReportAsJSON(t *testing.T) {
	for _, tc := range []struct {
		name     string
		state    breaker.State
		degraded bool // Config.UnavailableWhenDegraded
		code     int
		body     string
	}{
		{"closed", breaker.Closed, false, http.StatusOK,
			`{"status":"ok","breakers":[{"name":"payments","state":"closed","status":"ok"}],"bulkheads":[]}`},
		{"open", breaker.Open, false, http.StatusServiceUnavailable,
			`{"status":"down","breakers":[{"name":"payments","state":"open","status":"down"}],"bulkheads":[]}`},
		{"half-open, default policy", breaker.HalfOpen, false, http.StatusOK,
			`{"status":"degraded","breakers":[{"name":"payments","state":"half-open","status":"degraded"}],"bulkheads":[]}`},
		{"half-open, unavailable when degraded", breaker.HalfOpen, true, http.StatusServiceUnavailable,
			`{"status":"degraded","breakers":[{"name":"payments","state":"half-open","status":"degraded"}],"bulkheads":[]}`},
		{"closed, unavailable when degraded", breaker.Closed, true, http.StatusOK,
			`{"status":"ok","breakers":[{"name":"payments","state":"closed","status":"ok"}],"bulkheads":[]}`},
		{"forced open", breaker.ForcedOpen, false, http.StatusServiceUnavailable,
			`{"status":"down","breakers":[{"name":"payments","state":"forced-open","status":"down"}],"bulkheads":[]}`},
		{"forced closed", breaker.ForcedClosed, true, http.StatusOK,
			`{"status":"ok","breakers":[{"name":"payments","state":"forced-closed","status":"ok"}],"bulkheads":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBreaker(t, "payments")
				into(t, b, tc.state)
				c := newChecker(t, health.Config{Breakers: []*breaker.Breaker{b}, UnavailableWhenDegraded: tc.degraded})

				rec := httptest.NewRecorder()
				c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
				assert.Equal(t, tc.code, rec.Code)
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
				assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
				assert.JSONEq(t, tc.body, rec.Body.String())
			})
		})
	}
}

func TestHandlerOverARealServer(t *testing.T) {
	b := newBreaker(t, "payments")
	srv := httptest.NewServer(newChecker(t, health.Config{Breakers: []*breaker.Breaker{b}}))
	defer srv.Close()

	get := func() (int, health.Report) {
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		var rep health.Report
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
		return resp.StatusCode, rep
	}
	code, rep := get()
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, health.OK, rep.Status)

	into(t, b, breaker.Open)
	code, rep = get()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, health.Down, rep.Status)
	assert.Equal(t, []health.BreakerReport{{Name: "payments", State: breaker.Open, Status: health.Down}}, rep.Breakers)
}

func TestHandlerAnswersHeadWithoutBodyAndRefusesOtherMethods(t *testing.T) {
	b := newBreaker(t, "payments")
	into(t, b, breaker.Open)
	c := newChecker(t, health.Config{Breakers: []*breaker.Breaker{b}})

	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/readyz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Zero(t, rec.Body.Len())

	rec = httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/readyz", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

func TestSetsAreReportedKeyByKeyInKeyOrder(t *testing.T) {
	set, err := breaker.NewSet(breaker.KeyedConfig{Config: breaker.Config{Name: "hosts", ConsecutiveFailures: 1}})
	require.NoError(t, err)
	require.NoError(t, set.Execute(context.Background(), "b.example", succeed))
	_ = set.Execute(context.Background(), "a.example", fail)
	require.NoError(t, set.Execute(context.Background(), "c.example", succeed))

	c := newChecker(t, health.Config{Sets: []*breaker.Set{set}})
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusOK, rec.Code, "one open key of three is degraded, which is served 200 by default")
	assert.JSONEq(t, `{"status":"degraded","breakers":[
		{"name":"hosts","key":"a.example","state":"open","status":"down"},
		{"name":"hosts","key":"b.example","state":"closed","status":"ok"},
		{"name":"hosts","key":"c.example","state":"closed","status":"ok"}
	],"bulkheads":[]}`, rec.Body.String())
}

func TestBulkheadsAreReportedWithoutChangingStatus(t *testing.T) {
	bh, err := bulkhead.New(bulkhead.Config{Name: "pool", MaxConcurrent: 2})
	require.NoError(t, err)
	require.NoError(t, bh.Acquire(context.Background()))
	require.NoError(t, bh.Acquire(context.Background()))
	defer bh.Release()
	defer bh.Release()
	assert.Error(t, bh.Execute(context.Background(), succeed), "full: refused")

	rep := newChecker(t, health.Config{Bulkheads: []*bulkhead.Bulkhead{bh}}).Report()
	assert.Equal(t, health.OK, rep.Status)
	assert.Equal(t, []health.BulkheadReport{{
		Name: "pool", InFlight: 2, Waiting: 0, MaxConcurrent: 2, Saturation: 1, Rejected: 1,
	}}, rep.Bulkheads)

	body, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.JSONEq(t, `{"status":"ok","breakers":[],"bulkheads":[
		{"name":"pool","in_flight":2,"waiting":0,"max_concurrent":2,"saturation":1,"rejected":1}
	]}`, string(body))
}

func TestNewRefusesNilElementsNamingTheField(t *testing.T) {
	b := newBreaker(t, "x")
	for _, tc := range []struct {
		cfg  health.Config
		want string
	}{
		{health.Config{Breakers: []*breaker.Breaker{b, nil}}, "health: Config.Breakers[1] is nil"},
		{health.Config{Sets: []*breaker.Set{nil}}, "health: Config.Sets[0] is nil"},
		{health.Config{Bulkheads: []*bulkhead.Bulkhead{nil}}, "health: Config.Bulkheads[0] is nil"},
	} {
		c, err := health.New(tc.cfg)
		assert.Nil(t, c)
		assert.EqualError(t, err, tc.want)
	}
}

func TestTheZeroCheckerAndConfigReportOK(t *testing.T) {
	var zero health.Checker
	assert.Equal(t, health.Report{Status: health.OK, Breakers: []health.BreakerReport{}, Bulkheads: []health.BulkheadReport{}}, zero.Report())
	rec := httptest.NewRecorder()
	newChecker(t, health.Config{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":"ok","breakers":[],"bulkheads":[]}`, rec.Body.String())
}

func TestNewCopiesTheConfigSlices(t *testing.T) {
	a, b := newBreaker(t, "a"), newBreaker(t, "b")
	bs := []*breaker.Breaker{a}
	c := newChecker(t, health.Config{Breakers: bs})
	bs[0] = b
	assert.Equal(t, "a", c.Report().Breakers[0].Name)
}

func TestStatusTextRoundTrips(t *testing.T) {
	for _, st := range []health.Status{health.OK, health.Degraded, health.Down} {
		text, err := st.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, st.String(), string(text))
		var back health.Status
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, st, back)
	}
	_, err := health.Status(9).MarshalText()
	assert.Error(t, err)
	assert.Equal(t, "status(9)", health.Status(9).String())
	var s health.Status
	assert.Error(t, s.UnmarshalText([]byte("fine")))
	var br health.BreakerReport
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"name":"x","state":"ajar","status":"ok"}`), &br), `unknown breaker state "ajar"`)
}

func TestReportIsSafeWhileBreakersChange(t *testing.T) {
	b := newBreaker(t, "flappy")
	c := newChecker(t, health.Config{Breakers: []*breaker.Breaker{b}})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 200 {
			if i%2 == 0 {
				b.ForceOpen()
			} else {
				b.Unforce()
			}
		}
	})
	for range 200 {
		rep := c.Report()
		require.Len(t, rep.Breakers, 1)
		assert.Contains(t, []health.Status{health.OK, health.Down}, rep.Status)
	}
	wg.Wait()
}
