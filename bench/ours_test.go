package bench

import (
	"context"
	"net/http"
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/timeout"
)

// The rows of this module in every scenario, named lib=resilience, each
// policy with its defaults but for the sizes every library shares.
//
// The chain scenarios have a second row, lib=resilience-exec: the same
// chain run with Execute and the fallback written as an if, without the
// typed result of fallback.Do (resilience.Do allocates one small object per
// call to carry it). It shows what the policies cost apart from Do.

func newBreaker(tb testing.TB) *breaker.Breaker {
	brk, err := breaker.New(breaker.Config{Name: "bench", OpenTimeout: openFor})
	if err != nil {
		tb.Fatal(err)
	}
	return brk
}

func newBulkhead(tb testing.TB) *bulkhead.Bulkhead {
	bh, err := bulkhead.New(bulkhead.Config{Name: "bench", MaxConcurrent: maxConcurrent})
	if err != nil {
		tb.Fatal(err)
	}
	return bh
}

func newTimeout(tb testing.TB) *timeout.Timeout {
	t, err := timeout.New(timeout.Config{Name: "bench", Timeout: policyTimeout})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func ourBreakerLibs(tb testing.TB, open bool) []lib {
	brk := newBreaker(tb)
	l := lib{name: "resilience", op: func(ctx context.Context) error { return brk.Execute(ctx, work) }}
	if open {
		for range tripCalls {
			_ = brk.Execute(context.Background(), func(context.Context) error { return failing() })
		}
		l.want = breaker.ErrOpen
	}
	return []lib{l}
}

func ourBulkheadLibs(tb testing.TB) []lib {
	bh := newBulkhead(tb)
	return []lib{{name: "resilience", op: func(ctx context.Context) error { return bh.Execute(ctx, work) }}}
}

func ourTimeoutLibs(tb testing.TB) []lib {
	t := newTimeout(tb)
	return []lib{{name: "resilience", op: func(ctx context.Context) error { return t.Execute(ctx, work) }}}
}

// ourChain is the full chain of this module, composed once: fallback →
// breaker → bulkhead → timeout, and the breaker, to trip it.
func ourChain(tb testing.TB) (resilience.Policy, *breaker.Breaker) {
	brk := newBreaker(tb)
	return resilience.Chain(brk, newBulkhead(tb), newTimeout(tb)), brk
}

func ourChainLibs(tb testing.TB, _ context.Context, mode chainMode) []lib {
	want := wantValue(mode)
	fb := fallback.Value(fallbackValue)

	p, brk := ourChain(tb)
	if mode == chainOpen {
		tripChain(tb, "resilience",
			func() { _, _ = fallback.Do(context.Background(), p, failingInt, fb) },
			func() bool { return brk.State() == breaker.Open })
	}
	do := lib{name: "resilience", op: func(ctx context.Context) error {
		v, err := fallback.Do(ctx, p, workInt, fb)
		return answer(v, err, want)
	}}

	pe, brke := ourChain(tb)
	if mode == chainOpen {
		tripChain(tb, "resilience-exec",
			func() { _ = pe.Execute(context.Background(), func(context.Context) error { return failing() }) },
			func() bool { return brke.State() == breaker.Open })
	}
	exec := lib{name: "resilience-exec", op: func(ctx context.Context) error {
		v := 1
		if err := pe.Execute(ctx, work); err != nil {
			if ctx.Err() != nil {
				return err
			}
			v = fallbackValue
		}
		return answer(v, nil, want)
	}}
	return []lib{do, exec}
}

func ourHTTPLibs(tb testing.TB, url string) []lib {
	t, err := httpx.New(httpx.Config{
		Base:     newBase(tb),
		Breaker:  breaker.KeyedConfig{Config: breaker.Config{OpenTimeout: openFor}},
		Bulkhead: bulkhead.Config{MaxConcurrent: maxConcurrent},
		Timeout:  policyTimeout,
	})
	if err != nil {
		tb.Fatal(err)
	}
	client := &http.Client{Transport: t}
	return []lib{{name: "resilience", op: func(ctx context.Context) error { return get(ctx, url, client.Do) }}}
}
