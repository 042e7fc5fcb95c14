package grpcx

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/timeout"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// StreamClientInterceptor returns the interceptor for streams. Each stream
// is one call to its key's breaker and one slot of the bulkhead, held from
// before the stream starts until it ends:
//
//   - a refusal returns a *RejectedError, with code Unavailable, and no
//     stream;
//   - the stream's context gets the earlier of the caller's deadline and
//     Config.StreamTimeout, for the stream's whole life;
//   - the outcome the breaker records is the stream's: the error that kept
//     it from starting, or its final status (what RecvMsg returns when it
//     returns an error; io.EOF is OK);
//   - the slot (and a half-open probe) is given back exactly once, when the
//     stream ends: RecvMsg has returned its final status, the caller's
//     context is cancelled or its deadline passed (the stream is abandoned:
//     no one needs to read it to the end), or the connection is closed.
//
// A stream the caller neither reads to the end nor cancels, on a connection
// it does not close, holds its slot for ever; gRPC leaks that stream too.
//
// A panic in a hook (the Classifier, the Observer) as the stream starts or
// ends gives back the slot and the probe (recording a failure) before it
// goes on.
func (ic *Interceptors) StreamClientInterceptor() grpc.StreamClientInterceptor {
	return ic.stream
}

func (ic *Interceptors) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	key := ic.key(method)
	done, err := ic.breakers.Get(key).Allow(ctx)
	if err != nil {
		return nil, toCallerError(key, err)
	}
	bh := ic.lanes.get(key).bh
	if bh != nil {
		if err := acquire(ctx, bh, done); err != nil {
			done(err)
			return nil, toCallerError(key, err)
		}
	}
	s := &streamCall{ic: ic, key: key, ctx: ctx, sctx: ctx, done: done, bh: bh}
	if d := ic.streamTimeout; d > 0 {
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > d {
			s.sctx, s.cancel = context.WithTimeoutCause(ctx, d, timeout.ErrTimeout)
		}
	}
	s.stop = context.AfterFunc(s.sctx, s.abandoned)

	// gRPC calls OnFinish with the stream's final status however it ends,
	// and also when it fails to start.
	opts = append(opts[:len(opts):len(opts)], grpc.OnFinish(s.finished))
	returned := false
	defer func() {
		if !returned { // the streamer panicked
			s.end(errStreamerPanicked, true)
		}
	}()
	cs, err := streamer(s.sctx, desc, cc, method, opts...)
	returned = true
	if err != nil {
		// Not every streamer reaches gRPC (an interceptor after this one
		// may fail first), so OnFinish may not come: end here too.
		s.end(err, true)
		return nil, s.callerError(err)
	}
	if s.cancel != nil {
		return &timedStream{ClientStream: cs, s: s}, nil
	}
	return cs, nil
}

// errStreamerPanicked is the outcome recorded for a stream whose streamer
// panicked: a failure, as a panic in a unary call is.
var errStreamerPanicked = errors.New("grpcx: streamer panicked")

// A streamCall is one stream between the interceptor and its end.
type streamCall struct {
	ic   *Interceptors
	key  string
	ctx  context.Context // the caller's
	sctx context.Context // the stream's: ctx, or ctx with StreamTimeout

	done   func(error)        // the breaker's
	bh     *bulkhead.Bulkhead // nil: none
	cancel context.CancelFunc // nil: sctx is ctx
	stop   func() bool        // of the AfterFunc on sctx

	ended atomic.Bool
}

// finished is the OnFinish callback: err is the stream's final status.
func (s *streamCall) finished(err error) { s.end(err, true) }

// abandoned runs when sctx is done before the stream ended otherwise: the
// caller cancelled or gave up, or StreamTimeout passed. gRPC ends the stream
// then, too, and whichever of the two comes first is recorded.
func (s *streamCall) abandoned() {
	s.end(status.FromContextError(s.sctx.Err()).Err(), false)
}

// end records the stream's outcome and gives back what it holds, once.
// stop says whether the AfterFunc may still be pending (it is not when end
// runs in it).
func (s *streamCall) end(err error, stop bool) {
	if !s.ended.CompareAndSwap(false, true) {
		return
	}
	if stop {
		s.stop()
	}
	if err != nil {
		settle(s.sctx, err)
	}
	// A hook (the Observer, the Classifier in done) may panic: the probe,
	// the slot and the context are given back all the same, and the panic
	// goes on.
	recorded := false
	defer func() {
		if !recorded {
			s.done(errHookPanicked)
		}
		if s.cancel != nil {
			s.cancel()
		}
		if s.bh != nil {
			s.bh.Release()
		}
	}()
	if err != nil && s.timedOut() {
		err = &streamTimeoutError{err}
		if s.ic.obs != nil {
			s.ic.obs.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: s.ic.name, Key: s.key, Err: err})
		}
	}
	recorded = true
	s.done(err)
}

// timedOut reports whether the policy's own deadline ended the stream: the
// stream's context ended for that cause, the caller's did not end.
func (s *streamCall) timedOut() bool {
	return s.cancel != nil && s.ctx.Err() == nil && s.sctx.Err() != nil &&
		context.Cause(s.sctx) == timeout.ErrTimeout
}

// callerError is the error the caller gets for err from the stream: as
// toCallerError, and marked as the policy's timeout when it was.
func (s *streamCall) callerError(err error) error {
	if err == nil {
		return nil
	}
	if s.timedOut() && codeOf(err) == codes.DeadlineExceeded {
		if _, ok := errors.AsType[*streamTimeoutError](err); !ok {
			return &streamTimeoutError{err}
		}
	}
	return toCallerError(s.key, err)
}

// timedStream is a stream with a deadline of the policy's own, whose errors
// say so when it passed.
type timedStream struct {
	grpc.ClientStream
	s *streamCall
}

func (t *timedStream) RecvMsg(m any) error { return t.s.callerError(t.ClientStream.RecvMsg(m)) }

func (t *timedStream) SendMsg(m any) error {
	err := t.ClientStream.SendMsg(m)
	if err == nil || err == io.EOF {
		return err // io.EOF: the status comes from RecvMsg
	}
	return t.s.callerError(err)
}

// streamTimeoutError is a stream ended by Config.StreamTimeout: it has code
// DeadlineExceeded and matches timeout.ErrTimeout and
// context.DeadlineExceeded, with gRPC's own error reachable too.
type streamTimeoutError struct{ err error }

func (e *streamTimeoutError) Error() string {
	return "grpcx: stream: " + timeout.ErrTimeout.Error() + ": " + e.err.Error()
}

func (e *streamTimeoutError) Unwrap() []error { return []error{timeout.ErrTimeout, e.err} }

func (e *streamTimeoutError) GRPCStatus() *status.Status {
	return status.New(codes.DeadlineExceeded, e.Error())
}
