package grpcx

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/timeout"
)

// defaultMaxKeys is breaker.KeyedConfig's default MaxKeys, which bounds the
// per-key bulkheads too.
const defaultMaxKeys = 1024

// A lane is what runs inside a key's breaker: its bulkhead (nil: none) and
// the policy for unary calls, composed once: bulkhead → timeout, either of
// them, or nil for none.
type lane struct {
	key   string
	bh    *bulkhead.Bulkhead
	inner resilience.Policy
}

// lanes hands out the lane of a key: one shared lane, or one per key (made
// on first use, never dropped, at most max of them, then the overflow lane).
type lanes struct {
	perKey bool
	shared *lane // !perKey: every key's lane; perKey: the overflow lane

	cfg   bulkhead.Config // for per-key bulkheads
	tmo   *timeout.Timeout
	max   int64
	n     atomic.Int64
	byKey sync.Map // key → *lane
}

func newLanes(cfg *Config, tmo *timeout.Timeout) (*lanes, error) {
	ls := &lanes{perKey: cfg.BulkheadPerKey, cfg: cfg.Bulkhead, tmo: tmo, max: int64(cfg.Breaker.MaxKeys)}
	if ls.max == 0 {
		ls.max = defaultMaxKeys
	}
	if cfg.Bulkhead.MaxConcurrent == 0 {
		ls.perKey = false // nothing per key to keep
		ls.shared = newLane("", nil, tmo)
		return ls, nil
	}
	// The shared bulkhead (or the overflow one) is made now, which also
	// validates cfg.Bulkhead for the per-key ones.
	bh, err := bulkhead.New(cfg.Bulkhead)
	if err != nil {
		return nil, fmt.Errorf("grpcx: Config.Bulkhead: %w", err)
	}
	ls.shared = newLane("", bh, tmo)
	return ls, nil
}

func newLane(key string, bh *bulkhead.Bulkhead, tmo *timeout.Timeout) *lane {
	l := &lane{key: key, bh: bh}
	switch {
	case bh != nil && tmo != nil:
		l.inner = resilience.Chain(bh, tmo)
	case bh != nil:
		l.inner = bh
	case tmo != nil:
		l.inner = tmo
	}
	return l
}

// get returns key's lane.
func (ls *lanes) get(key string) *lane {
	if !ls.perKey {
		return ls.shared
	}
	if l, ok := ls.byKey.Load(key); ok {
		return l.(*lane)
	}
	return ls.make(key)
}

func (ls *lanes) make(key string) *lane {
	if ls.n.Add(1) > ls.max {
		ls.n.Add(-1)
		return ls.shared
	}
	cfg := ls.cfg
	if cfg.Observer != nil {
		cfg.Observer = keyedObserver{cfg.Observer, key}
	}
	bh, err := bulkhead.New(cfg)
	if err != nil { // validated by newLanes; cannot happen
		ls.n.Add(-1)
		return ls.shared
	}
	l, loaded := ls.byKey.LoadOrStore(key, newLane(key, bh, ls.tmo))
	if loaded {
		ls.n.Add(-1)
	}
	return l.(*lane)
}

// lookup returns key's lane without making one: per key, nil when no call
// has had that key yet and there is room for it.
func (ls *lanes) lookup(key string) *lane {
	if !ls.perKey {
		return ls.shared
	}
	if l, ok := ls.byKey.Load(key); ok {
		return l.(*lane)
	}
	if ls.n.Load() >= ls.max {
		return ls.shared
	}
	return nil
}

// rangeBulkheads calls f for each bulkhead: the shared one with key "", or
// each per-key one with its key, then the overflow one with key "".
func (ls *lanes) rangeBulkheads(f func(key string, b *bulkhead.Bulkhead) bool) {
	if ls.perKey {
		more := true
		ls.byKey.Range(func(k, v any) bool {
			more = f(k.(string), v.(*lane).bh)
			return more
		})
		if !more {
			return
		}
	}
	if ls.shared.bh != nil {
		f("", ls.shared.bh)
	}
}

// keyedObserver sets Event.Key on the events of a per-key bulkhead, which
// does not know its key.
type keyedObserver struct {
	o   resilience.Observer
	key string
}

func (k keyedObserver) Observe(ev resilience.Event) {
	if ev.Key == "" {
		ev.Key = k.key
	}
	k.o.Observe(ev)
}
