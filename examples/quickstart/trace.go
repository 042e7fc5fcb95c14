package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// tracesPerSecond bounds how many span lines -trace prints a second, so
// that the table stays readable; further spans with events are counted
// and reported on the next line printed.
const tracesPerSecond = 3

// spanPrinter is the -trace exporter: it prints one line for each ended
// span that carries events (a refused, retried, timed out or fallback-
// answered request), at most tracesPerSecond a second, with its trace id,
// span id, name, status and events. Spans without events (requests the
// policies let through untouched) are not printed. Safe for concurrent
// use.
type spanPrinter struct {
	w     io.Writer
	start time.Time

	mu      sync.Mutex
	second  time.Duration // the second of the run the count is for
	printed int           // lines printed in that second
	skipped int           // spans with events not printed since the last line
}

func (p *spanPrinter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range spans {
		if len(s.Events()) == 0 {
			continue
		}
		if sec := time.Since(p.start).Truncate(time.Second); sec != p.second {
			p.second, p.printed = sec, 0
		}
		if p.printed >= tracesPerSecond {
			p.skipped++
			continue
		}
		p.printed++
		fmt.Fprintln(p.w, spanLine(s, p.skipped))
		p.skipped = 0
	}
	return nil
}

func (p *spanPrinter) Shutdown(context.Context) error { return nil }

// spanLine formats s as
//
//	trace <trace id> span <span id> <name> <status>: <event> k=v ..., <event> ...
//
// followed by "(+n not shown)" when n spans with events were left out
// before it.
func spanLine(s sdktrace.ReadOnlySpan, skipped int) string {
	var b strings.Builder
	sc := s.SpanContext()
	fmt.Fprintf(&b, "  trace %s span %s %s %s:", sc.TraceID(), sc.SpanID(), s.Name(), s.Status().Code)
	for i, e := range s.Events() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(" " + e.Name)
		for _, kv := range e.Attributes {
			if kv.Key == "resilience.policy" || kv.Key == "resilience.key" {
				continue // the same for every event of the demo's client
			}
			v := kv.Value.String()
			if kv.Key == "resilience.delay" { // seconds
				v = time.Duration(kv.Value.AsFloat64() * float64(time.Second)).Round(100 * time.Microsecond).String()
			}
			fmt.Fprintf(&b, " %s=%s", strings.TrimPrefix(string(kv.Key), "resilience."), v)
		}
	}
	if skipped > 0 {
		fmt.Fprintf(&b, " (+%d not shown)", skipped)
	}
	return b.String()
}

// syncWriter serializes writes to w: with -trace, span lines are printed
// from the request goroutines while run prints the table.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
