package grpcx_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/internal/eventlog"
)

// shedClock records when a server shed each call.
type shedClock struct {
	mu sync.Mutex
	at []time.Time
}

func (c *shedClock) Observe(e resilience.Event) {
	if e.Kind != resilience.EventShed {
		return
	}
	c.mu.Lock()
	c.at = append(c.at, time.Now())
	c.mu.Unlock()
}

func (c *shedClock) times() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.at...)
}

// End to end: our client's Config.Retry against our shedding server. The
// server's only slot is taken, so it sheds with a 300ms pushback; the
// client's backoff alone would retry after 1ms at most, but its retry
// waits for the pushback, and the second refusal ends the call.
func TestClientRetryHonoursTheShedServersPushback(t *testing.T) {
	const hint = 300 * time.Millisecond
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	clock := &shedClock{}
	s := newShedServer(t, grpcx.ServerConfig{Policy: bh, RetryAfter: hint, Exempt: []string{}, Observer: clock})
	h := newShedHarness(t, s)
	goList(t, h.client(t), holdList(t, h)) // the slot is taken

	cfg := retryCfg(t) // BaseDelay 1ms, a budget that never refuses
	cfg.MaxAttempts = 2
	rec := &eventlog.Recorder{}
	ic := mustNew(t, grpcx.Config{Retry: cfg, Observer: rec})
	start := time.Now()
	_, err = h.client(t, ic.DialOptions()...).List(bounded(t), &healthpb.HealthListRequest{})
	elapsed := time.Since(start)

	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	assert.Equal(t, 1, h.srv.callsTo(listMethod), "both attempts were shed before the handler")
	at := clock.times()
	require.Len(t, at, 2, "the call was retried once")
	gap := at[1].Sub(at[0])
	t.Logf("second attempt shed %v after the first; call took %v", gap, elapsed)
	assert.GreaterOrEqual(t, gap, hint, "no retry sooner than the pushback")
	assert.GreaterOrEqual(t, elapsed, hint)
	retries := rec.OfKind(resilience.EventRetry)
	require.Len(t, retries, 1)
	assert.Equal(t, hint, retries[0].Latency, "the retry's delay is the pushback")
}
