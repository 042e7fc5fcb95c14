package fleet

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/go-resilience/resilience/breaker"
)

// A group is a Set (or a single Breaker) joined to the fleet under a name.
type group struct {
	name string
	set  *breaker.Set
	one  *breaker.Breaker
	// keys holds what the fleet knows of each key's shared state; guarded
	// by Fleet.mu. It holds only keys the set keeps (pruned at every
	// backstop read), so it is bounded as the set is.
	keys map[string]*keyState
}

// keyState is what a replica knows of one key's shared state.
type keyState struct {
	// gen is the generation of the newest record seen or written.
	gen uint64
	// until is the end of the fleet's open period, zero when closed.
	until time.Time
	// extended is the end this replica gave its own breaker after another
	// replica won the probe lease; zero when it did not.
	extended time.Time
	// leased is the end of the open period for which this replica holds
	// the probe lease; probing is set from winning it until the next
	// decision.
	leased  time.Time
	probing bool
}

// state returns key's state, made if need be. Fleet.mu is held.
func (g *group) state(key string) *keyState {
	ks, ok := g.keys[key]
	if !ok {
		ks = &keyState{}
		g.keys[key] = ks
	}
	return ks
}

func (g *group) watch(w func(breaker.Change)) {
	if g.set != nil {
		g.set.Watch(w)
	} else {
		g.one.Watch(w)
	}
}

func (g *group) watchFailures(w func(*breaker.Breaker)) {
	if g.set != nil {
		g.set.WatchFailures(w)
	} else {
		g.one.WatchFailures(w)
	}
}

// lookup returns the breaker for key without making one.
func (g *group) lookup(key string) *breaker.Breaker {
	if g.set != nil {
		if key == "" {
			return nil // the set's overflow breaker is not shared
		}
		b, _ := g.set.Lookup(key)
		return b
	}
	if key == "" {
		return g.one
	}
	return nil
}

// each calls fn for every breaker of the group.
func (g *group) each(fn func(key string, b *breaker.Breaker)) {
	if g.one != nil {
		fn("", g.one)
		return
	}
	g.set.Range(func(key string, b *breaker.Breaker) bool {
		if len(key) <= maxKeyLen {
			fn(key, b)
		}
		return true
	})
}

// maxKeyLen bounds the keys that are shared; longer ones stay local.
const maxKeyLen = 512

// A change is a joined breaker's own change of state, on its way to Redis.
type change struct {
	g     *group
	key   string
	to    breaker.State
	until time.Time
}

// Errors of Join and JoinSet.
var (
	ErrClosed = errors.New("fleet: closed")
	errJoined = errors.New("fleet: group already joined")
)

// JoinSet shares the state of every breaker of set, present and future,
// with the breakers of the same group and key on the other replicas. The
// group names the set across the fleet (each replica joins its own set
// under the same name); it must be non-empty and free of NUL bytes, and
// one fleet joins a name once. The set's watcher (breaker.Set.Watch) is
// the fleet's from now on, until Close. Keys longer than 512 bytes, and the
// set's overflow breaker, stay local. Safe for concurrent use.
func (f *Fleet) JoinSet(name string, set *breaker.Set) error {
	if set == nil {
		return errors.New("fleet: JoinSet of a nil set")
	}
	return f.join(&group{name: name, set: set, keys: map[string]*keyState{}})
}

// Join is JoinSet for a breaker on its own, shared under name with the
// breakers joined under that name on the other replicas.
func (f *Fleet) Join(name string, b *breaker.Breaker) error {
	if b == nil {
		return errors.New("fleet: Join of a nil breaker")
	}
	return f.join(&group{name: name, one: b, keys: map[string]*keyState{}})
}

func (f *Fleet) join(g *group) error {
	if g.name == "" || strings.IndexByte(g.name, 0) >= 0 {
		return errors.New("fleet: group name must be non-empty and free of NUL bytes, got " + strconv.Quote(g.name))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.closed:
		return ErrClosed
	case f.groups[g.name] != nil:
		return errJoined
	}
	f.groups[g.name] = g
	g.watch(func(c breaker.Change) { f.observe(g, c) })
	if f.s.pooled > 0 {
		g.watchFailures(func(b *breaker.Breaker) { f.failed(g, b) })
	}
	return nil
}

// observe is the joined breakers' watcher. It runs on the goroutine of a
// call, so it only hands the change over, without waiting.
func (f *Fleet) observe(g *group, c breaker.Change) {
	if c.Followed {
		return // another replica's decision, already shared
	}
	switch {
	case c.To == breaker.Open:
	case c.To == breaker.Closed && c.From == breaker.HalfOpen:
	default:
		return
	}
	key := c.Breaker.Key()
	if g.set != nil && (key == "" || len(key) > maxKeyLen) {
		return
	}
	select {
	case f.changes <- change{g: g, key: key, to: c.To, until: c.Until}:
	default:
		f.dropped.Add(1)
	}
}

// push writes a breaker's own change to Redis, with the changes waiting
// behind it.
func (f *Fleet) push(c change) {
	for range maxPending {
		b := c.g.lookup(c.key)
		if b != nil {
			st, until := b.Period()
			switch {
			case st != c.to:
				// moved on since; the change that moved it follows
			case st == breaker.Open && until.Equal(c.until):
				f.writeOpen(c.g, c.key, b, until)
			case st == breaker.Closed:
				f.writeClose(c.g, c.key, b)
			}
		}
		select {
		case c = <-f.changes:
		default:
			return
		}
	}
}

// args are the arguments every script shares after its own: this
// replica, the channel, and the message's prefix.
func (f *Fleet) keys(g *group, key string) []string {
	return []string{f.s.recordKey(g.name, key), f.s.leaseKey(g.name, key), f.s.countKey(g.name, key)}
}

func (f *Fleet) prefix(g *group, key string) string { return g.name + "\x00" + key + "\x00" }

// writeOpen records b's open period ending at until as the fleet's, or
// makes b follow the fleet's when one is running already.
func (f *Fleet) writeOpen(g *group, key string, b *breaker.Breaker, until time.Time) {
	now := time.Now()
	ttl := until.Sub(now) + f.s.ttl
	ctx, cancel := f.op()
	val, err := openScript.Run(ctx, f.s.client, f.keys(g, key),
		until.UnixMilli(), now.UnixMilli(), ttl.Milliseconds(),
		f.s.replica, f.s.channel(), f.prefix(g, key)).Text()
	cancel()
	if err != nil {
		f.fail(err)
		return
	}
	rec, ok := parseRecord(val)
	if !ok {
		return
	}
	f.mu.Lock()
	ks := g.state(key)
	if rec.gen >= ks.gen {
		ks.gen, ks.until, ks.extended, ks.probing = rec.gen, rec.until, time.Time{}, false
	}
	f.mu.Unlock()
	if rec.open && !rec.until.Equal(until) {
		b.Follow(breaker.Open, rec.until)
	}
}

// writeClose records that b's probes closed it, or makes b follow the
// fleet's open period when another replica opened it again meanwhile.
func (f *Fleet) writeClose(g *group, key string, b *breaker.Breaker) {
	now := time.Now()
	ctx, cancel := f.op()
	val, err := closeScript.Run(ctx, f.s.client, f.keys(g, key),
		now.UnixMilli(), f.s.ttl.Milliseconds(),
		f.s.replica, f.s.channel(), f.prefix(g, key)).Text()
	cancel()
	if err != nil {
		f.fail(err)
		return
	}
	rec, ok := parseRecord(val)
	if !ok {
		return
	}
	f.mu.Lock()
	ks := g.state(key)
	if rec.gen >= ks.gen {
		ks.gen, ks.until, ks.extended, ks.probing = rec.gen, rec.until, time.Time{}, false
	}
	f.mu.Unlock()
	if rec.open && rec.until.After(now) {
		b.Follow(breaker.Open, rec.until)
	}
}

// receive applies a change another replica pushed.
func (f *Fleet) receive(payload string) {
	name, key, rec, ok := parseMessage(payload)
	if !ok {
		return
	}
	f.mu.Lock()
	g := f.groups[name]
	f.mu.Unlock()
	if g == nil {
		return
	}
	if b := g.lookup(key); b != nil {
		f.reconcile(g, key, b, rec, true, true)
	}
}

// reconcile brings b in line with rec, the fleet's record for its key
// (ok false: there is none), when rec is news. When it is not and this is
// the backstop (pushed false), it pushes b's own open period if the fleet
// does not have it: a push that failed or was dropped, or a Redis that
// lost its records.
func (f *Fleet) reconcile(g *group, key string, b *breaker.Breaker, rec record, ok, pushed bool) {
	st, until := b.Period()
	now := time.Now()
	var (
		followOpen, followClosed, write bool
	)
	f.mu.Lock()
	ks := g.state(key)
	switch {
	case ok && rec.gen > ks.gen:
		shared := later(ks.until, ks.extended)
		ks.gen, ks.probing = rec.gen, false
		if rec.open {
			ks.until, ks.extended = rec.until, time.Time{}
			followOpen = rec.until.After(now) && !(st == breaker.Open && until.Equal(rec.until))
		} else {
			ks.until, ks.extended = time.Time{}, time.Time{}
			// Close an open period the fleet knew of, not one this
			// replica's own failures started since.
			followClosed = st == breaker.HalfOpen || (st == breaker.Open && !until.After(shared))
		}
	case !pushed && st == breaker.Open && until.After(now):
		write = !ok || !(until.Equal(ks.until) || until.Equal(ks.extended))
	}
	f.mu.Unlock()
	switch {
	case followOpen:
		b.Follow(breaker.Open, rec.until)
	case followClosed:
		b.Follow(breaker.Closed, time.Time{})
	case write:
		f.writeOpen(g, key, b, until)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// tick does a group's periodic work: the backstop read (when full), and
// the probe leases that are due.
func (f *Fleet) tick(g *group, full bool) {
	var (
		keys []string
		brs  []*breaker.Breaker
	)
	g.each(func(key string, b *breaker.Breaker) {
		keys = append(keys, key)
		brs = append(brs, b)
	})
	if full {
		f.backstop(g, keys, brs)
	}
	for i, b := range brs {
		if f.ctx.Err() != nil {
			return
		}
		f.probeLease(g, keys[i], b)
	}
}

// mgetChunk bounds the keys of one backstop read.
const mgetChunk = 256

// backstop reads the records of every key of the group and reconciles
// them, then forgets the state of keys the group no longer has.
func (f *Fleet) backstop(g *group, keys []string, brs []*breaker.Breaker) {
	start := time.Now()
	recs := make([]string, len(keys))
	for i := 0; i < len(keys); i += mgetChunk {
		chunk := keys[i:min(i+mgetChunk, len(keys))]
		names := make([]string, len(chunk))
		for j, k := range chunk {
			names[j] = f.s.recordKey(g.name, k)
		}
		ctx, cancel := f.op()
		vals, err := f.s.client.MGet(ctx, names...).Result()
		cancel()
		if err != nil {
			f.fail(err)
			return
		}
		for j, v := range vals {
			if s, ok := v.(string); ok {
				recs[i+j] = s
			}
		}
	}
	f.synced(time.Since(start))
	for i, b := range brs {
		rec, ok := parseRecord(recs[i])
		f.reconcile(g, keys[i], b, rec, ok, false)
	}
	f.mu.Lock()
	if len(g.keys) > len(keys) {
		kept := make(map[string]bool, len(keys))
		for _, k := range keys {
			kept[k] = true
		}
		for k := range g.keys {
			if !kept[k] {
				delete(g.keys, k)
			}
		}
	}
	f.mu.Unlock()
}

// probeLease takes the probe lease for b's key when b's open period is
// about to end (or is probing without one). Winning, b probes as usual;
// losing, b stays open until an interval past the lease's expiry, unless
// the prober's result comes first, and asks again then. On a Redis error b probes on its own, as a breaker
// without a fleet does.
func (f *Fleet) probeLease(g *group, key string, b *breaker.Breaker) {
	st, until := b.Period()
	now := time.Now()
	f.mu.Lock()
	ks := g.state(key)
	var due bool
	switch st {
	case breaker.Open:
		due = !until.After(now.Add(f.s.ahead())) && !ks.leased.Equal(until)
	case breaker.HalfOpen:
		due = !ks.probing
	}
	f.mu.Unlock()
	if !due {
		return
	}
	ctx, cancel := f.op()
	res, err := leaseScript.Run(ctx, f.s.client, f.keys(g, key), f.s.replica, f.s.lease.Milliseconds()).Int64Slice()
	cancel()
	if err != nil || len(res) != 2 {
		if err != nil {
			f.fail(err)
		}
		return
	}
	won, left := res[0] == 1, time.Duration(res[1])*time.Millisecond
	var ext time.Time
	f.mu.Lock()
	switch {
	case won:
		ks.probing = true
		if st == breaker.Open {
			ks.leased = until
		}
	case left > 0:
		// Past the lease's end by the same margin, so that this replica
		// asks again after it expires, before its breaker would probe.
		if e := now.Add(left + f.s.ahead()); st == breaker.HalfOpen || e.After(until) {
			ext = e
			ks.extended, ks.probing = ext, false
		}
	}
	f.mu.Unlock()
	if !ext.IsZero() {
		b.Follow(breaker.Open, ext)
	}
}
