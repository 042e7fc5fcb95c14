package fault

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

func decideAt(f Fault, rng *rand.Rand, elapsed time.Duration) action {
	return f.decide(&decider{rng: rng, elapsed: elapsed})
}

func TestRateHitsItsFractionWithinBoundsForAFixedSeed(t *testing.T) {
	const n = 10000
	for _, p := range []float64{0, 0.01, 0.3, 0.5, 0.9, 1} {
		rng := rand.New(rand.NewPCG(42, 42))
		f := Rate(p, Status(503), OK())
		hits := 0
		for range n {
			if decideAt(f, rng, 0).status == 503 {
				hits++
			}
		}
		// Binomial: 4 standard deviations, at least 1 request of slack.
		slack := 4*math.Sqrt(n*p*(1-p)) + 1
		assert.InDelta(t, p*n, float64(hits), slack, "p=%v", p)
	}
}

func TestTheSameSeedDrawsTheSameSequence(t *testing.T) {
	f := Delay(SlowTail(0.2, Uniform(time.Millisecond, 5*time.Millisecond), Fixed(time.Second)), Rate(0.5, Status(500), OK()))
	draw := func(seed uint64) []action {
		c := newCore("", seed, f)
		out := make([]action, 200)
		for i := range out {
			out[i] = c.next()
		}
		return out
	}
	assert.Equal(t, draw(7), draw(7))
	assert.NotEqual(t, draw(7), draw(8))
}

func TestASeedIsDerivedFromTheTestName(t *testing.T) {
	a, b, c := newCore("TestA", 0, nil), newCore("TestA", 0, nil), newCore("TestB", 0, nil)
	assert.NotZero(t, a.Seed())
	assert.Equal(t, a.Seed(), b.Seed())
	assert.NotEqual(t, a.Seed(), c.Seed())
	assert.Equal(t, uint64(9), newCore("TestA", 9, nil).Seed())
}

func TestDistributionsStayInTheirBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lo, hi := 10*time.Millisecond, 20*time.Millisecond
	u := Uniform(lo, hi)
	sawLow, sawHigh := false, false
	for range 5000 {
		d := u.draw(rng)
		require.GreaterOrEqual(t, d, lo)
		require.LessOrEqual(t, d, hi)
		sawLow = sawLow || d < lo+time.Millisecond
		sawHigh = sawHigh || d > hi-time.Millisecond
	}
	assert.True(t, sawLow && sawHigh, "uniform covers its range")

	assert.Equal(t, 5*time.Millisecond, Fixed(5*time.Millisecond).draw(rng))
	assert.Equal(t, time.Duration(0), Fixed(-time.Second).draw(rng))
	assert.Equal(t, lo, Uniform(lo, lo/2).draw(rng), "hi below lo is lo")

	tail := SlowTail(0.1, Fixed(time.Millisecond), Fixed(time.Second))
	slow := 0
	for range 10000 {
		if tail.draw(rng) == time.Second {
			slow++
		}
	}
	assert.InDelta(t, 1000, slow, 4*math.Sqrt(10000*0.1*0.9)+1)
}

func TestDelayAddsItsLatencyToWhatFollows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	a := decideAt(Delay(Fixed(time.Second), Delay(Fixed(time.Millisecond), Hang())), rng, 0)
	assert.Equal(t, time.Second+time.Millisecond, a.delay)
	assert.Equal(t, kindHang, a.kind)
	a = decideAt(Delay(nil, nil), rng, 0)
	assert.Equal(t, action{kind: kindAnswer, status: 200, code: codes.OK}, a)
}

func TestScriptPlaysItsPhasesAndHoldsTheLast(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := Script(Phase{100 * time.Millisecond, Status(500)}, Phase{50 * time.Millisecond, Hang()}, Phase{10 * time.Millisecond, OK()})
	for _, tc := range []struct {
		at   time.Duration
		kind kind
		code int
	}{
		{0, kindAnswer, 500},
		{99 * time.Millisecond, kindAnswer, 500},
		{100 * time.Millisecond, kindHang, 0},
		{149 * time.Millisecond, kindHang, 0},
		{150 * time.Millisecond, kindAnswer, 200},
		{time.Hour, kindAnswer, 200},
	} {
		a := decideAt(s, rng, tc.at)
		assert.Equal(t, tc.kind, a.kind, "at %v", tc.at)
		assert.Equal(t, tc.code, a.status, "at %v", tc.at)
	}
}

func TestFlapCyclesUpAndDown(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	f := Flap(100*time.Millisecond, OK(), 50*time.Millisecond, Status(503))
	for _, tc := range []struct {
		at   time.Duration
		want int
	}{
		{0, 200}, {99 * time.Millisecond, 200}, {100 * time.Millisecond, 503}, {149 * time.Millisecond, 503},
		{150 * time.Millisecond, 200}, {260 * time.Millisecond, 503}, {10*150*time.Millisecond + time.Millisecond, 200},
	} {
		assert.Equal(t, tc.want, decideAt(f, rng, tc.at).status, "at %v", tc.at)
	}
}

func TestOddArgumentsAreNormalisedNotPanicked(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	assert.NotPanics(t, func() {
		decideAt(Script(), rng, 0)
		decideAt(Cycle(Phase{0, nil}, Phase{-time.Second, nil}), rng, time.Second)
		decideAt(Rate(math.NaN(), nil, nil), rng, 0)
		decideAt(Rate(7, Hang(), nil), rng, 0)
		decideAt(Reset(-1), rng, 0)
		decideAt(SlowBody(-1, -time.Second), rng, 0)
		decideAt(HangMidBody(-3), rng, 0)
		decideAt(Delay(SlowTail(math.Inf(1), nil, nil), nil), rng, 0)
	})
	assert.Equal(t, kindHang, decideAt(Rate(7, Hang(), nil), rng, 0).kind, "p above 1 is 1")
	assert.Equal(t, 0, decideAt(Reset(-1), rng, 0).n)
}

func TestStatusAndCodeMapBothWays(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		f      Fault
		status int
		code   codes.Code
	}{
		{Status(503), 503, codes.Unavailable},
		{Status(429), 429, codes.Unavailable},
		{Status(500), 500, codes.Unknown},
		{Status(404), 404, codes.Unimplemented},
		{Status(204), 204, codes.OK},
		{Code(codes.Unavailable), 503, codes.Unavailable},
		{Code(codes.ResourceExhausted), 429, codes.ResourceExhausted},
		{Code(codes.DeadlineExceeded), 504, codes.DeadlineExceeded},
		{Code(codes.NotFound), 404, codes.NotFound},
		{Code(codes.Internal), 500, codes.Internal},
		{RetryAfter(503, "2"), 503, codes.Unavailable},
	} {
		a := decideAt(tc.f, rng, 0)
		assert.Equal(t, tc.status, a.status)
		assert.Equal(t, tc.code, a.code)
	}
}
