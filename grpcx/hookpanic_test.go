package grpcx_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const method = "/svc.Svc/Do"

func recovering(f func()) (recovered any) {
	defer func() { recovered = recover() }()
	f()
	return nil
}

// invokeWith is a unary invoker that answers code, without a server.
func invokeWith(code *atomic.Int32) grpc.UnaryInvoker {
	return func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
		return status.Error(codes.Code(code.Load()), "scripted")
	}
}

// streamWith is a streamer that fails to start with code, without a
// server.
func streamWith(code *atomic.Int32) grpc.Streamer {
	return func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
		return nil, status.Error(codes.Code(code.Load()), "scripted")
	}
}

// inFlight is the slots taken in the bulkhead of method.
func inFlight(ic *grpcx.Interceptors) int { return ic.Bulkhead(method).InFlight() }

// TestPanickingClassifierDoesNotLoseTheProbe: Config.Classifier panics on
// a half-open breaker's probe, unary or stream. The probe counts as a
// failure (the breaker opens again at once, not after HalfOpenTimeout),
// the bulkhead slot is given back, and the panic reaches the caller.
func TestPanickingClassifierDoesNotLoseTheProbe(t *testing.T) {
	for _, kind := range []string{"unary", "stream"} {
		t.Run(kind, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var armed atomic.Bool
				var code atomic.Int32
				code.Store(int32(codes.Unavailable))
				ic := mustNew(t, grpcx.Config{
					Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenTimeout: time.Hour}},
					Bulkhead: bulkhead.Config{MaxConcurrent: 1},
					Classifier: func(err error) resilience.Outcome {
						if armed.Load() {
							panic("classifier")
						}
						return grpcx.Classify(err)
					},
				})
				call := func() error {
					if kind == "unary" {
						return ic.UnaryClientInterceptor()(context.Background(), method, nil, nil, nil, invokeWith(&code))
					}
					_, err := ic.StreamClientInterceptor()(context.Background(), &grpc.StreamDesc{}, nil, method, streamWith(&code))
					return err
				}
				require.Error(t, call())
				brk := ic.Breakers().Get(method)
				require.Equal(t, breaker.Open, brk.State())
				time.Sleep(time.Second)

				armed.Store(true)
				assert.Equal(t, "classifier", recovering(func() { _ = call() }))
				assert.Equal(t, breaker.Open, brk.State(), "the probe counted as a failure")
				assert.Zero(t, inFlight(ic), "slot given back")

				armed.Store(false)
				code.Store(int32(codes.NotFound)) // not a failure: closes the breaker
				time.Sleep(time.Second)
				assert.Equal(t, codes.NotFound, status.Code(call()), "a new probe is let through")
				assert.Equal(t, breaker.Closed, brk.State())
			})
		})
	}
}

// TestPanickingHooksLeakNothing: Config.Key, Config.UnaryFallback and the
// Observer (on each event of a call) panic; the panic reaches the caller,
// and no slot or probe is left taken.
func TestPanickingHooksLeakNothing(t *testing.T) {
	type hook struct {
		name string
		cfg  func(cfg *grpcx.Config, armed *atomic.Bool)
	}
	hooks := []hook{
		{"Key", func(cfg *grpcx.Config, armed *atomic.Bool) {
			cfg.Key = func(m string) string {
				if armed.CompareAndSwap(true, false) {
					panic("hook")
				}
				return m
			}
		}},
		{"UnaryFallback", func(cfg *grpcx.Config, armed *atomic.Bool) {
			cfg.UnaryFallback = func(_ context.Context, _ string, _, _ any, err error) error {
				if armed.CompareAndSwap(true, false) {
					panic("hook")
				}
				return err
			}
		}},
	}
	for _, k := range []resilience.EventKind{resilience.EventAcquire, resilience.EventRelease, resilience.EventCall, resilience.EventStateChange, resilience.EventRejected} {
		hooks = append(hooks, hook{"Observer on " + k.String(), func(cfg *grpcx.Config, armed *atomic.Bool) {
			cfg.Observer = observerFunc(func(e resilience.Event) {
				if e.Kind == k && armed.CompareAndSwap(true, false) {
					panic("hook")
				}
			})
		}})
	}
	for _, h := range hooks {
		for _, kind := range []string{"unary", "stream"} {
			t.Run(h.name+"/"+kind, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					var armed atomic.Bool
					var code atomic.Int32
					code.Store(int32(codes.Unavailable))
					cfg := grpcx.Config{
						Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 2, OpenTimeout: time.Second, HalfOpenTimeout: time.Hour}},
						Bulkhead: bulkhead.Config{MaxConcurrent: 1},
					}
					h.cfg(&cfg, &armed)
					ic := mustNew(t, cfg)
					call := func() error {
						if kind == "unary" {
							return ic.UnaryClientInterceptor()(context.Background(), method, nil, nil, nil, invokeWith(&code))
						}
						_, err := ic.StreamClientInterceptor()(context.Background(), &grpc.StreamDesc{}, nil, method, streamWith(&code))
						return err
					}
					armed.Store(true)
					for range 4 { // closed, tripping, refused, refused: every event comes up
						r := recovering(func() { _ = call() })
						if r != nil {
							assert.Equal(t, "hook", r)
						}
						assert.Zero(t, inFlight(ic), "no slot left taken")
					}
					time.Sleep(time.Second)           // half-open: a probe must be free
					code.Store(int32(codes.NotFound)) // not a failure; a stream that ends at once
					assert.Equal(t, codes.NotFound, status.Code(call()), "the probe was not lost")
					assert.Equal(t, breaker.Closed, ic.Breakers().Get(method).State())
					assert.Zero(t, inFlight(ic))
				})
			})
		}
	}
}

type observerFunc func(resilience.Event)

func (f observerFunc) Observe(e resilience.Event) { f(e) }
