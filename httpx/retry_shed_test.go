package httpx_test

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/ratelimit"
)

// serverClock records when a Server shed or admitted each request.
type serverClock struct {
	mu    sync.Mutex
	kinds []resilience.EventKind
	at    []time.Time
}

func (c *serverClock) Observe(e resilience.Event) {
	if e.Kind != resilience.EventShed && e.Kind != resilience.EventAdmitted {
		return
	}
	c.mu.Lock()
	c.kinds = append(c.kinds, e.Kind)
	c.at = append(c.at, time.Now())
	c.mu.Unlock()
}

func (c *serverClock) events() ([]resilience.EventKind, []time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]resilience.EventKind(nil), c.kinds...), append([]time.Time(nil), c.at...)
}

// End to end: our client's Config.Retry against our shedding middleware
// on a real server. A rate limit of one request a second sheds the second
// request with Retry-After: 1; the client's backoff alone would retry
// after 1ms at most, but it waits the second out, and the retry is served.
func TestClientRetryWaitsOutTheShedServersRetryAfter(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			lim, err := ratelimit.New(ratelimit.Config{Rate: 1, Burst: 1})
			require.NoError(t, err)
			clock := &serverClock{}
			srv, err := httpx.NewServer(httpx.ServerConfig{Policy: lim, Observer: clock})
			require.NoError(t, err)
			s := newServer(t, p.h2, srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				io.WriteString(w, "ok")
			})))
			c := &http.Client{Transport: newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip, Retry: retryConfig(t, 3)})}

			code, err := fetch(t, c, s.URL) // takes the only token
			require.NoError(t, err)
			require.Equal(t, 200, code)
			start := time.Now()
			code, err = fetch(t, c, s.URL)
			elapsed := time.Since(start)
			require.NoError(t, err)
			assert.Equal(t, 200, code, "the retry was served")

			kinds, at := clock.events()
			require.Equal(t, []resilience.EventKind{resilience.EventAdmitted, resilience.EventShed, resilience.EventAdmitted}, kinds)
			gap := at[2].Sub(at[1])
			t.Logf("%s: retry admitted %v after the refusal; request took %v", p.name, gap, elapsed)
			assert.GreaterOrEqual(t, gap, time.Second, "no retry sooner than Retry-After: 1")
			assert.Less(t, elapsed, 3*time.Second)
		})
	}
}
