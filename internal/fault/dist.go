package fault

import (
	"math/rand/v2"
	"time"
)

// A Dist is a latency distribution for Delay. Draws come from the server's
// seeded generator, so they repeat from run to run.
type Dist interface {
	draw(rng *rand.Rand) time.Duration
}

type fixed time.Duration

func (f fixed) draw(*rand.Rand) time.Duration { return time.Duration(f) }

// Fixed is always d (a negative d is 0). It draws nothing.
func Fixed(d time.Duration) Dist { return fixed(max(d, 0)) }

type uniform struct{ lo, hi time.Duration }

func (u uniform) draw(rng *rand.Rand) time.Duration {
	if u.hi <= u.lo {
		return u.lo
	}
	return u.lo + time.Duration(rng.Int64N(int64(u.hi-u.lo)+1))
}

// Uniform is uniform over [lo, hi] (negative bounds are 0; hi below lo is
// lo). It draws once.
func Uniform(lo, hi time.Duration) Dist {
	lo, hi = max(lo, 0), max(hi, 0)
	return uniform{lo, max(hi, lo)}
}

type tail struct {
	p          float64
	fast, slow Dist
}

func (t tail) draw(rng *rand.Rand) time.Duration {
	if rng.Float64() < t.p {
		return t.slow.draw(rng)
	}
	return t.fast.draw(rng)
}

// SlowTail is slow for a fraction p of draws and fast for the others: a
// service that is mostly quick with a slow tail, such as
// SlowTail(0.01, Uniform(1ms, 5ms), Fixed(300ms)). p is clamped to [0, 1];
// a nil fast or slow is Fixed(0). It draws once, then once more from the
// chosen distribution.
func SlowTail(p float64, fast, slow Dist) Dist {
	if fast == nil {
		fast = Fixed(0)
	}
	if slow == nil {
		slow = Fixed(0)
	}
	if !(p >= 0) {
		p = 0
	}
	return tail{min(p, 1), fast, slow}
}
