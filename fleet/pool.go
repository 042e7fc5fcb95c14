package fleet

import (
	"github.com/go-resilience/resilience/breaker"
)

// A failure is one failure of a joined breaker, on its way to the pooled
// count (Config.PooledFailures).
type failure struct {
	g   *group
	key string
}

// failed is the joined breakers' failure watcher. It runs on the goroutine
// of a call that failed, so it only hands the failure over, without
// waiting.
func (f *Fleet) failed(g *group, b *breaker.Breaker) {
	key := b.Key()
	if g.set != nil && (key == "" || len(key) > maxKeyLen) {
		return
	}
	select {
	case f.failures <- failure{g: g, key: key}:
	default:
		f.dropped.Add(1)
	}
}

// pool adds failures, with those waiting behind it, to their keys' pooled
// counts, and trips the breakers whose count reached PooledFailures: each
// such trip is then shared as any other.
func (f *Fleet) pool(first failure) {
	counts := map[failure]int64{first: 1}
	for range maxPending {
		select {
		case fl := <-f.failures:
			counts[fl]++
			continue
		default:
		}
		break
	}
	for fl, n := range counts {
		ctx, cancel := f.op()
		total, err := countScript.Run(ctx, f.s.client, f.keys(fl.g, fl.key), n, f.s.window.Milliseconds()).Int64()
		cancel()
		if err != nil {
			f.fail(err)
			continue
		}
		if total >= f.s.pooled {
			if b := fl.g.lookup(fl.key); b != nil {
				b.Trip()
			}
		}
	}
}
