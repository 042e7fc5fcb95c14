package otelx_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/otelx"
	"github.com/go-resilience/resilience/retry"
)

// flaky is a real HTTP server that fails the first request with 503 and
// answers the others, keeping the traceparent header of each request.
type flaky struct {
	mu          sync.Mutex
	traceparent []string
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.traceparent = append(f.traceparent, r.Header.Get("traceparent"))
	n := len(f.traceparent)
	f.mu.Unlock()
	if n == 1 {
		http.Error(w, "warming up", http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, "ok")
}

func (f *flaky) headers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.traceparent...)
}

// clientSpans returns the ended spans of kind client, in the order they ended.
func clientSpans(tr *tracing) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tr.rec.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			out = append(out, s)
		}
	}
	return out
}

// traceparent is the W3C header value naming span sc.
func traceparent(sc trace.SpanContext) string {
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
}

// An httpx.Transport whose Base is otelhttp's, to a real server that fails
// once: the retry decision goes on the caller's span, and each attempt is a
// client span of its own, child of the caller's, in the same trace, whose
// context (traceparent) reaches the server.
func TestHTTPAttemptSpans(t *testing.T) {
	tr := newTracing(t)
	srv := httptest.NewServer(&flaky{})
	defer srv.Close()
	f := srv.Config.Handler.(*flaky)

	base := otelhttp.NewTransport(srv.Client().Transport,
		otelhttp.WithTracerProvider(tr.tp),
		otelhttp.WithPropagators(propagation.TraceContext{}))
	rt, err := httpx.New(httpx.Config{
		Name:     "api",
		Base:     base,
		Observer: newObserver(t, otelx.Config{}),
		Retry:    &retry.Config{MaxAttempts: 2, BaseDelay: -1}, // retry at once
	})
	require.NoError(t, err)
	client := &http.Client{Transport: rt}
	defer client.CloseIdleConnections()

	parent := tr.span(t, "GET /thing", func(ctx context.Context) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "the retry's answer")
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
	})

	attempts := clientSpans(tr)
	require.Len(t, attempts, 2, "a span per attempt")
	got := f.headers()
	require.Len(t, got, 2, "the server saw both attempts")
	assert.NotEqual(t, got[0], got[1], "each attempt sends its own span")
	for i, a := range attempts {
		assert.Equal(t, parent.SpanContext().TraceID(), a.SpanContext().TraceID(), "attempt %d: same trace", i+1)
		assert.Equal(t, parent.SpanContext().SpanID(), a.Parent().SpanID(), "attempt %d: child of the caller's span", i+1)
		assert.Equal(t, traceparent(a.SpanContext()), got[i], "attempt %d: the server got its span's context", i+1)
	}
	assert.Equal(t, []ev{{"resilience.retry", map[string]any{
		"resilience.policy": "api", "resilience.attempt": int64(2), "resilience.delay": 0.0, "error.type": "*httpx.StatusError",
	}}}, events(parent), "the retry decision is on the caller's span")
}

// A hedged request through otelhttp: the hedge's decisions go on the
// caller's span, and both attempts (the slow one, cancelled, and the
// hedge that won) are client spans of their own with their own
// traceparent.
func TestHTTPHedgeSpans(t *testing.T) {
	tr := newTracing(t)
	var (
		mu      sync.Mutex
		headers []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		headers = append(headers, r.Header.Get("traceparent"))
		n := len(headers)
		mu.Unlock()
		if n == 1 { // the first attempt hangs until the hedge wins and cancels it
			<-r.Context().Done()
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()

	rt, err := httpx.New(httpx.Config{
		Name: "api",
		Base: otelhttp.NewTransport(srv.Client().Transport,
			otelhttp.WithTracerProvider(tr.tp), otelhttp.WithPropagators(propagation.TraceContext{})),
		Hedge:    &hedge.Config{Delay: 20 * time.Millisecond},
		Observer: newObserver(t, otelx.Config{}),
	})
	require.NoError(t, err)
	client := &http.Client{Transport: rt}
	defer client.CloseIdleConnections()

	parent := tr.span(t, "GET /hedged", func(ctx context.Context) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
	})

	assert.Equal(t, []ev{
		{"resilience.hedge.sent", map[string]any{"resilience.policy": "api", "resilience.attempt": int64(2), "resilience.delay": 0.02}},
		{"resilience.hedge.won", map[string]any{"resilience.policy": "api", "resilience.attempt": int64(2)}},
	}, events(parent))
	attempts := clientSpans(tr)
	require.Len(t, attempts, 2, "a span per attempt")
	mu.Lock()
	got := append([]string(nil), headers...)
	mu.Unlock()
	require.Len(t, got, 2)
	want := []string{traceparent(attempts[0].SpanContext()), traceparent(attempts[1].SpanContext())}
	assert.ElementsMatch(t, want, got, "each attempt's context reached the server")
	for _, a := range attempts {
		assert.Equal(t, parent.SpanContext().SpanID(), a.Parent().SpanID(), "child of the caller's span")
	}
}
