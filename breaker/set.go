package breaker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
)

// KeyedConfig configures a Set: the Config every breaker of the set shares,
// and the bound on how many it keeps. The zero value is valid.
type KeyedConfig struct {
	// Config is the configuration of every breaker in the set. Their
	// Name is Config.Name, their Key the key they were made for.
	Config

	// MaxKeys is the most breakers the set keeps. Zero: 1024. Otherwise
	// it must be positive. See Set for what happens when it is reached.
	MaxKeys int

	// IdleTimeout removes a breaker that Get has not returned for this
	// long, when it may be evicted (see Set). It is applied lazily, with no
	// goroutine: when the set adds a key, and on Len and Range. A breaker
	// is never removed sooner than IdleTimeout after its last use; as the
	// set notes uses only at those moments, it may be removed later, by up
	// to the time between two of them. Zero: breakers are removed only to
	// make room. Negative: invalid.
	IdleTimeout time.Duration
}

const defaultMaxKeys = 1024

// A Set is a keyed family of breakers sharing one Config, one per
// dependency (a host, a gRPC method), made lazily by Get.
//
// Get of a key the set keeps takes no lock and allocates nothing. Adding a
// key takes the set's mutex and costs time proportional to the number of
// keys kept.
//
// # Bound and eviction
//
// A Set keeps at most MaxKeys breakers. To add a key when it is full, it
// first drops the breakers idle for IdleTimeout (when set), then evicts the
// least recently used one. It never evicts or expires a breaker that is
// protecting its dependency right now (open within its open duration, or
// half-open within its half-open timeout) nor one forced open or closed:
// dropping it would silently reset that protection or the user's decision.
// When every breaker kept is so protected, the new key is not kept: Get
// returns the set's overflow breaker, a single breaker with Key "" shared
// by every key that found no room, so that those calls are still guarded
// and the bound still holds. A later Get of such a key tries again to add
// it.
//
// An evicted breaker that a caller still holds keeps working, but the set
// no longer knows it: the next Get of its key makes a new, closed one.
// Recency is what Get sees, so call Get (or Set.Execute) for each call
// rather than keeping the *Breaker.
//
// A Set is safe for concurrent use.
type Set struct {
	s       *settings
	maxKeys int
	idle    time.Duration

	m    atomic.Pointer[map[string]*Breaker] // replaced, never changed
	tick atomic.Uint64                       // recency epoch; advances at every change of the set

	mu       sync.Mutex
	stamped  uint64 // uses in epochs up to this one have been stamped in lastUse
	overflow *Breaker
}

// NewSet returns an empty Set, or an error naming the first invalid field
// of cfg.
func NewSet(cfg KeyedConfig) (*Set, error) {
	s, err := cfg.Config.validate()
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.MaxKeys < 0:
		return nil, fmt.Errorf("breaker: KeyedConfig.MaxKeys must be positive (or zero: %d), got %d", defaultMaxKeys, cfg.MaxKeys)
	case cfg.IdleTimeout < 0:
		return nil, fmt.Errorf("breaker: KeyedConfig.IdleTimeout must be positive (or zero: no idle expiry), got %v", cfg.IdleTimeout)
	}
	set := &Set{s: s, maxKeys: cfg.MaxKeys, idle: cfg.IdleTimeout}
	if set.maxKeys == 0 {
		set.maxKeys = defaultMaxKeys
	}
	set.m.Store(&map[string]*Breaker{})
	set.tick.Store(1)
	set.stamped = 1
	return set, nil
}

// Get returns the breaker for key, making it (closed) if the set has none.
// See Set for what happens when the set is full. Safe for concurrent use.
//
// A nil *Set or a zero Set (not made by NewSet) keeps no breaker: Get
// returns nil (whose Execute returns an error matching
// resilience.ErrMisuse), Lookup nil and false, Len 0; Range calls nothing
// and the Watch methods do nothing.
func (s *Set) Get(key string) *Breaker {
	if s.check() != nil {
		return nil
	}
	if b, ok := (*s.m.Load())[key]; ok {
		if t := s.tick.Load(); b.used.Load() != t {
			b.used.Store(t)
		}
		return b
	}
	return s.add(key)
}

// Execute runs call under the breaker for key: s.Get(key).Execute(ctx,
// call).
//
// A nil *Set or a zero Set (not made by NewSet) returns an error matching
// resilience.ErrMisuse without running call, as does a nil ctx or call.
func (s *Set) Execute(ctx context.Context, key string, call func(context.Context) error) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Get(key).execute(ctx, nil, call)
}

// errNilSet is the error of a call through a nil or zero Set.
var errNilSet = fmt.Errorf("breaker: nil or zero Set (make one with NewSet): %w", resilience.ErrNilPolicy)

// check returns errNilSet for a nil or zero Set, or nil.
func (s *Set) check() error {
	if s == nil || s.m.Load() == nil {
		return errNilSet
	}
	return nil
}

// Len returns how many breakers the set keeps (the overflow breaker is not
// counted), after dropping those idle for IdleTimeout.
func (s *Set) Len() int {
	if s.check() != nil {
		return 0
	}
	if s.idle > 0 {
		s.mu.Lock()
		s.sweepLocked(time.Now())
		s.mu.Unlock()
	}
	return len(*s.m.Load())
}

// Range calls f for each breaker the set keeps, in key order, until f
// returns false. It works on a snapshot: f may call any method of the set.
func (s *Set) Range(f func(key string, b *Breaker) bool) {
	if s.check() != nil {
		return
	}
	if s.idle > 0 {
		s.mu.Lock()
		s.sweepLocked(time.Now())
		s.mu.Unlock()
	}
	m := *s.m.Load()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !f(k, m[k]) {
			return
		}
	}
}

func (s *Set) add(key string) *Breaker {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.m.Load()
	if b, ok := old[key]; ok {
		b.used.Store(s.tick.Load())
		return b
	}
	now := time.Now()
	m := s.sweepLocked(now)
	if len(m) >= s.maxKeys {
		victim, ok := s.victim(m, now)
		if !ok {
			if s.overflow == nil {
				s.overflow = newBreaker(s.s, "", true)
			}
			return s.overflow
		}
		m = maps.Clone(m)
		delete(m, victim)
	} else {
		m = maps.Clone(m)
	}
	b := newBreaker(s.s, key, true)
	b.used.Store(s.tick.Add(1))
	b.lastUse = now
	m[key] = b
	s.m.Store(&m)
	return b
}

// sweepLocked stamps the breakers used since the last sweep with now,
// drops the idle ones that may be dropped, and returns the set's map.
// s.mu is held.
func (s *Set) sweepLocked(now time.Time) map[string]*Breaker {
	m := *s.m.Load()
	if s.idle <= 0 {
		return m
	}
	t := s.tick.Load()
	var expired []string
	for k, b := range m {
		if b.used.Load() > s.stamped {
			b.lastUse = now
		} else if now.Sub(b.lastUse) >= s.idle && evictable(b, now) {
			expired = append(expired, k)
		}
	}
	s.stamped = t
	s.tick.Add(1) // later uses are after now
	if len(expired) > 0 {
		m = maps.Clone(m)
		for _, k := range expired {
			delete(m, k)
		}
		s.m.Store(&m)
	}
	return m
}

// victim returns the key of the least recently used breaker that may be
// evicted, or false when there is none.
func (s *Set) victim(m map[string]*Breaker, now time.Time) (string, bool) {
	var (
		key  string
		best uint64
		ok   bool
	)
	for k, b := range m {
		if u := b.used.Load(); (!ok || u < best) && evictable(b, now) {
			key, best, ok = k, u, true
		}
	}
	return key, ok
}

// evictable reports whether dropping b loses nothing a careful user would
// miss: it is automatic, and not refusing calls to protect its dependency.
func evictable(b *Breaker, now time.Time) bool {
	r := b.rec.Load()
	switch r.state {
	case Closed:
		return true
	case Open, HalfOpen:
		return !now.Before(r.until)
	}
	return false
}
