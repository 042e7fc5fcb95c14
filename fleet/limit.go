package fleet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/step"
	"github.com/redis/go-redis/v9"
)

// LimitConfig configures a Limiter. Name and Rate have no usable zero
// value.
type LimitConfig struct {
	// Name names the limit across the fleet: every replica's Limiter of
	// the same Name (in the same Namespace) spends one bucket. It must be
	// non-empty.
	Name string

	// Rate is the fleet-wide rate, in calls per second. It must be
	// positive.
	Rate float64

	// Burst is how many calls the fleet may make at once above Rate, the
	// size of the shared bucket. Zero: Rate/10 (a tenth of a second's
	// worth), at least 1. Otherwise it must be at least Batch.
	Burst int

	// Batch is how many tokens a replica leases from the shared bucket at
	// a time. Larger batches cost fewer Redis commands per call; smaller
	// ones share the rate more evenly. Zero: Rate/50 (20ms worth), at
	// least 1 and at most Burst.
	Batch int

	// LeaseTTL is how long leased tokens stay spendable on the replica
	// that leased them: those left unspent then are dropped, so that no
	// replica saves tokens up for a burst the fleet never agreed to. It
	// is also the furthest ahead a replica reserves tokens when the
	// bucket is empty. Zero: 1s.
	LeaseTTL time.Duration

	// LocalRate is the rate this replica allows on its own while Redis
	// cannot be reached: its share of Rate. Zero: Rate/10, as for ten
	// replicas. Negative: none (every call is refused while Redis is
	// down).
	LocalRate float64
}

// ErrLimited is matched (errors.Is) by the error of a call a Limiter
// refused. It matches resilience.ErrRejected too. The error actually
// returned is a *LimitedError.
var ErrLimited error = &limitedSentinel{}

type limitedSentinel struct{}

func (*limitedSentinel) Error() string { return "fleet: rate limited" }
func (*limitedSentinel) Unwrap() error { return resilience.ErrRejected }

// A LimitedError is what a call refused by a Limiter returns. It matches
// ErrLimited and resilience.ErrRejected; RetryAfter says when the fleet
// expects tokens again. One is made per Limiter and shared by its
// refusals, so a refusal allocates nothing: treat it as read-only.
type LimitedError struct {
	// Name is LimitConfig.Name.
	Name string
	l    *Limiter
}

// Error returns `fleet: rate limited (name "...")`.
func (e *LimitedError) Error() string {
	return ErrLimited.Error() + " (name " + strconv.Quote(e.Name) + ")"
}

// Unwrap returns ErrLimited.
func (e *LimitedError) Unwrap() error { return ErrLimited }

// RetryAfter returns how long the fleet expects to be out of tokens, as
// last learnt from Redis; at least one token's time at Rate.
func (e *LimitedError) RetryAfter() time.Duration {
	return time.Duration(max(e.l.wait.Load(), int64(e.l.perToken)))
}

// A Limiter is a rate limit shared by the fleet: a token bucket in Redis
// (GCRA, in one script) from which each replica leases tokens in batches,
// in the background, so that a call only spends a local token. When the
// bucket is empty, a replica reserves its next batch (the script says
// when it is due) rather than asking again and again: replicas that want
// more than the rate queue in Redis, and every command moves a whole
// batch. Leased tokens unspent after LeaseTTL lapse. While Redis cannot be
// reached, the replica makes tokens of its own at LocalRate; when Redis
// restarts empty, the bucket starts full again.
//
// A Limiter is a resilience.Policy. Allow and Execute never wait and do no
// I/O. It is safe for concurrent use. Make one with Fleet.NewLimiter; it
// stops with the fleet.
type Limiter struct {
	tokens atomic.Int64
	want   chan struct{} // asks the leaser for tokens; never blocks a caller

	f        *Fleet
	name     string
	key      string
	perToken time.Duration
	burst    int
	batch    int64
	low      int64 // below this many local tokens, lease more
	leaseTTL time.Duration
	local    float64 // tokens per second while Redis is down
	rej      *LimitedError

	wait     atomic.Int64  // the fleet's last hint of when tokens come, ns
	commands atomic.Uint64 // Redis commands sent
	admitted atomic.Uint64
}

// NewLimiter returns a Limiter for the fleet-wide limit cfg.Name, with its
// leasing goroutine started, or an error naming the first invalid field of
// cfg (or ErrClosed). It does no Redis I/O itself.
func (f *Fleet) NewLimiter(cfg LimitConfig) (*Limiter, error) {
	bad := func(field, rule string, got any) error {
		return fmt.Errorf("fleet: LimitConfig.%s must be %s, got %v", field, rule, got)
	}
	switch {
	case cfg.Name == "":
		return nil, bad("Name", "non-empty", `""`)
	case !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 1):
		return nil, bad("Rate", "positive and finite", cfg.Rate)
	case cfg.Burst < 0:
		return nil, bad("Burst", "positive (or zero: Rate/10)", cfg.Burst)
	case cfg.Batch < 0:
		return nil, bad("Batch", "positive (or zero: Rate/50)", cfg.Batch)
	case cfg.Burst > 0 && cfg.Batch > cfg.Burst:
		return nil, bad("Batch", fmt.Sprintf("at most Burst (%d)", cfg.Burst), cfg.Batch)
	case cfg.LeaseTTL < 0:
		return nil, bad("LeaseTTL", "positive (or zero: 1s)", cfg.LeaseTTL)
	case math.IsNaN(cfg.LocalRate) || math.IsInf(cfg.LocalRate, 0):
		return nil, bad("LocalRate", "finite", cfg.LocalRate)
	}
	l := &Limiter{
		want:     make(chan struct{}, 1),
		f:        f,
		name:     cfg.Name,
		key:      "{" + f.s.namespace + "}:r:" + cfg.Name,
		perToken: time.Duration(float64(time.Second) / cfg.Rate),
		burst:    cfg.Burst,
		batch:    int64(cfg.Batch),
		leaseTTL: cfg.LeaseTTL,
		local:    cfg.LocalRate,
	}
	if l.perToken <= 0 {
		l.perToken = 1
	}
	if l.burst == 0 {
		l.burst = max(1, int(math.Ceil(cfg.Rate/10)))
	}
	if l.batch == 0 {
		l.batch = min(int64(l.burst), max(1, int64(math.Ceil(cfg.Rate/50))))
	}
	l.low = l.batch / 2
	if l.leaseTTL == 0 {
		l.leaseTTL = time.Second
	}
	switch {
	case l.local == 0:
		l.local = cfg.Rate / 10
	case l.local < 0:
		l.local = 0
	}
	l.rej = &LimitedError{Name: cfg.Name, l: l}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrClosed
	}
	f.wg.Add(1)
	go l.lease()
	return l, nil
}

// Allow spends a token and reports whether there was one. It never waits.
func (l *Limiter) Allow() bool {
	for {
		n := l.tokens.Load()
		if n <= 0 {
			l.ask()
			return false
		}
		if l.tokens.CompareAndSwap(n, n-1) {
			if n-1 == l.low {
				l.ask()
			}
			return true
		}
	}
}

func (l *Limiter) ask() {
	select {
	case l.want <- struct{}{}:
	default:
	}
}

// Execute runs call if a token is left, or refuses at once with a
// *LimitedError (matching ErrLimited and resilience.ErrRejected) without
// running it. call gets ctx unchanged; its error is returned unchanged.
func (l *Limiter) Execute(ctx context.Context, call func(context.Context) error) error {
	if !l.Allow() {
		return l.rej
	}
	return call(ctx)
}

// Wrap returns a Policy that runs next when l allows the call; it makes no
// allocation per call, and resilience.Chain composes it with the library's
// other policies. Wrap(nil) behaves as l.
func (l *Limiter) Wrap(next resilience.Policy) resilience.Policy { return &limited{l, next} }

type limited struct {
	l    *Limiter
	next resilience.Policy
}

func (w *limited) Execute(ctx context.Context, call func(context.Context) error) error {
	if !w.l.Allow() {
		return w.l.rej
	}
	if w.next == nil {
		return call(ctx)
	}
	return w.next.Execute(ctx, call)
}

// Enter and Exit are Execute in two steps, for resilience.Do (see
// internal/step).
func (w *limited) Enter(ctx context.Context) (context.Context, step.Ticket, error) {
	if !w.l.Allow() {
		return ctx, step.Ticket{}, w.l.rej
	}
	return ctx, step.Ticket{}, nil
}

func (w *limited) Exit(_, _ context.Context, _ step.Ticket, err error, _ bool) error { return err }

// LimitStats counts what a Limiter did, for metrics and tests.
type LimitStats struct {
	// Leased counts the tokens leased from the fleet's bucket.
	Leased uint64
	// Commands counts the Redis commands the Limiter sent.
	Commands uint64
}

// Stats returns the Limiter's counts. Safe for concurrent use.
func (l *Limiter) Stats() LimitStats {
	return LimitStats{Leased: l.admitted.Load(), Commands: l.commands.Load()}
}

// gcraScript reserves ARGV[3] tokens in the bucket KEYS[1], a GCRA
// "theoretical arrival time" in ms on the Redis server's clock, for a rate
// of one token per ARGV[1] ms and a burst of ARGV[2]: all of them, to be
// spent from when the last of them is due, if that is at most ARGV[4] ms
// away. It returns {tokens reserved, ms until they may be spent}, or {0,
// ms until a reservation would fit}. Every command moves a whole batch,
// and replicas that want more than their share queue for it in Redis
// instead of asking again and again.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local T = tonumber(ARGV[1])
local tau = T * tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local due = tat + n * T - tau - now
if due > tonumber(ARGV[4]) then
  return {0, math.ceil(due - tonumber(ARGV[4]))}
end
tat = tat + n * T
redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now + tau) + 1000)
return {n, math.max(0, math.ceil(due))}
`)

// leaseTick is how often the leaser looks at the local tokens without
// being asked: to drop expired ones, and to make local ones while Redis
// is down.
const leaseTick = 10 * time.Millisecond

// lease keeps the local tokens topped up until Close: from the fleet's
// bucket while Redis answers, at LocalRate while it does not.
func (l *Limiter) lease() {
	defer l.f.wg.Done()
	t := time.NewTicker(leaseTick)
	defer t.Stop()
	horizon := l.leaseTTL
	var (
		expires time.Time // when the leased tokens held now expire
		down    bool      // Redis did not answer the last lease
		last    = time.Now()
		frac    float64   // local tokens made but not yet whole
		pending int64     // tokens reserved, to be spent from due
		due     time.Time // when pending may be spent
		next    time.Time // no lease before this
	)
	for {
		var (
			tm    *time.Timer
			timer <-chan time.Time
		)
		if pending > 0 {
			tm = time.NewTimer(max(time.Until(due), 0))
			timer = tm.C
		}
		select {
		case <-l.f.ctx.Done():
			if tm != nil {
				tm.Stop()
			}
			return
		case <-l.want:
		case <-t.C:
		case <-timer:
		}
		if tm != nil {
			tm.Stop()
		}
		now := time.Now()
		if !expires.IsZero() && now.After(expires) {
			l.tokens.Store(0) // unspent leased tokens lapse
			expires = time.Time{}
		}
		if pending > 0 && !now.Before(due) {
			l.tokens.Add(pending)
			pending = 0
			expires = now.Add(l.leaseTTL)
			l.wait.Store(0)
		}
		if down {
			// The local share, until Redis answers again.
			frac += l.local * now.Sub(last).Seconds()
			if whole := math.Floor(frac); whole >= 1 {
				frac -= whole
				limit := int64(math.Max(1, math.Ceil(l.local/10)))
				if n := l.tokens.Load(); n < limit {
					l.tokens.Add(min(int64(whole), limit-n))
				}
			}
		}
		last = now
		if pending > 0 || l.tokens.Load() > l.low || now.Before(next) {
			continue
		}
		ctx, cancel := l.f.op()
		res, err := gcraScript.Run(ctx, l.f.s.client, []string{l.key},
			float64(l.perToken)/float64(time.Millisecond), l.burst, l.batch, horizon.Milliseconds()).Int64Slice()
		cancel()
		l.commands.Add(1)
		if err != nil || len(res) != 2 {
			if err == nil {
				err = errors.New("fleet: unexpected reply from the rate script")
			}
			l.f.fail(err)
			if !down {
				down, frac = true, 0
			}
			next = now.Add(l.f.s.interval)
			continue
		}
		if down {
			// Redis answers again: the local share ends, and what is left
			// of it lapses, so that the fleet's bucket alone decides.
			down = false
			l.tokens.Store(0)
		}
		wait := time.Duration(res[1]) * time.Millisecond
		if res[0] > 0 {
			pending, due = res[0], now.Add(wait)
			l.admitted.Add(uint64(res[0]))
			l.wait.Store(int64(wait))
			continue
		}
		// The queue in Redis is longer than the horizon: ask again when
		// it will not be.
		l.wait.Store(int64(wait + horizon))
		next = now.Add(max(wait, time.Millisecond))
	}
}
