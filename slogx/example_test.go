package slogx_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/slogx"
)

func Example() {
	// A text logger without the time, so that the output is the same on
	// every run.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
	logs, err := slogx.New(slogx.Config{Logger: logger, Interval: time.Minute})
	if err != nil {
		panic(err)
	}
	brk, err := breaker.New(breaker.Config{Name: "payments", ConsecutiveFailures: 1, OpenTimeout: time.Minute, Observer: logs})
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	_ = brk.Execute(ctx, func(context.Context) error { return errors.New("502 from payments") })
	// A storm of refusals: the first is logged, the other 999 counted, and
	// their number given with the next refusal logged, a minute later.
	for range 1000 {
		_ = brk.Execute(ctx, func(context.Context) error { return nil })
	}
	// Output:
	// level=WARN msg="breaker state changed" policy=payments from=closed to=open
	// level=WARN msg="call refused" policy=payments err="breaker: open (name \"payments\")"
}
