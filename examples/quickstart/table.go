package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

func printHeader(w io.Writer, cfg config, p policy, url string, s schedule) {
	fmt.Fprintf(w, "A flaky upstream at %s, called by two clients with the same traffic: %d requests/s each, for %v.\n", url, cfg.Rate, cfg.Duration)
	fmt.Fprintf(w, "  protected    http.Client over httpx.Transport: up to %d attempts (retries within a budget of 20%% of calls, %d at once),\n", p.Attempts, p.MinRetries)
	fmt.Fprintf(w, "               each through a breaker (trips at %.0f%% failures over %v), a bulkhead of %d and a timeout of %v;\n", 100*p.FailureRate, dur(p.Window), p.MaxConcurrent, dur(p.Timeout))
	fmt.Fprintf(w, "               fallback: a cached price for refusals and timeouts\n")
	fmt.Fprintf(w, "  unprotected  http.Client{Timeout: 10s}\n")
	fmt.Fprintf(w, "Upstream:")
	for ph := range numPhases {
		from, to := s.bounds(ph)
		sep := ","
		if ph == numPhases-1 {
			sep = "\n"
		}
		fmt.Fprintf(w, " %s %v-%v%s", ph, dur(from), dur(to), sep)
	}
	fmt.Fprintf(w, "  (degraded: 20-400ms, 40%% 500s; down: accepts requests, never answers)\n")
	if cfg.Listen != "" {
		fmt.Fprintf(w, "Serving /metrics, /health and the dashboard at http://%s/resilience/ while it runs.\n", cfg.Listen)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Each row counts the requests that finished in the interval that ends at \"time\":\n")
	fmt.Fprintf(w, "  reqs = ok + failed + refused; ok: a 200 from the upstream (after retries); failed: a 5xx or a\n")
	fmt.Fprintf(w, "  timeout; refused: by the breaker or bulkhead, at once; fallback: of those, answered with the cached\n")
	fmt.Fprintf(w, "  price; in-flight: started and not finished when the row is taken; p50, p99: latency of the row's\n")
	fmt.Fprintf(w, "  requests; goroutines: the client's own, its connections' included. \"-\": not applicable.\n")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%6s  %-10s  %-11s %5s %5s %6s %7s %8s  %-9s %9s %7s %7s %10s\n",
		"time", "phase", "client", "reqs", "ok", "failed", "refused", "fallback", "breaker", "in-flight", "p50", "p99", "goroutines")
}

func printRow(w io.Writer, r row) {
	for i, c := range r.Clients {
		at, ph := dur(r.At), r.Phase.String()
		if i > 0 {
			at, ph = "", ""
		}
		refused, fb, state := fmt.Sprint(c.Refused), fmt.Sprint(c.Fallbacks), c.Breaker
		if c.Breaker == "" { // no library, nothing to refuse or fall back on
			refused, fb, state = "-", "-", "-"
		}
		fmt.Fprintf(w, "%6s  %-10s  %-11s %5d %5d %6d %7s %8s  %-9s %9d %7s %7s %10d\n",
			at, ph, name(i), c.Done(), c.OK, c.Failed, refused, fb, state, c.InFlight, latency(c.P50, c.Done()), latency(c.P99, c.Done()), c.Goroutines)
	}
}

// printTransitions prints the breaker's changes of state; a run of failed
// probes (open -> half-open -> open ...) is printed as one line.
func printTransitions(w io.Writer, ts []transition) {
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		j := i
		for j+1 < len(ts) && probing(ts[j+1]) && probing(t) {
			j++
		}
		if j-i >= 2 {
			fmt.Fprintf(w, "%6s  breaker probing: %d probes failed (open <-> half-open) until %v\n", dur(t.At), (j-i+1)/2, dur(ts[j].At))
			i = j
			continue
		}
		fmt.Fprintf(w, "%6s  breaker %s -> %s\n", dur(t.At), t.From, t.To)
	}
}

// probing reports whether t is a step of a failed probe: the open breaker
// letting a probe through, or the probe failing.
func probing(t transition) bool {
	return t.From == "open" && t.To == "half-open" || t.From == "half-open" && t.To == "open"
}

func printSummary(w io.Writer, cfg config, s schedule, sum summary) {
	if len(sum.Rows) == 0 {
		return
	}
	last := sum.Rows[len(sum.Rows)-1].At
	fmt.Fprintf(w, "\nSummary after %v (%d requests/s to each client; latency of every request, those still waiting\nat the end at how long they had waited):\n", dur(last), cfg.Rate)
	fmt.Fprintf(w, "  %-11s %8s %6s %6s %7s %9s %7s %7s %7s %14s  %s\n",
		"client", "requests", "ok", "failed", "refused", "fallbacks", "p50", "p99", "max", "peak in-flight", "peak goroutines by phase")
	for i, c := range sum.Clients {
		refused, fb := fmt.Sprint(c.Refused), fmt.Sprint(c.Fallbacks)
		if i == 1 {
			refused, fb = "-", "-"
		}
		var g []string
		for ph, n := range c.PeakGoroutines {
			g = append(g, fmt.Sprintf("%s %d", phase(ph), n))
		}
		fmt.Fprintf(w, "  %-11s %8d %6d %6d %7s %9s %7s %7s %7s %14d  %s\n",
			c.Name, c.Requests, c.OK, c.Failed, refused, fb, dur(c.P50), dur(c.P99), dur(c.Max), c.PeakInFlight, strings.Join(g, ", "))
	}
	p, u := sum.Clients[0], sum.Clients[1]
	fmt.Fprintf(w, "\nReal successes (a 200 from the upstream) of the requests started in each phase, protected / unprotected:\n ")
	for ph := range numPhases {
		fmt.Fprintf(w, " %s %d of %d / %d of %d", ph, p.OKIn[ph], p.StartedIn[ph], u.OKIn[ph], u.StartedIn[ph])
		if ph < numPhases-1 {
			fmt.Fprintf(w, ",")
		}
	}
	fmt.Fprintln(w)
	from, to := s.bounds(down)
	fmt.Fprintf(w, "\nThe breaker opened %s and closed %s; it ended %s.\n", times(sum.Opened), times(sum.Closed), sum.Final)
	fmt.Fprintf(w, "While the upstream was down (%v-%v), the protected client refused %d requests at once and answered\n", dur(from), dur(to), p.RefusedIn[down])
	fmt.Fprintf(w, "them with the cached price; its goroutines peaked at %d over the run.\n", p.Peak())
	fmt.Fprintf(w, "The unprotected client waited: %d requests were still hanging at the end (the oldest for %v),\n", u.Cut, dur(u.OldestCut))
	fmt.Fprintf(w, "and its goroutines went from %d while healthy to %d.\n", u.PeakGoroutines[healthy], u.Peak())
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func name(i int) string {
	if i == 0 {
		return "protected"
	}
	return "unprotected"
}

// latency prints a percentile, or "-" when no request finished.
func latency(d time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return dur(d)
}

// dur prints d compactly: 850µs, 12ms, 1.5s.
func dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d < 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
