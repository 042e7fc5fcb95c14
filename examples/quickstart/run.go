package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/dashboard"
	"github.com/go-resilience/resilience/health"
	"github.com/go-resilience/resilience/metrics"
	"github.com/go-resilience/resilience/otelx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// config is what the flags set.
type config struct {
	Duration time.Duration // how long the traffic runs; at least 2s
	Rate     int           // requests per second sent to each client, 1 to 500
	Listen   string        // address serving /metrics, /health and the dashboard while it runs; "": none
	Interval time.Duration // time between two rows of the table; zero: 1s
	Trace    bool          // print the protected client's spans that carry events (see spanPrinter)
}

func (c config) validate() error {
	switch {
	case c.Duration < 2*time.Second:
		return fmt.Errorf("-duration must be at least 2s, got %v", c.Duration)
	case c.Rate < 1 || c.Rate > 500:
		return fmt.Errorf("-rate must be in [1, 500], got %d", c.Rate)
	case c.Interval < 0:
		return fmt.Errorf("interval must be >= 0, got %v", c.Interval)
	}
	return nil
}

// A row is one line of the table for each client.
type row struct {
	At      time.Duration
	Phase   phase
	Clients [2]clientRow // protected, unprotected
}

type clientRow struct {
	counts
	Breaker    string // the breaker's state; "" for the unprotected client
	InFlight   int
	P50, P99   time.Duration // of the requests finished in the interval
	Goroutines int
}

// A transition is a change of the protected client's breaker state.
type transition struct {
	At       time.Duration
	From, To string
}

// summary is what a run saw.
type summary struct {
	Rows        []row
	Transitions []transition
	Opened      int // transitions into open
	Closed      int // transitions into closed
	Final       string
	Clients     [2]clientSummary // protected, unprotected
}

type clientSummary struct {
	Name string
	counts
	FailedIn, RefusedIn [numPhases]int
	OKIn                [numPhases]int // real successes (not the cached price), by the phase the request started in
	StartedIn           [numPhases]int // requests started in each phase
	P50, P99, Max       time.Duration  // of every request, cut ones at how long they had waited
	PeakInFlight        int
	PeakGoroutines      [numPhases]int // the most goroutines seen in a row of each phase
	Cut                 int            // requests still waiting when the run ended
	OldestCut           time.Duration  // how long the oldest of them had waited
}

// Peak is the most goroutines seen in any row.
func (c clientSummary) Peak() int {
	m := 0
	for _, n := range c.PeakGoroutines {
		m = max(m, n)
	}
	return m
}

// run starts the flaky upstream, drives cfg.Rate requests per second
// through a protected and an unprotected client for cfg.Duration, prints a
// row per client every cfg.Interval and a summary to w, and returns the
// summary. It stops early, with the summary so far, when ctx ends. Before
// it returns, every goroutine it started has ended and every connection
// is closed.
func run(ctx context.Context, cfg config, w io.Writer) (sum summary, err error) {
	if err := cfg.validate(); err != nil {
		return sum, err
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	start := time.Now()
	sched := schedule{total: cfg.Duration}
	up, err := startUpstream(start, sched)
	if err != nil {
		return sum, err
	}
	defer func() { err = errors.Join(err, up.Close()) }()

	// Every policy reports to the Prometheus collector and the dashboard's
	// recorder, and to the watcher that prints the breaker's transitions.
	reg := prometheus.NewRegistry()
	m, err := metrics.New(metrics.Config{})
	if err != nil {
		return sum, err
	}
	if err := reg.Register(m); err != nil {
		return sum, err
	}
	rec := &dashboard.Recorder{}
	watch := &watcher{start: start, next: both{m, rec}}

	// With -trace, every protected request gets a span of its own, and
	// otelx puts the policies' decisions on it as span events before
	// passing each event on to the watcher.
	var obs resilience.Observer = watch
	var tp *sdktrace.TracerProvider
	if cfg.Trace {
		sw := &syncWriter{w: w}
		w = sw
		tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(&spanPrinter{w: sw, start: start}))
		defer func() { err = errors.Join(err, tp.Shutdown(context.Background())) }()
		if obs, err = otelx.New(otelx.Config{Next: watch}); err != nil {
			return sum, err
		}
	}

	pol := policyFor(cfg.Duration)
	prot, err := newProtected(pol, obs, up.URL)
	if err != nil {
		return sum, err
	}
	if tp != nil {
		prot.tracer = tp.Tracer("quickstart")
	}
	unprot := newUnprotected()
	clients := [2]*client{prot, unprot}
	defer func() {
		for _, c := range clients {
			c.http.CloseIdleConnections()
		}
	}()

	if cfg.Listen != "" {
		addr, stop, err := serveOps(cfg.Listen, reg, prot, rec)
		if err != nil {
			return sum, err
		}
		defer stop()
		cfg.Listen = addr // the port chosen, for ":0"
	}

	printHeader(w, cfg, pol, up.URL, sched)

	traffic, stopTraffic := context.WithCancel(ctx)
	defer stopTraffic()
	var wg sync.WaitGroup
	for _, c := range clients {
		c.drive(traffic, cfg.Rate, up.URL, sched, start, &wg)
	}

	var peaks [2][numPhases]int
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
rows:
	for i := 1; ; i++ {
		at := min(time.Duration(i)*cfg.Interval, cfg.Duration)
		timer.Reset(time.Until(start.Add(at)))
		select {
		case <-ctx.Done():
			break rows
		case <-timer.C:
		}
		r := takeRow(at, sched.at(at-1), clients)
		for i, cr := range r.Clients {
			peaks[i][r.Phase] = max(peaks[i][r.Phase], cr.Goroutines)
		}
		sum.Rows = append(sum.Rows, r)
		printTransitions(w, watch.take())
		printRow(w, r)
		if at == cfg.Duration {
			break
		}
	}

	// The end: stop sending, cut the requests still waiting, and wait for
	// every request goroutine to return.
	stopTraffic()
	wg.Wait()
	printTransitions(w, watch.take())

	sum.Transitions, sum.Opened, sum.Closed = watch.totals()
	sum.Final = prot.breaker.State().String()
	for i, c := range clients {
		sum.Clients[i] = c.summarize()
		sum.Clients[i].PeakGoroutines = peaks[i]
	}
	printSummary(w, cfg, sched, sum)
	return sum, nil
}

// takeRow reads both clients at the end of an interval.
func takeRow(at time.Duration, ph phase, clients [2]*client) row {
	g := goroutinesByClient()
	r := row{At: at, Phase: ph}
	for i, c := range clients {
		cnt, lat := c.rec.take()
		cr := clientRow{
			counts:     cnt,
			InFlight:   int(c.rec.inFlight.Load()),
			P50:        percentile(lat, 0.50),
			P99:        percentile(lat, 0.99),
			Goroutines: g[c.name],
		}
		if c.breaker != nil {
			cr.Breaker = c.breaker.State().String()
		}
		r.Clients[i] = cr
	}
	return r
}

func (c *client) summarize() clientSummary {
	r := &c.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	s := clientSummary{
		Name:         c.name,
		counts:       r.total,
		FailedIn:     r.failedIn,
		RefusedIn:    r.refusedIn,
		OKIn:         r.okIn,
		StartedIn:    r.startedIn,
		PeakInFlight: int(r.peakFlight),
		Cut:          r.cut,
		OldestCut:    r.oldestCut,
	}
	s.P50 = percentile(r.all, 0.50)
	s.P99 = percentile(r.all, 0.99)
	s.Max = percentile(r.all, 1)
	return s
}

// serveOps serves /metrics (the private registry), /health (the protected
// client's breaker and bulkhead) and the dashboard at /resilience/ (the
// same, with the rates rec was told) on addr, until stop is called. It
// returns the address it listens on, with "localhost" for a host left out.
func serveOps(addr string, reg *prometheus.Registry, prot *client, rec *dashboard.Recorder) (listening string, stop func(), err error) {
	var bulkheads []*bulkhead.Bulkhead
	for _, b := range prot.transport.Bulkheads() {
		bulkheads = append(bulkheads, b)
	}
	checker, err := health.New(health.Config{
		Sets:      []*breaker.Set{prot.transport.Breakers()},
		Bulkheads: bulkheads,
	})
	if err != nil {
		return "", nil, err
	}
	dash, err := dashboard.New(dashboard.Config{
		Title:     "quickstart",
		Recorder:  rec,
		Sets:      []*breaker.Set{prot.transport.Breakers()},
		Bulkheads: bulkheads,
	})
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /health", checker)
	mux.Handle("/resilience/", dash)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("-listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	srv.RegisterOnShutdown(dash.CloseStreams)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // returns ErrServerClosed once stop closes it
	}()
	return reachable(addr, ln.Addr()), func() {
		_ = srv.Close()
		<-done
	}, nil
}

// reachable returns the host:port to browse to for a listener asked for
// addr: addr's host (localhost when it was left out) and the port chosen.
func reachable(addr string, got net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		host = "localhost"
	}
	_, port, err := net.SplitHostPort(got.String())
	if err != nil {
		return got.String()
	}
	return net.JoinHostPort(host, port)
}

// both gives every event to two observers.
type both [2]resilience.Observer

func (b both) Observe(e resilience.Event) { b[0].Observe(e); b[1].Observe(e) }

// watcher forwards every event to next and keeps the breaker's
// transitions. Safe for concurrent use.
type watcher struct {
	start time.Time
	next  resilience.Observer

	mu             sync.Mutex
	all, pending   []transition
	opened, closed int
}

func (w *watcher) Observe(e resilience.Event) {
	w.next.Observe(e)
	if e.Kind != resilience.EventStateChange {
		return
	}
	t := transition{At: time.Since(w.start), From: e.From, To: e.To}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all = append(w.all, t)
	w.pending = append(w.pending, t)
	switch e.To {
	case "open":
		w.opened++
	case "closed":
		w.closed++
	}
}

// take returns the transitions since the last take.
func (w *watcher) take() []transition {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.pending
	w.pending = nil
	return p
}

func (w *watcher) totals() ([]transition, int, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all, w.opened, w.closed
}
