package bench

import (
	"context"
	"errors"
	"flag"
	"math/rand/v2"
	"testing"
	"time"
)

// The guarded call of every scenario: a cooperative call that does no work
// of its own, so what is measured is the policy around it. It reads the
// context it is given, as a real client would before starting a request.
func work(ctx context.Context) error { return ctx.Err() }

// workInt is work with a result, for the scenarios that flow a value
// through a fallback.
func workInt(ctx context.Context) (int, error) { return 1, ctx.Err() }

// The value a fallback answers with.
const fallbackValue = 42

// Settings shared by every library, chosen so that no scenario trips,
// refuses or times out by accident during a run.
const (
	// policyTimeout is each library's own timeout: far longer than any
	// call, and than the caller's deadline in ChainCallerDeadline.
	policyTimeout = 2 * time.Hour
	// callerTimeout is the caller's deadline in ChainCallerDeadline: earlier
	// than policyTimeout, later than the end of the run.
	callerTimeout = time.Hour
	// maxConcurrent is each bulkhead's size: more than the callers of a
	// parallel benchmark, so it never refuses one.
	maxConcurrent = 1 << 12
	// openFor is how long a tripped breaker stays open: longer than a run.
	openFor = time.Hour
)

var errDown = errors.New("dependency down")

// failing is a call that fails, used to trip breakers.
func failing() error { return errDown }

// A lib is one library's way of running a scenario: op runs one guarded
// call, built once outside the timed loop, and returns its error; want is
// the error op must return (errors.Is), nil for a success. It is checked
// before and after the timed loop, never inside it.
type lib struct {
	name string
	op   func(ctx context.Context) error
	want error
}

// order shuffles the order in which the libraries of a scenario run:
// run.sh passes a different seed to each run, so that no library always
// runs first, nor always right after the same other library (one that
// leaves garbage or goroutines behind slows the next). The same code was
// measured 5-7% slower as the first sub-benchmark of a scenario than as
// the third or fifth. 0 keeps the order of the code.
var order = flag.Uint64("order", 0, "shuffle each scenario's libraries with this seed (0: in the order of the code)")

// ordered returns libs in the order *order says.
func ordered(libs []lib) []lib {
	if *order == 0 {
		return libs
	}
	r := rand.New(rand.NewPCG(*order, *order))
	out := make([]lib, len(libs))
	for i, j := range r.Perm(len(libs)) {
		out[i] = libs[j]
	}
	return out
}

// run runs each library's op as a sub-benchmark named lib=NAME, serially,
// after checking once that the op does what the scenario means to measure.
func run(b *testing.B, ctx context.Context, libs []lib) {
	for _, l := range ordered(libs) {
		b.Run("lib="+l.name, func(b *testing.B) {
			if err := expect(l.op(ctx), l.want); err != nil {
				b.Fatalf("%s: before the run: %v", l.name, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = l.op(ctx)
			}
			b.StopTimer()
			if err := expect(l.op(ctx), l.want); err != nil {
				b.Fatalf("%s: after the run: %v", l.name, err)
			}
		})
	}
}

// runParallel is run with b.RunParallel: GOMAXPROCS goroutines share each
// library's policy.
func runParallel(b *testing.B, ctx context.Context, libs []lib) {
	for _, l := range ordered(libs) {
		b.Run("lib="+l.name, func(b *testing.B) {
			if err := expect(l.op(ctx), l.want); err != nil {
				b.Fatalf("%s: before the run: %v", l.name, err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = l.op(ctx)
				}
			})
			b.StopTimer()
			if err := expect(l.op(ctx), l.want); err != nil {
				b.Fatalf("%s: after the run: %v", l.name, err)
			}
		})
	}
}

// expect reports nil when err is want (errors.Is; want nil means success),
// and an error saying what happened otherwise.
func expect(err, want error) error {
	if want == nil {
		return err
	}
	if errors.Is(err, want) {
		return nil
	}
	return &unexpected{want: want, got: err}
}

type unexpected struct{ want, got error }

func (e *unexpected) Error() string {
	if e.got == nil {
		return "want " + e.want.Error() + ", got success"
	}
	return "want " + e.want.Error() + ", got " + e.got.Error()
}

// errFull is the refusal of the bulkheads composed by hand.
var errFull = errors.New("bulkhead full")

// failingInt is failing with a result.
func failingInt(context.Context) (int, error) { return 0, errDown }
