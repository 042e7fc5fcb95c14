package hedge

import (
	"sync"
	"time"
)

// hedger is a call: setTimer records its timer (before the timer can
// fire), hedge runs when the timer fires.
type hedger interface {
	setTimer(*hedgeTimer)
	hedge()
}

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

// startTimer starts a holder whose timer calls c.hedge after d. It calls
// c.setTimer before the timer can fire, and what that writes is seen by
// c.hedge (fire takes ht.mu after it).
func (h *Hedge) startTimer(c hedger, d time.Duration) {
	ht, ok := h.timers.Get().(*hedgeTimer)
	if !ok {
		ht = &hedgeTimer{}
	}
	ht.mu.Lock()
	ht.c = c
	if ok {
		ht.t.Reset(d)
	} else {
		ht.t = time.AfterFunc(d, ht.fire)
	}
	c.setTimer(ht)
	ht.mu.Unlock()
}

// putTimer keeps ht, whose timer is stopped and did not fire during its
// call, for another call. Nothing else refers to it now.
func (h *Hedge) putTimer(ht *hedgeTimer) {
	ht.c = nil
	h.timers.Put(ht)
}
