package fault_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-resilience/resilience/internal/fault"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitCtx bounds a WaitFor: long enough for a loaded 2-core machine.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func get(t *testing.T, ctx context.Context, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	return c.Do(req)
}

func TestHTTPAnswersStatusesBodiesAndRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		f          fault.Fault
		status     int
		body       string
		retryAfter string
	}{
		{"ok", fault.OK(), 200, "ok\n", ""},
		{"a 5xx", fault.Status(502), 502, "fault: 502 Bad Gateway\n", ""},
		{"503 with Retry-After", fault.RetryAfter(503, "7"), 503, "fault: 503 Service Unavailable\n", "7"},
		{"429 with an HTTP date", fault.RetryAfter(429, "Wed, 21 Oct 2015 07:28:00 GMT"), 429, "fault: 429 Too Many Requests\n", "Wed, 21 Oct 2015 07:28:00 GMT"},
		{"no body for 204", fault.Status(204), 204, "", ""},
		{"gRPC code mapped", fault.Code(4), 504, "fault: 504 Gateway Timeout\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fault.NewHTTP(t, fault.HTTPConfig{Fault: tc.f})
			resp, err := get(t, context.Background(), s.Client(), s.URL())
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.body, string(body))
			assert.Equal(t, tc.retryAfter, resp.Header.Get("Retry-After"))
			st := s.Stats()
			assert.Equal(t, uint64(1), st.Requests)
			assert.Equal(t, uint64(1), st.Statuses[tc.status])
		})
	}
}

func TestHTTPDelayWaitsItsLatency(t *testing.T) {
	const d = 60 * time.Millisecond
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.Delay(fault.Fixed(d), fault.Status(500))})
	start := time.Now()
	resp, err := get(t, context.Background(), s.Client(), s.URL())
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.GreaterOrEqual(t, time.Since(start), d)
	assert.Equal(t, 500, resp.StatusCode)
}

func TestHTTPHangHangsUntilClose(t *testing.T) {
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.Hang()})
	done := make(chan error, 1)
	go func() {
		resp, err := get(t, context.Background(), s.Client(), s.URL())
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	_, err := s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.Hangs == 1 })
	require.NoError(t, err)
	select {
	case err := <-done:
		t.Fatalf("a hang answered: %v", err)
	case <-time.After(100 * time.Millisecond): // it really hangs
	}
	start := time.Now()
	s.Close()
	select {
	case err := <-done:
		require.Error(t, err, "a hang closed by the server gives no response")
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the hang")
	}
	assert.Less(t, time.Since(start), 2*time.Second)
	st := s.Stats()
	assert.Equal(t, 0, st.InFlight)
	assert.Equal(t, uint64(1), st.Aborted)
}

func TestHTTPHangEndsWhenTheClientGoesAway(t *testing.T) {
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.Hang()})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := get(t, ctx, s.Client(), s.URL())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	st, err := s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.InFlight == 0 })
	require.NoError(t, err, "the handler returns once the client is gone")
	assert.Equal(t, uint64(1), st.Hangs)
	assert.Equal(t, uint64(1), st.Aborted)
}

func TestHTTPResetResetsTheConnectionMidBody(t *testing.T) {
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.Reset(100)})
	resp, err := get(t, context.Background(), s.Client(), s.URL())
	require.NoError(t, err, "the headers arrive")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, int64(201), resp.ContentLength)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET), "want a TCP RST, got %v", err)
	assert.LessOrEqual(t, len(body), 100)
	_, err = s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.Resets == 1 && st.Conns.Hijacked == 1 })
	require.NoError(t, err)
}

func TestHTTP2ResetResetsTheStream(t *testing.T) {
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.Reset(10), HTTP2: true})
	resp, err := get(t, context.Background(), s.Client(), s.URL())
	require.NoError(t, err)
	assert.Equal(t, 2, resp.ProtoMajor)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stream error")
	_, err = s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.Resets == 1 })
	require.NoError(t, err)
}

func TestHTTPSlowBodyTricklesItsBytes(t *testing.T) {
	const n, every = 20, 10 * time.Millisecond
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.SlowBody(n, every)})
	start := time.Now()
	resp, err := get(t, context.Background(), s.Client(), s.URL())
	require.NoError(t, err)
	// The headers come first: the server is still trickling the body when
	// the client has them. (Asked of the server rather than of a clock, so
	// that a loaded machine that delays the client cannot fail it.)
	assert.Equal(t, 1, s.Stats().InFlight, "the headers come while the body is still being sent")
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Len(t, body, n)
	assert.GreaterOrEqual(t, time.Since(start), n*every, "one byte every 10ms")
}

func TestHTTPSlowBodyStopsWhenTheClientGoesAway(t *testing.T) {
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.SlowBody(1000, 10*time.Millisecond)})
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()
	resp, err := get(t, ctx, s.Client(), s.URL())
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	st, err := s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.InFlight == 0 })
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.Aborted)
}

func TestHTTPHangMidBodySendsTheStartAndThenNothing(t *testing.T) {
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.HangMidBody(5)})
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()
	resp, err := get(t, ctx, s.Client(), s.URL())
	require.NoError(t, err)
	buf := make([]byte, 5)
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err, "the start of the body arrives")
	_, err = resp.Body.Read(buf)
	resp.Body.Close()
	require.ErrorIs(t, err, context.DeadlineExceeded, "and then nothing until the client gives up")
	_, err = s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.InFlight == 0 && st.Hangs == 1 })
	require.NoError(t, err)
}

func TestHTTPStormHonoursItsRateOverManyRequests(t *testing.T) {
	const n, p = 400, 0.3
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.Rate(p, fault.Status(503), fault.OK()), Seed: 1})
	tr := s.Transport()
	tr.MaxIdleConnsPerHost = 16
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			resp, err := get(t, context.Background(), c, s.URL())
			if assert.NoError(t, err) {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	assert.Equal(t, uint64(n), st.Requests)
	assert.Equal(t, uint64(n), st.Statuses[200]+st.Statuses[503])
	assert.InDelta(t, p*n, float64(st.Statuses[503]), 4*math.Sqrt(n*p*(1-p)))
	t.Logf("storm: %d requests, %d 503s (rate %.2f)", n, st.Statuses[503], float64(st.Statuses[503])/n)
}

func TestHTTPCountsInFlightAndConnections(t *testing.T) {
	const callers = 20
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.Hang()})
	tr := s.Transport()
	tr.MaxIdleConnsPerHost = callers
	c := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			_, err := get(t, ctx, c, s.URL())
			assert.ErrorIs(t, err, context.Canceled)
		})
	}
	st, err := s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.InFlight == callers })
	require.NoError(t, err)
	assert.Equal(t, callers, st.MaxInFlight)
	assert.Equal(t, callers, st.Conns.Active)
	assert.Equal(t, uint64(callers), st.Conns.Accepted)
	cancel()
	wg.Wait()
	_, err = s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.InFlight == 0 })
	require.NoError(t, err)

	// The cancelled requests' connections close; new ones serve OK answers
	// and go idle, and close when the client lets them go.
	s.Set(fault.OK())
	s.ResetMaxInFlight()
	for range 3 {
		resp, err := get(t, context.Background(), c, s.URL())
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	st, err = s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.Conns.Active == 0 && st.Conns.Idle == 1 })
	require.NoError(t, err, "one connection served the three requests in turn")
	assert.Equal(t, 1, st.MaxInFlight)
	tr.CloseIdleConnections()
	st, err = s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.Conns.Open == 0 })
	require.NoError(t, err, "no connection leaks")
	assert.Equal(t, st.Conns.Accepted, st.Conns.Closed)
}

func TestHTTPFlapSwitchesOnItsSchedule(t *testing.T) {
	const up, down = 60 * time.Millisecond, 60 * time.Millisecond
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.Flap(up, fault.OK(), down, fault.Status(503))})
	c := s.Client()
	status := func() int {
		resp, err := get(t, context.Background(), c, s.URL())
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	// Sample for three periods; a loaded machine may shift a sample across
	// a boundary, so assert both states were seen, in turn.
	seen := map[int]int{}
	flips, last := 0, 0
	for deadline := time.Now().Add(3 * (up + down)); time.Now().Before(deadline); {
		st := status()
		seen[st]++
		if last != 0 && st != last {
			flips++
		}
		last = st
		time.Sleep(5 * time.Millisecond) // sampling interval, not a wait for a state
	}
	assert.Positive(t, seen[200])
	assert.Positive(t, seen[503])
	assert.GreaterOrEqual(t, flips, 2)
	assert.Equal(t, 2, len(seen))
}

func TestHTTPSetSwitchesTheFaultForNewRequests(t *testing.T) {
	s := fault.NewHTTP(t, fault.HTTPConfig{})
	for _, want := range []int{200, 503, 500, 200} {
		switch want {
		case 503:
			s.Set(fault.Status(503))
		case 500:
			s.Set(fault.Status(500))
		default:
			s.Set(nil)
		}
		resp, err := get(t, context.Background(), s.Client(), s.URL())
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode)
	}
}

func TestHTTPDropResetsTheConnectionBeforeAnswering(t *testing.T) {
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.Drop()})
	_, err := get(t, context.Background(), s.Client(), s.URL())
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF), "want a reset, got %v", err)
	_, err = s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.Resets >= 1 && st.InFlight == 0 })
	require.NoError(t, err)
}
