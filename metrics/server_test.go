package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/metrics"
	"github.com/go-resilience/resilience/ratelimit"
)

// A server's admissions, refusals by reason and queue waits, from the
// events of a real httpx.Server.
func TestServerAdmittedShedByReasonAndQueueWait(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	c.Observe(resilience.Event{Kind: resilience.EventAdmitted, Policy: "api", Latency: 2 * time.Millisecond})
	c.Observe(resilience.Event{Kind: resilience.EventShed, Policy: "api", Err: bulkhead.ErrFull})
	c.Observe(resilience.Event{Kind: resilience.EventShed, Policy: "api", Err: ratelimit.ErrLimited})
	c.Observe(resilience.Event{Kind: resilience.EventShed, Policy: "api", Err: httpx.ErrShortDeadline})
	c.Observe(resilience.Event{Kind: resilience.EventShed, Policy: "api", Err: httpx.ErrStandingQueue})
	c.Observe(resilience.Event{Kind: resilience.EventShed, Policy: "api", Err: httpx.ErrQueueFull})
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP resilience_server_admitted_total Requests a server-side adapter let run.
# TYPE resilience_server_admitted_total counter
resilience_server_admitted_total{key="",policy="api"} 1
# HELP resilience_server_shed_total Requests a server-side adapter refused at once, by reason (overload, rate_limit, deadline, queue).
# TYPE resilience_server_shed_total counter
resilience_server_shed_total{key="",policy="api",reason="deadline"} 1
resilience_server_shed_total{key="",policy="api",reason="overload"} 1
resilience_server_shed_total{key="",policy="api",reason="queue"} 2
resilience_server_shed_total{key="",policy="api",reason="rate_limit"} 1
`), "resilience_server_admitted_total", "resilience_server_shed_total"))
	assert.Equal(t, 1, testutil.CollectAndCount(c, "resilience_server_queue_wait_seconds"))
}

func TestHTTPServerReportsToCollector(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	srv, err := httpx.NewServer(httpx.ServerConfig{Name: "api", Policy: bh, Observer: c})
	require.NoError(t, err)
	var inner *httptest.ResponseRecorder
	h := srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// While this request holds the slot, another is shed.
		inner = httptest.NewRecorder()
		srv.Middleware(http.NotFoundHandler()).ServeHTTP(inner, httptest.NewRequest(http.MethodGet, "/", nil))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusServiceUnavailable, inner.Code)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP resilience_server_admitted_total Requests a server-side adapter let run.
# TYPE resilience_server_admitted_total counter
resilience_server_admitted_total{key="",policy="api"} 1
# HELP resilience_server_shed_total Requests a server-side adapter refused at once, by reason (overload, rate_limit, deadline, queue).
# TYPE resilience_server_shed_total counter
resilience_server_shed_total{key="",policy="api",reason="deadline"} 0
resilience_server_shed_total{key="",policy="api",reason="overload"} 1
resilience_server_shed_total{key="",policy="api",reason="queue"} 0
resilience_server_shed_total{key="",policy="api",reason="rate_limit"} 0
`), "resilience_server_admitted_total", "resilience_server_shed_total"))
}
