package grpcx

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-resilience/resilience/inject"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// InjectConfig puts the faults of an inject.Injector into gRPC calls, on
// the client side, where they happen inside the Interceptors' breaker,
// bulkhead and timeout when chained after them, or on the server side,
// where their codes and delays reach the clients. The Injector decides
// which calls get a fault and which (a delay, an error, or both), and it
// is the switch: nothing is injected until its Enable is called.
type InjectConfig struct {
	// Injector decides the faults and turns them on and off. Required.
	Injector *inject.Injector

	// Code is the status code of a call the Injector fails (one that
	// draws the fault while the Injector's Config.Err is set). The error
	// returned carries it (status.Code) and wraps the Injector's error
	// (errors.Is, on the side that injected it). Zero (codes.OK):
	// Unavailable. It must otherwise be one of the codes gRPC defines.
	Code codes.Code

	// Match limits the faults to the calls of the methods for which it
	// returns true, given the full method name ("/pkg.Service/Method").
	// Use it to keep health checks out of a game day. It is called only
	// while the Injector is enabled; it must be fast and safe for
	// concurrent use. Nil: every method.
	Match func(method string) bool

	// Metadata names a metadata key that marks a call, as inject.Mark
	// marks a context: with the Injector's Config.MarkedOnly, only marked
	// calls get faults, so a client can make one test call fail end to end
	// by sending, say, "x-fault-inject: 1". The server interceptors read
	// it from the incoming metadata, the client ones from the outgoing
	// metadata. Any non-empty value marks. Keys are matched lower-cased.
	// Empty: metadata control is off, and no metadata ever has any effect
	// on the faults, however a client sets it.
	Metadata string
}

// InjectInterceptors are client and server interceptors, unary and
// stream, that inject the faults of an InjectConfig. They are safe for
// concurrent use, and one value may serve any number of connections and
// servers, switched together by its Injector. While the Injector is
// disabled a call costs one atomic load more and allocates nothing more.
// Make them with NewInjectInterceptors.
type InjectInterceptors struct {
	in    *inject.Injector
	code  codes.Code
	match func(string) bool
	md    string // lower-case, or "" for no metadata control
}

// NewInjectInterceptors returns interceptors that inject the faults of
// cfg, or an error naming the field of cfg that is invalid.
func NewInjectInterceptors(cfg InjectConfig) (*InjectInterceptors, error) {
	switch {
	case cfg.Injector == nil:
		return nil, errors.New("grpcx: InjectConfig.Injector must not be nil")
	case cfg.Code > codes.Unauthenticated:
		return nil, fmt.Errorf("grpcx: InjectConfig.Code must be a gRPC code (zero: Unavailable), got %d", uint32(cfg.Code))
	case cfg.Metadata != "" && !validMetadataKey(cfg.Metadata):
		return nil, fmt.Errorf("grpcx: InjectConfig.Metadata must be a metadata key of letters, digits, '-', '_' and '.', not ending in \"-bin\" nor starting with \"grpc-\", got %q", cfg.Metadata)
	}
	ii := &InjectInterceptors{in: cfg.Injector, code: cfg.Code, match: cfg.Match, md: lower(cfg.Metadata)}
	if ii.code == codes.OK {
		ii.code = codes.Unavailable
	}
	return ii, nil
}

func validMetadataKey(s string) bool {
	k := lower(s)
	if len(k) >= 5 && k[:5] == "grpc-" || len(k) >= 4 && k[len(k)-4:] == "-bin" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// DialOptions returns the options that install the client interceptors.
// Put them after the Interceptors' own DialOptions, so that the faults
// happen inside the breaker, bulkhead and timeout, which react to them:
//
//	grpc.NewClient(target, append(ic.DialOptions(), faults.DialOptions()...)...)
func (ii *InjectInterceptors) DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(ii.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(ii.StreamClientInterceptor()),
	}
}

// ServerOptions returns the options that install the server interceptors.
func (ii *InjectInterceptors) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(ii.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(ii.StreamServerInterceptor()),
	}
}

// UnaryClientInterceptor returns the interceptor that injects faults into
// unary calls: a call that draws a delay waits it (a context ending first
// fails the call with Canceled or DeadlineExceeded) and then goes on; one
// that draws an error fails with it, as an error of code Config.Code,
// without reaching the server.
func (ii *InjectInterceptors) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if ii.in.Enabled() {
			if err := ii.apply(ctx, method, outgoing); err != nil {
				return err
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// StreamClientInterceptor returns the interceptor that injects faults into
// streams when they start, as UnaryClientInterceptor does for unary calls.
func (ii *InjectInterceptors) StreamClientInterceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if ii.in.Enabled() {
			if err := ii.apply(ctx, method, outgoing); err != nil {
				return nil, err
			}
		}
		return streamer(ctx, desc, cc, method, opts...)
	}
}

// UnaryServerInterceptor returns the interceptor that injects faults into
// the unary calls a server handles: a call that draws a delay waits it and
// then goes on to its handler (a client gone first ends it with Canceled
// or DeadlineExceeded); one that draws an error is answered with code
// Config.Code and the handler never sees it.
func (ii *InjectInterceptors) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if ii.in.Enabled() {
			if err := ii.apply(ctx, info.FullMethod, incoming); err != nil {
				return nil, err
			}
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor returns the interceptor that injects faults into
// the streams a server handles, before its handler runs, as
// UnaryServerInterceptor does for unary calls.
func (ii *InjectInterceptors) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if ii.in.Enabled() {
			if err := ii.apply(ss.Context(), info.FullMethod, incoming); err != nil {
				return err
			}
		}
		return handler(srv, ss)
	}
}

type side bool

const (
	outgoing side = false
	incoming side = true
)

// apply decides the fault of a call of method and applies its delay; it
// returns the error the call must end with, or nil to go on.
func (ii *InjectInterceptors) apply(ctx context.Context, method string, s side) error {
	if ii.match != nil && !ii.match(method) {
		return nil
	}
	f, ok := ii.in.Decide(method, ii.marked(ctx, s))
	if !ok {
		return nil
	}
	if err := f.Sleep(ctx); err != nil {
		return status.FromContextError(err).Err()
	}
	if f.Err == nil {
		return nil
	}
	return &injectedError{code: ii.code, err: f.Err}
}

func (ii *InjectInterceptors) marked(ctx context.Context, s side) bool {
	if inject.Marked(ctx) {
		return true
	}
	if ii.md == "" {
		return false
	}
	var vs []string
	if s == incoming {
		vs = metadata.ValueFromIncomingContext(ctx, ii.md)
	} else if md, ok := metadata.FromOutgoingContext(ctx); ok {
		vs = md.Get(ii.md)
	}
	return len(vs) > 0 && vs[0] != ""
}

// injectedError is the error of a call failed on purpose: a gRPC status
// with the configured code that keeps the Injector's error reachable.
type injectedError struct {
	code codes.Code
	err  error
}

func (e *injectedError) Error() string { return "grpcx: injected fault: " + e.err.Error() }

func (e *injectedError) Unwrap() error { return e.err }

// GRPCStatus returns the status of the error: Config.Code and its message.
func (e *injectedError) GRPCStatus() *status.Status { return status.New(e.code, e.Error()) }
