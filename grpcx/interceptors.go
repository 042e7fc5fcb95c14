package grpcx

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/retry"
	"github.com/go-resilience/resilience/timeout"
	"google.golang.org/grpc"
)

// Interceptors guard the calls of a gRPC client connection with a breaker
// per key, an optional bulkhead and an optional timeout, and answer failed
// unary calls with an optional fallback. Install both interceptors on the
// connection (DialOptions does), so that unary calls and streams share the
// same breakers and bulkheads.
//
// Interceptors are safe for concurrent use; one value serves any number of
// connections, which then share its breakers and bulkheads. Make them with
// New; the zero value is not usable.
type Interceptors struct {
	name          string
	key           func(method string) string
	breakers      *breaker.Set
	lanes         *lanes
	timed         bool // Config.Timeout is set
	streamTimeout time.Duration
	fallback      func(ctx context.Context, method string, req, reply any, err error) error
	obs           resilience.Observer
	calls         sync.Pool    // of *unaryCall
	retry         *retry.Retry // nil: unary calls are not retried
	hedge         *hedge.Hedge // nil: unary calls are not hedged
}

// New returns Interceptors configured by cfg, or an error naming the first
// field of cfg that is out of range (including the fields of the breaker
// and bulkhead configs).
func New(cfg Config) (*Interceptors, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	set, err := breaker.NewSet(cfg.Breaker)
	if err != nil {
		return nil, fmt.Errorf("grpcx: Config.Breaker: %w", err)
	}
	var tmo *timeout.Timeout
	if cfg.Timeout > 0 {
		// The timeout reports no Events itself: the unary interceptor
		// reports its EventTimeout, with the call's key.
		tmo, err = timeout.New(timeout.Config{Name: cfg.Name, Timeout: cfg.Timeout})
		if err != nil {
			return nil, fmt.Errorf("grpcx: Config.Timeout: %w", err)
		}
	}
	ls, err := newLanes(&cfg, tmo)
	if err != nil {
		return nil, err
	}
	var rt *retry.Retry
	if cfg.Retry != nil {
		if rt, err = newRetry(cfg); err != nil {
			return nil, fmt.Errorf("grpcx: Config.Retry: %w", err)
		}
	}
	var hg *hedge.Hedge
	if cfg.Hedge != nil {
		if hg, err = newHedge(cfg); err != nil {
			return nil, fmt.Errorf("grpcx: Config.Hedge: %w", err)
		}
	}
	return &Interceptors{
		hedge:         hg,
		retry:         rt,
		name:          cfg.Name,
		key:           cfg.Key,
		breakers:      set,
		lanes:         ls,
		timed:         tmo != nil,
		streamTimeout: cfg.StreamTimeout,
		fallback:      cfg.UnaryFallback,
		obs:           cfg.Observer,
		calls:         sync.Pool{New: newUnaryCall},
	}, nil
}

// DialOptions returns the options that install both interceptors on a
// connection: grpc.WithChainUnaryInterceptor(ic.UnaryClientInterceptor())
// and grpc.WithChainStreamInterceptor(ic.StreamClientInterceptor()).
// Interceptors chained before them run outside them (and see their
// refusals); those chained after run inside, once per call let through.
//
// With Config.Retry it also includes grpc.WithDisableRetry(), so that gRPC's
// own retries (a retryPolicy in the service config) do not run inside
// ours: three attempts of three attempts each would be nine.
func (ic *Interceptors) DialOptions() []grpc.DialOption {
	opts := []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(ic.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(ic.StreamClientInterceptor()),
	}
	if ic.retry != nil {
		opts = append(opts, grpc.WithDisableRetry())
	}
	return opts
}

// Key returns the key of a full method name, as Config.Key says: with it,
// ic.Breakers().Get(ic.Key(method)) is the breaker that guards method.
func (ic *Interceptors) Key(method string) string { return ic.key(method) }

// Breakers returns the set of breakers, one per key, for health checks and
// metrics: Range visits them, Get(key) finds (or makes) one, and its
// ForceOpen and ForceClosed take a key's breaker out of automatic control.
func (ic *Interceptors) Breakers() *breaker.Set { return ic.breakers }

// Bulkhead returns the bulkhead that guards calls with key: the shared one
// whatever the key, or, with Config.BulkheadPerKey, that key's own (nil
// until a call with that key is made), or the one shared by the keys beyond
// Breaker.MaxKeys. It returns nil when there is no bulkhead
// (Config.Bulkhead.MaxConcurrent is zero).
func (ic *Interceptors) Bulkhead(key string) *bulkhead.Bulkhead {
	if l := ic.lanes.lookup(key); l != nil {
		return l.bh
	}
	return nil
}

// Bulkheads yields each bulkhead with its key, the same way
// httpx.Transport.Bulkheads does: with Config.BulkheadPerKey, each per-key
// bulkhead made so far with its key, then the one shared by keys beyond
// Breaker.MaxKeys with key ""; otherwise the one shared bulkhead with key
// "". It yields nothing when there is no bulkhead. It may be iterated
// while calls take and give back slots, and again later to see the
// bulkheads made since (health.Config.Sources does).
func (ic *Interceptors) Bulkheads() iter.Seq2[string, *bulkhead.Bulkhead] {
	return ic.lanes.rangeBulkheads
}
