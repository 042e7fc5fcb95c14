package health_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/health"
	"github.com/go-resilience/resilience/httpx"
)

// Both adapters are Sources, as they are.
var (
	_ health.Source = (*httpx.Transport)(nil)
	_ health.Source = (*grpcx.Interceptors)(nil)
)

func TestCoveredOpenBreakerIsDegradedNotDown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		covered []string
		want    health.Status
		code    int
	}{
		{"not covered: down, out of rotation", nil, health.Down, http.StatusServiceUnavailable},
		{"covered: degraded, still serving", []string{"payments"}, health.Degraded, http.StatusOK},
		{"another name covered: down", []string{"search"}, health.Down, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBreaker(t, "payments")
			into(t, b, breaker.Open)
			c := newChecker(t, health.Config{Breakers: []*breaker.Breaker{b}, Covered: tc.covered})
			rep := c.Report()
			assert.Equal(t, tc.want, rep.Status)
			require.Len(t, rep.Breakers, 1)
			assert.Equal(t, breaker.Open, rep.Breakers[0].State, "the breaker is still shown open")
			assert.Equal(t, tc.want, rep.Breakers[0].Status)

			rec := httptest.NewRecorder()
			c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			assert.Equal(t, tc.code, rec.Code)
		})
	}
}

func TestCoveredBreakerStatesAndJSON(t *testing.T) {
	for _, tc := range []struct {
		state breaker.State
		want  health.Status
	}{
		{breaker.Closed, health.OK},
		{breaker.HalfOpen, health.Degraded},
		{breaker.Open, health.Degraded},
		{breaker.ForcedOpen, health.Degraded},
		{breaker.ForcedClosed, health.OK},
	} {
		t.Run(tc.state.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBreaker(t, "payments")
				into(t, b, tc.state)
				rep := newChecker(t, health.Config{Breakers: []*breaker.Breaker{b}, Covered: []string{"payments"}}).Report()
				assert.Equal(t, tc.want, rep.Status)
				assert.True(t, rep.Breakers[0].Covered)
				var back health.BreakerReport
				data, err := rep.Breakers[0].MarshalJSON()
				require.NoError(t, err)
				assert.Contains(t, string(data), `"covered":true`)
				require.NoError(t, back.UnmarshalJSON(data))
				assert.Equal(t, rep.Breakers[0], back)
			})
		})
	}
}

func TestHTTPTransportSourceReportsKeysMadeAfterTheChecker(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	tr, err := httpx.New(httpx.Config{
		Name:           "upstream",
		Base:           base,
		Breaker:        breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Minute}},
		Bulkhead:       bulkhead.Config{MaxConcurrent: 4},
		BulkheadPerKey: true,
	})
	require.NoError(t, err)
	c := newChecker(t, health.Config{Sources: []health.Source{tr}, Covered: []string{"upstream"}})
	rep := c.Report()
	assert.Equal(t, health.OK, rep.Status)
	assert.Empty(t, rep.Breakers)
	assert.Empty(t, rep.Bulkheads)

	// The first request to the host makes its breaker and bulkhead, after
	// the checker was built; the 503 opens the breaker.
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	key := srv.Listener.Addr().String()
	rep = c.Report()
	assert.Equal(t, health.Degraded, rep.Status, "open, but covered")
	require.Len(t, rep.Breakers, 1)
	assert.Equal(t, health.BreakerReport{Name: "upstream", Key: "http://" + key, State: breaker.Open, Status: health.Degraded, Covered: true}, rep.Breakers[0])
	assert.Equal(t, []health.BulkheadReport{{Name: "upstream", Key: "http://" + key, MaxConcurrent: 4}}, rep.Bulkheads)
}

func TestGRPCInterceptorsSourceReportsKeysMadeAfterTheChecker(t *testing.T) {
	ic, err := grpcx.New(grpcx.Config{
		Name:           "inventory",
		Breaker:        breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Minute}},
		Bulkhead:       bulkhead.Config{MaxConcurrent: 2},
		BulkheadPerKey: true,
	})
	require.NoError(t, err)
	c := newChecker(t, health.Config{Sources: []health.Source{ic}})
	rep := c.Report()
	assert.Equal(t, health.OK, rep.Status)
	assert.Empty(t, rep.Breakers)
	assert.Equal(t, []health.BulkheadReport{{Name: "inventory", MaxConcurrent: 2}}, rep.Bulkheads,
		"only the overflow bulkhead exists yet")

	// Calls to two methods, through the interceptor as a connection runs it.
	unary := ic.UnaryClientInterceptor()
	call := func(method string, code codes.Code) {
		_ = unary(context.Background(), method, nil, nil, nil,
			func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
				return status.Error(code, "")
			})
	}
	call("/inv.Stock/Get", codes.OK)
	call("/inv.Stock/Put", codes.Unavailable)

	rep = c.Report()
	assert.Equal(t, health.Degraded, rep.Status, "one method down of two")
	assert.Equal(t, []health.BreakerReport{
		{Name: "inventory", Key: "/inv.Stock/Get", State: breaker.Closed, Status: health.OK},
		{Name: "inventory", Key: "/inv.Stock/Put", State: breaker.Open, Status: health.Down},
	}, rep.Breakers)
	assert.Equal(t, []health.BulkheadReport{
		{Name: "inventory", MaxConcurrent: 2},
		{Name: "inventory", Key: "/inv.Stock/Get", MaxConcurrent: 2},
		{Name: "inventory", Key: "/inv.Stock/Put", MaxConcurrent: 2},
	}, rep.Bulkheads)
}

func TestNewRefusesANilSource(t *testing.T) {
	c, err := health.New(health.Config{Sources: []health.Source{nil}})
	assert.Nil(t, c)
	assert.EqualError(t, err, "health: Config.Sources[0] is nil")
}

func TestTransportWithoutBreakersIsASourceOfBulkheadsOnly(t *testing.T) {
	tr, err := httpx.New(httpx.Config{DisableBreaker: true, Bulkhead: bulkhead.Config{MaxConcurrent: 3}})
	require.NoError(t, err)
	rep := newChecker(t, health.Config{Sources: []health.Source{tr}}).Report()
	assert.Equal(t, health.OK, rep.Status)
	assert.Empty(t, rep.Breakers)
	assert.Equal(t, []health.BulkheadReport{{Name: "httpx", MaxConcurrent: 3}}, rep.Bulkheads)
}
