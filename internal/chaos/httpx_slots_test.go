package chaos

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/internal/fault"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unwindingTransport honours its request's context, but takes unwind to
// return once the context has ended, as a loaded http.Transport does while
// it tears the request down.
type unwindingTransport struct {
	unwind        time.Duration
	inFlight, max atomic.Int64
}

func (u *unwindingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	storeMax(&u.max, u.inFlight.Add(1))
	defer u.inFlight.Add(-1)
	<-req.Context().Done()
	time.Sleep(u.unwind)
	return nil, req.Context().Err()
}

// The bulkhead bounds the requests inside the base transport, not only
// those whose context is live: a slot must not be given back while the
// base RoundTrip it guards is still running (hystrix-go's flaw, which
// this library is built to avoid). Before the fix, the chaos runs on a loaded machine saw
// up to 47 requests inside http.Transport.RoundTrip with a bulkhead of 32.
func TestHTTPXSlotIsHeldUntilTheBaseRoundTripReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &unwindingTransport{unwind: 10 * time.Millisecond}
		tr, err := httpx.New(httpx.Config{
			Base:           base,
			DisableBreaker: true,
			Bulkhead:       bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Second},
			Timeout:        50 * time.Millisecond,
		})
		require.NoError(t, err)
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				req, err := http.NewRequest(http.MethodGet, "http://dependency.test/", nil)
				if !assert.NoError(t, err) {
					return
				}
				_, err = tr.RoundTrip(req)
				assert.Error(t, err)
			})
		}
		wg.Wait()
		assert.Equal(t, int64(1), base.max.Load(), "requests inside the base transport at once, with MaxConcurrent 1")
	})
}

// A request whose context is already done (or ends just as it is let
// through) must fail cleanly, without a data race, and give its slot
// back. (It raced on call.stop until httpx 5bb299a: the AfterFunc,
// started at once on a done context, read the field its caller was still
// setting.)
func TestHTTPXRequestWithADoneContextIsRaceFree(t *testing.T) {
	srv := fault.NewHTTP(t, fault.HTTPConfig{})
	base := srv.Transport()
	defer base.CloseIdleConnections()
	// Without a breaker nothing looks at the context before the bulkhead,
	// whose free slot is taken without looking at it either. (With a
	// breaker, a caller deadline that ends between admission and the
	// bulkhead does the same.)
	tr, err := httpx.New(httpx.Config{Base: base, DisableBreaker: true,
		Bulkhead: bulkhead.Config{MaxConcurrent: 4}, Timeout: testTimeout})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL(), nil)
		require.NoError(t, err)
		_, err = tr.RoundTrip(req)
		assert.ErrorIs(t, err, context.Canceled)
	}
	for _, b := range tr.Bulkheads() {
		assert.Zero(t, b.InFlight())
	}
}
