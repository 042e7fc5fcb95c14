package grpcx

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/hedge"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// HedgeFatal is Config.Hedge.Fatal when it is nil: which errors of a
// hedged unary call's attempt end the call at once, as the codes missing
// from gRPC's nonFatalStatusCodes do. A refusal of this module's policies
// (an open breaker, a full bulkhead) is fatal; so is any answer of the
// server's own (OK aside): NotFound, InvalidArgument, PermissionDenied and
// the like, which another attempt would only repeat. The codes that say
// the server failed (Unavailable, ResourceExhausted, Internal, Unknown,
// DeadlineExceeded of the attempt's own timeout) are not fatal: the other
// attempts may still answer.
func HedgeFatal(err error) bool {
	if errors.Is(err, resilience.ErrRejected) {
		return true
	}
	switch codeOf(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Internal, codes.Unknown, codes.DeadlineExceeded:
		return false
	}
	return true
}

func newHedge(cfg Config) (*hedge.Hedge, error) {
	hc := *cfg.Hedge
	if hc.Name == "" {
		hc.Name = cfg.Name
	}
	if hc.Observer == nil {
		hc.Observer = cfg.Observer
	}
	if hc.Fatal == nil {
		hc.Fatal = HedgeFatal
	}
	return hedge.New(hc)
}

// hedgedCall is one unary call under the hedge. The first attempt fills
// the caller's reply; each hedge a new message of the same type, copied
// into the caller's when it wins, so that no two attempts write one
// message.
type hedgedCall struct {
	policy  resilience.Policy
	method  string
	req     any
	reply   proto.Message
	cc      *grpc.ClientConn
	invoker grpc.UnaryInvoker
	opts    []grpc.CallOption
	n       atomic.Int32
}

func (hc *hedgedCall) attempt(ctx context.Context) (proto.Message, error) {
	reply := hc.reply
	if hc.n.Add(1) > 1 {
		reply = reply.ProtoReflect().New().Interface()
	}
	err := hc.policy.Execute(ctx, func(ctx context.Context) error {
		err := hc.invoker(ctx, hc.method, hc.req, reply, hc.cc, hc.opts...)
		if err != nil {
			settle(ctx, err)
		}
		return err
	})
	return reply, err
}

// unaryHedge runs a unary call under the hedge; a reply that is not a
// proto.Message (another codec) cannot be copied, and is sent once.
func (ic *Interceptors) unaryHedge(ctx context.Context, policy resilience.Policy, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts []grpc.CallOption) error {
	m, ok := reply.(proto.Message)
	if !ok {
		return policy.Execute(ctx, func(ctx context.Context) error {
			return invoker(ctx, method, req, reply, cc, opts...)
		})
	}
	hc := &hedgedCall{policy: policy, method: method, req: req, reply: m, cc: cc, invoker: invoker, opts: opts}
	won, err := hedge.Do(ctx, ic.hedge, nil, hc.attempt)
	if err == nil && won != m {
		proto.Reset(m)
		proto.Merge(m, won)
	}
	return err
}
