package bench

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	fsratelimiter "github.com/failsafe-go/failsafe-go/ratelimiter"
	"golang.org/x/time/rate"

	"github.com/go-resilience/resilience/ratelimit"
)

// Rate limit scenarios: one call through a rate limiter with tokens to
// spare (RateLimit, RateLimitParallel), and one refused because none is
// left (RateLimitRefused): the path a caller over its limit takes.
//
// lib=bare is golang.org/x/time/rate's Limiter.Allow by hand, which this
// module's limiter is built on. failsafe-go's bursty rate limiter runs
// through its executor.

// plenty is a rate no run uses up.
const plenty = 1e12

func BenchmarkRateLimit(b *testing.B) {
	run(b, context.Background(), rateLimitLibs(b, false))
}

func BenchmarkRateLimitParallel(b *testing.B) {
	runParallel(b, context.Background(), rateLimitLibs(b, false))
}

func BenchmarkRateLimitRefused(b *testing.B) {
	run(b, context.Background(), rateLimitLibs(b, true))
}

func BenchmarkRateLimitRefusedParallel(b *testing.B) {
	runParallel(b, context.Background(), rateLimitLibs(b, true))
}

var errRateLimited = errors.New("bench: rate limited")

func rateLimitLibs(tb testing.TB, refused bool) []lib {
	// Refused: one token a day, taken below, so every call in the run is
	// refused. Otherwise: tokens faster than any run can take them.
	r, burst := plenty, 1<<30
	period := time.Hour
	if refused {
		r, burst = 1.0/(24*3600), 1
	}
	ours, err := ratelimit.New(ratelimit.Config{Name: "bench", Rate: r, Burst: burst})
	if err != nil {
		tb.Fatal(err)
	}
	bare := rate.NewLimiter(rate.Limit(r), burst)
	fs := fsratelimiter.NewBursty[any](uint(min(r*period.Seconds(), 1<<62)), period)
	if refused {
		fs = fsratelimiter.NewBursty[any](1, 24*time.Hour)
	}
	ex := failsafe.With[any](fs)
	libs := []lib{
		{name: "resilience", op: func(ctx context.Context) error { return ours.Execute(ctx, work) }},
		{name: "bare", op: func(ctx context.Context) error {
			if !bare.Allow() {
				return errRateLimited
			}
			return work(ctx)
		}},
		{name: "failsafe", op: func(ctx context.Context) error {
			return ex.Run(func() error { return work(ctx) })
		}},
	}
	if refused {
		_ = ours.Execute(context.Background(), work)
		bare.Allow()
		_ = ex.Run(func() error { return nil })
		libs[0].want, libs[1].want, libs[2].want = ratelimit.ErrLimited, errRateLimited, fsratelimiter.ErrExceeded
	}
	return libs
}

// TestLimitScenariosDoWhatTheyMeasure checks the adaptive and rate limit
// scenarios as TestEveryLibraryDoesWhatItsScenarioMeasures checks the
// others: every library once, doing what the scenario means to measure.
func TestLimitScenariosDoWhatTheyMeasure(t *testing.T) {
	bg := context.Background()
	for _, sc := range []struct {
		name string
		libs func(testing.TB) []lib
		want []string
	}{
		{"Adaptive", adaptiveLibs, []string{"resilience", "bulkhead", "failsafe", "failsafe-permit"}},
		{"RateLimit", func(tb testing.TB) []lib { return rateLimitLibs(tb, false) }, []string{"resilience", "bare", "failsafe"}},
		{"RateLimitRefused", func(tb testing.TB) []lib { return rateLimitLibs(tb, true) }, []string{"resilience", "bare", "failsafe"}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			var names []string
			for _, l := range sc.libs(t) {
				names = append(names, l.name)
				if err := expect(l.op(bg), l.want); err != nil {
					t.Errorf("%s: %v", l.name, err)
				}
			}
			if len(names) != len(sc.want) {
				t.Fatalf("libraries %v, want %v", names, sc.want)
			}
			for i := range names {
				if names[i] != sc.want[i] {
					t.Fatalf("libraries %v, want %v", names, sc.want)
				}
			}
		})
	}
}
