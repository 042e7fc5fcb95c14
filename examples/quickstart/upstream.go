package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/pprof"
	"time"
)

// A phase is what the flaky upstream does at a moment of the run.
type phase int

const (
	healthy    phase = iota // answers in a few milliseconds
	degraded                // slow (20–400ms), and 40% of answers are 500s
	down                    // accepts requests and never answers
	recovering              // healthy again; requests it swallowed while down stay swallowed
	numPhases
)

var phaseNames = [numPhases]string{"healthy", "degraded", "down", "recovering"}

func (p phase) String() string { return phaseNames[p] }

// phaseEnds are the ends of the phases, as fractions of the run: healthy
// for the first sixth, degraded for a quarter, down for a quarter,
// recovering for the last third.
var phaseEnds = [numPhases]float64{1.0 / 6, 5.0 / 12, 2.0 / 3, 1}

// schedule maps the time since the start of a run to its phase.
type schedule struct{ total time.Duration }

func (s schedule) at(elapsed time.Duration) phase {
	for p, end := range phaseEnds {
		if float64(elapsed) < end*float64(s.total) {
			return phase(p)
		}
	}
	return recovering
}

// bounds returns when phase p starts and ends.
func (s schedule) bounds(p phase) (from, to time.Duration) {
	if p > 0 {
		from = time.Duration(phaseEnds[p-1] * float64(s.total))
	}
	return from, time.Duration(phaseEnds[p] * float64(s.total))
}

// upstream is the flaky HTTP service both clients call: a real server on
// loopback whose behaviour follows the schedule.
type upstream struct {
	URL     string
	start   time.Time
	sched   schedule
	srv     *http.Server
	closing chan struct{} // closed by Close: handlers that hang return
	served  chan struct{} // closed when Serve has returned
	err     error         // what Serve returned, other than ErrServerClosed; read after served
}

// startUpstream listens on a free loopback port and serves until Close.
// Its goroutines carry the pprof label client=upstream, so that they are
// not counted as either client's.
func startUpstream(start time.Time, sched schedule) (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	u := &upstream{
		URL:     "http://" + ln.Addr().String() + "/price",
		start:   start,
		sched:   sched,
		closing: make(chan struct{}),
		served:  make(chan struct{}),
	}
	u.srv = &http.Server{Handler: u, ReadHeaderTimeout: 5 * time.Second}
	pprof.Do(context.Background(), pprof.Labels("client", "upstream"), func(context.Context) {
		go func() {
			defer close(u.served)
			if err := u.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				u.err = err
			}
		}()
	})
	return u, nil
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status := http.StatusOK
	var delay time.Duration
	switch u.sched.at(time.Since(u.start)) {
	case healthy:
		delay = time.Millisecond + rand.N(2*time.Millisecond)
	case degraded:
		delay = 20*time.Millisecond + rand.N(380*time.Millisecond)
		if rand.N(10) < 4 {
			status = http.StatusInternalServerError
		}
	case down:
		// Hang: keep the connection open and never answer, as a server
		// does when its own dependency is stuck.
		select {
		case <-r.Context().Done():
		case <-u.closing:
		}
		return
	case recovering:
		delay = 2*time.Millisecond + rand.N(6*time.Millisecond)
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	case <-u.closing:
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status == http.StatusOK {
		_, _ = fmt.Fprintln(w, `{"sku":"B-42","price":10.25}`)
		return
	}
	_, _ = fmt.Fprintln(w, `{"error":"internal"}`)
}

// Close releases every hanging handler, closes the listener and every
// connection, waits for Serve to return and returns its error, if it
// stopped for any other reason than Close.
func (u *upstream) Close() error {
	close(u.closing)
	_ = u.srv.Close()
	<-u.served
	if u.err != nil {
		return fmt.Errorf("upstream: %w", u.err)
	}
	return nil
}
