package httpx

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
)

// keyedBulkheads holds one bulkhead per key, for Config.BulkheadPerKey.
//
// Looking up an existing key takes no lock and allocates nothing. The map
// keeps at most max keys beyond those in use: when a new key would pass the
// bound, every bulkhead that nobody holds or waits for is dropped first. A
// bulkhead is only dropped when its users count goes from 0 to -1, and a
// caller only uses one after raising that count from a non-negative value,
// so a key never has two live bulkheads at once (its limit always holds).
type keyedBulkheads struct {
	cfg bulkhead.Config
	max int

	m  sync.Map   // string → *keyedBulkhead
	mu sync.Mutex // serialises creating and dropping
	n  int        // entries in m, under mu
}

type keyedBulkhead struct {
	b     *bulkhead.Bulkhead
	users atomic.Int64 // callers holding or waiting for a slot; -1: dropped
}

// acquire takes a slot of key's bulkhead, as bulkhead.Acquire does. On
// success the caller must call release(e) once.
func (k *keyedBulkheads) acquire(ctx context.Context, key string) (*keyedBulkhead, error) {
	e, err := k.use(key)
	if err != nil {
		return nil, err
	}
	if err := e.b.Acquire(ctx); err != nil {
		e.users.Add(-1)
		return nil, err
	}
	return e, nil
}

func (k *keyedBulkheads) release(e *keyedBulkhead) {
	e.b.Release()
	e.users.Add(-1)
}

// use returns key's bulkhead with its users count raised by one.
func (k *keyedBulkheads) use(key string) (*keyedBulkhead, error) {
	for {
		v, ok := k.m.Load(key)
		if !ok {
			var err error
			if v, err = k.create(key); err != nil {
				return nil, err
			}
		}
		e := v.(*keyedBulkhead)
		for n := e.users.Load(); n >= 0; n = e.users.Load() {
			if e.users.CompareAndSwap(n, n+1) {
				return e, nil
			}
		}
		// Dropped between Load and here: look again.
	}
}

func (k *keyedBulkheads) create(key string) (any, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if v, ok := k.m.Load(key); ok {
		return v, nil
	}
	if k.n >= k.max {
		k.m.Range(func(key, v any) bool {
			if v.(*keyedBulkhead).users.CompareAndSwap(0, -1) {
				k.m.Delete(key)
				k.n--
			}
			return true
		})
	}
	cfg := k.cfg
	if cfg.Observer != nil {
		cfg.Observer = keyObserver{cfg.Observer, key}
	}
	b, err := bulkhead.New(cfg)
	if err != nil {
		return nil, err
	}
	e := &keyedBulkhead{b: b}
	k.m.Store(key, e)
	k.n++
	return e, nil
}

func (k *keyedBulkheads) all() iter.Seq2[string, *bulkhead.Bulkhead] {
	return func(yield func(string, *bulkhead.Bulkhead) bool) {
		k.m.Range(func(key, v any) bool {
			return yield(key.(string), v.(*keyedBulkhead).b)
		})
	}
}

// keyObserver passes events on with Key set.
type keyObserver struct {
	o   resilience.Observer
	key string
}

func (k keyObserver) Observe(e resilience.Event) {
	if e.Key == "" {
		e.Key = k.key
	}
	k.o.Observe(e)
}
