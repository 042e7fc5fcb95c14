package httpx

import (
	"fmt"
	"net/http"
	"reflect"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
)

// freeSlot gives back the bulkhead slot of a request whose failure
// response is about to be offered to the Fallback, leaving its body and
// context as they are: the request has its answer, and a Fallback that
// fails over through this same Transport must find the slot free rather
// than wait for it, or be refused, while the failed response holds it.
// A response the Fallback declines is returned with its body unread,
// outside the bulkhead.
func (c *call) freeSlot() {
	if c.slotFreed.CompareAndSwap(false, true) {
		switch {
		case c.slot != nil:
			c.slot.Release()
		case c.keyed != nil:
			c.t.perKey.release(c.keyed)
		}
	}
}

// askFallback asks the Fallback to answer for the failure response of c,
// which it replaces when answered. The slot is given back first (see
// freeSlot). When the Fallback panics, RoundTrip closes the failure
// response, giving back its connection and context, and the panic goes on.
func (t *Transport) askFallback(c *call, se *StatusError) (*http.Response, error) {
	c.freeSlot()
	resp, ferr := t.fallback(c.req, se)
	if ferr != nil || resp == nil {
		if resp != nil {
			discard(resp)
		}
		return c.resp, nil
	}
	discard(c.resp)
	t.observeAnswer(resp, c.key, se)
	return resp, nil
}

// observeAnswer reports an EventFallback for resp, answering err; when the
// Observer panics, resp, which the caller will never see, is closed.
func (t *Transport) observeAnswer(resp *http.Response, key string, err error) {
	if t.obs == nil {
		return
	}
	ok := false
	defer func() {
		if !ok && resp.Body != nil {
			resp.Body.Close()
		}
	}()
	t.observe(resilience.EventFallback, key, err)
	ok = true
}

// checkDisabledBreaker refuses, under DisableBreaker, a Breaker config
// that would do nothing: an invalid one (named as the breaker package
// names it), or any setting of Breaker but MaxKeys (which still bounds
// the per-key bulkheads).
func checkDisabledBreaker(cfg *Config) error {
	if !cfg.DisableBreaker {
		return nil
	}
	if _, err := breaker.NewSet(cfg.Breaker); err != nil {
		return fmt.Errorf("httpx: Config.Breaker: %w", err)
	}
	switch {
	case !reflect.ValueOf(cfg.Breaker.Config).IsZero():
		return fmt.Errorf("httpx: Config.Breaker.Config must be zero when Config.DisableBreaker is set (the breakers are off, it would do nothing)")
	case cfg.Breaker.IdleTimeout != 0:
		return fmt.Errorf("httpx: Config.Breaker.IdleTimeout must be zero when Config.DisableBreaker is set (the breakers are off, it would do nothing), got %v", cfg.Breaker.IdleTimeout)
	}
	return nil
}
