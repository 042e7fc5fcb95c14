package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// SetConfig configures a Set: the Config every limiter of the set shares,
// and the bound on how many it keeps. Only Config.Rate has no usable zero
// value.
type SetConfig struct {
	// Config is the configuration of every limiter in the set: each key
	// gets its own Rate and Burst. Their errors and Events carry
	// Config.Name.
	Config

	// MaxKeys is the most limiters the set keeps. Zero: 1024. Otherwise it
	// must be positive. See Set for what happens when it is reached.
	MaxKeys int
}

const defaultMaxKeys = 1024

// A Set is a keyed family of limiters sharing one Config, one per client,
// route or tenant, made lazily by Get: each key has its own tokens.
//
// # Bound and eviction
//
// A Set keeps at most MaxKeys limiters. A limiter whose tokens have all
// come back (it holds Burst) is indistinguishable from a new one, so the
// set may forget it at no cost: to add a key when it is full, the set
// drops one such limiter. It never drops a limiter that still owes tokens,
// since a new limiter for that key would hand its client a fresh burst and
// so loosen the limit. When every limiter kept owes tokens, the new key is
// not kept: Get returns the set's overflow limiter, one limiter shared by
// every key that found no room, so that those calls are still limited and
// the bound still holds. A later Get of such a key tries again to add it.
//
// Get of a key the set keeps takes the set's mutex briefly and allocates
// nothing; adding a key to a full set costs time proportional to the keys
// kept, in the worst case.
//
// A Set is safe for concurrent use.
type Set struct {
	cfg     Config
	maxKeys int

	mu       sync.Mutex
	m        map[string]*Limiter
	overflow *Limiter
}

// NewSet returns an empty Set, or an error naming the first invalid field
// of cfg.
func NewSet(cfg SetConfig) (*Set, error) {
	if err := cfg.Config.validate(); err != nil {
		return nil, err
	}
	if cfg.MaxKeys < 0 {
		return nil, fmt.Errorf("ratelimit: SetConfig.MaxKeys must be positive (or zero: %d), got %d", defaultMaxKeys, cfg.MaxKeys)
	}
	s := &Set{cfg: cfg.Config, maxKeys: cfg.MaxKeys, m: make(map[string]*Limiter)}
	if s.maxKeys == 0 {
		s.maxKeys = defaultMaxKeys
	}
	s.overflow = newLimiter(cfg.Config)
	return s, nil
}

// Get returns the limiter for key, making it (with Burst tokens) if the
// set has none. See Set for what happens when the set is full.
func (s *Set) Get(key string) *Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.m[key]; ok {
		return l
	}
	if len(s.m) >= s.maxKeys && !s.dropRefilledLocked() {
		return s.overflow
	}
	l := newLimiter(s.cfg)
	s.m[key] = l
	return l
}

// dropRefilledLocked forgets one limiter that holds all its tokens, and
// reports whether it found one.
func (s *Set) dropRefilledLocked() bool {
	now := time.Now()
	for k, l := range s.m {
		if l.lim.TokensAt(now) >= float64(l.lim.Burst()) {
			delete(s.m, k)
			return true
		}
	}
	return false
}

// Execute runs call under the limiter for key: s.Get(key).Execute(ctx,
// call).
func (s *Set) Execute(ctx context.Context, key string, call func(context.Context) error) error {
	return s.Get(key).Execute(ctx, call)
}

// Take takes a token from the limiter for key: s.Get(key).Take(ctx).
func (s *Set) Take(ctx context.Context, key string) error {
	return s.Get(key).Take(ctx)
}

// Len returns how many limiters the set keeps (the overflow limiter is not
// counted).
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
