package otelx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/otelx"
	"github.com/go-resilience/resilience/ratelimit"
)

// A server that sheds a request puts the decision on the request's server
// span (otelhttp.NewHandler outside httpx's middleware) and marks it an
// error; an admitted request's span has no event.
func TestServerShedSpanEvents(t *testing.T) {
	tr := newTracing(t)
	obs := newObserver(t, otelx.Config{})
	limit, err := ratelimit.New(ratelimit.Config{Name: "api", Rate: 0.001, Burst: 1})
	require.NoError(t, err)
	srv, err := httpx.NewServer(httpx.ServerConfig{Name: "api", Policy: limit, Observer: obs})
	require.NoError(t, err)
	work := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "done") })
	ts := httptest.NewServer(otelhttp.NewHandler(srv.Middleware(work), "work", otelhttp.WithTracerProvider(tr.tp)))
	defer ts.Close()
	client := ts.Client()
	defer client.CloseIdleConnections()

	var codesGot []int
	for range 2 {
		resp, err := client.Get(ts.URL)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		codesGot = append(codesGot, resp.StatusCode)
	}
	require.Equal(t, []int{http.StatusOK, http.StatusTooManyRequests}, codesGot)

	var servers []ev
	var statuses []codes.Code
	for _, s := range tr.rec.Ended() {
		if s.SpanKind() == trace.SpanKindServer {
			servers = append(servers, events(s)...)
			statuses = append(statuses, s.Status().Code)
		}
	}
	assert.Equal(t, []ev{
		{"resilience.shed", map[string]any{"resilience.policy": "api", "error.type": "rate_limit"}},
	}, servers, "only the shed request has an event")
	assert.Equal(t, []codes.Code{codes.Unset, codes.Error}, statuses)
}
