package hedge

import (
	"sync"
	"time"
)

// hedger is a call whose timer has fired.
type hedger interface{ hedge() }

// A hedgeTimer is a timer that sends a call's next hedge, kept by a Hedge
// between calls so that a call whose first attempt answers in time sets and
// stops a timer and makes none. A holder goes back to the Hedge only when
// Stop reported that its timer would not fire, and its call sent no hedge:
// nothing still refers to it.
type hedgeTimer struct {
	t  *time.Timer
	mu sync.Mutex
	c  hedger // the call it serves
}

func (ht *hedgeTimer) fire() {
	ht.mu.Lock()
	c := ht.c
	ht.mu.Unlock()
	if c != nil {
		c.hedge()
	}
}

// startTimer returns a holder whose timer calls c.hedge after d.
func (h *Hedge) startTimer(c hedger, d time.Duration) *hedgeTimer {
	if ht, ok := h.timers.Get().(*hedgeTimer); ok {
		ht.mu.Lock()
		ht.c = c
		ht.mu.Unlock()
		ht.t.Reset(d)
		return ht
	}
	ht := &hedgeTimer{c: c}
	ht.t = time.AfterFunc(d, ht.fire)
	return ht
}

// putTimer keeps ht, whose timer is stopped and will not fire, for another
// call.
func (h *Hedge) putTimer(ht *hedgeTimer) {
	ht.mu.Lock()
	ht.c = nil
	ht.mu.Unlock()
	h.timers.Put(ht)
}
