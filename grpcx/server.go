package grpcx

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/admit"
	"github.com/go-resilience/resilience/ratelimit"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// ServerConfig configures a Server, the interceptors that shed load on the
// server side (see the package doc, "Server side"). The zero value admits
// every call, refuses only those whose deadline has already passed, and
// never sheds the gRPC health service; set Policy to bound the work.
type ServerConfig struct {
	// Name names the server in the Events it reports (Event.Policy) and
	// in health reports. Zero: "".
	Name string

	// Policy runs each admitted call or stream: a bulkhead, an adaptive
	// concurrency limit, a rate limiter, or a resilience.Chain of them. A
	// stream holds what it takes (a bulkhead slot) until it ends. Its
	// refusals are answered at once (see ShedError). A timeout policy's
	// deadline reaches the handler through its context; its abandon mode
	// must not be used here. Nil: no limit.
	Policy resilience.Policy

	// Key returns the key of a call from its context (with the client's
	// metadata) and full method name. It is reported as Event.Key and
	// passed to PolicyFor. Nil: the full method name.
	Key func(ctx context.Context, fullMethod string) string

	// PolicyFor returns the Policy of a key, such as a limiter per method
	// or per client from a ratelimit.Set (Set.Get). It is called on every
	// call that is not exempt; it must be fast and safe for concurrent
	// use, and it bounds the keys it keeps itself. A nil result means
	// Policy. Nil: Policy for every key.
	PolicyFor func(key string) resilience.Policy

	// Exempt lists the methods never shed, as full method names
	// ("/pkg.Service/Method"); a name ending in "/" exempts a whole
	// service ("/grpc.health.v1.Health/"). Each must start with "/". Nil:
	// the gRPC health service is exempt; an empty, non-nil slice exempts
	// nothing.
	Exempt []string

	// MinDeadline is the least remaining time (the deadline the client
	// propagated) worth starting a call for: one with less is refused at
	// once with ErrShortDeadline, as codes.DeadlineExceeded. Zero: only
	// calls whose deadline has passed are refused. It must not be
	// negative.
	MinDeadline time.Duration

	// MaxWaiting bounds how many calls may wait for Policy at once; one
	// more is refused at once with ErrQueueFull. Zero: no bound beyond the
	// Policy's own. It must not be negative.
	MaxWaiting int

	// QueueTarget turns on the CoDel rule (see the package doc): while
	// every call admitted over the last QueueInterval waited at least
	// QueueTarget for Policy, a call that waited that long is refused
	// with ErrStandingQueue when its turn comes. Zero: off. It must not be
	// negative.
	QueueTarget time.Duration

	// QueueInterval is the window of the CoDel rule. Zero: 100ms. It must
	// not be negative.
	QueueInterval time.Duration

	// RetryAfter is the pushback sent in the grpc-retry-pushback-ms
	// trailer with refusals that carry no hint of their own (a full
	// bulkhead). Zero: such refusals are sent without it. A refusal's own
	// hint (resilience.RetryAfter), such as a rate limiter's, always wins.
	// It must not be negative.
	RetryAfter time.Duration

	// Observer is told of each call admitted (EventAdmitted, with Latency
	// the time it waited for Policy) and shed (EventShed, with Err the
	// refusal). Nil: nothing is reported.
	Observer resilience.Observer
}

// HealthService is the prefix of the methods of the standard gRPC health
// service, exempt by default (ServerConfig.Exempt).
const HealthService = "/grpc.health.v1.Health/"

// ErrShortDeadline is matched by the refusal of a call whose remaining
// deadline is already past or shorter than ServerConfig.MinDeadline. It
// matches resilience.ErrRejected; httpx and grpcx share it.
var ErrShortDeadline = admit.ErrShortDeadline

// ErrQueueFull is matched by the refusal of a call that found
// ServerConfig.MaxWaiting calls already waiting. It matches
// resilience.ErrRejected; httpx and grpcx share it.
var ErrQueueFull = admit.ErrQueueFull

// ErrStandingQueue is matched by the refusal, by the CoDel rule, of a call
// that waited longer than ServerConfig.QueueTarget while the queue stood
// above it. It matches resilience.ErrRejected; httpx and grpcx share it.
var ErrStandingQueue = admit.ErrStandingQueue

// PushbackTrailer is the trailer that carries a refusal's retry hint to
// the client, in whole milliseconds (gRPC's retry design, A6).
const PushbackTrailer = "grpc-retry-pushback-ms"

// A ShedError is what the server interceptors return for a call they
// refused; the client sees its status. It is a gRPC status error and a Go
// error chain at once: errors.Is(err, resilience.ErrRejected) and the
// refusal's own sentinel (bulkhead.ErrFull, ratelimit.ErrLimited,
// ErrShortDeadline ...) hold, and it implements resilience.Hinted.
//
// Its code is ResourceExhausted for a rate limiter's refusal,
// DeadlineExceeded for ErrShortDeadline, and Unavailable for every other
// refusal (overload); its RetryAfter, when not zero, is sent to the
// client in the grpc-retry-pushback-ms trailer.
type ShedError struct {
	// Err is the refusal: the Policy's, or ErrShortDeadline, ErrQueueFull,
	// ErrStandingQueue.
	Err error
	// Method is the full method name of the refused call.
	Method string

	code       codes.Code
	retryAfter time.Duration
}

// Error says which method was refused and why.
func (e *ShedError) Error() string { return "grpcx: server shed " + e.Method + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *ShedError) Unwrap() error { return e.Err }

// GRPCStatus returns the status the client receives.
func (e *ShedError) GRPCStatus() *status.Status { return status.New(e.code, e.Error()) }

// RetryAfter returns the pushback sent with the refusal; zero when none.
func (e *ShedError) RetryAfter() time.Duration { return e.retryAfter }

// ShedCode is the status code the server interceptors refuse a call
// with: ResourceExhausted for a rate limiter's refusal
// (ratelimit.ErrLimited), DeadlineExceeded for ErrShortDeadline, and
// Unavailable for every other (overload).
func ShedCode(err error) codes.Code {
	switch {
	case errors.Is(err, ratelimit.ErrLimited):
		return codes.ResourceExhausted
	case errors.Is(err, ErrShortDeadline):
		return codes.DeadlineExceeded
	}
	return codes.Unavailable
}

// A Server holds server interceptors, for unary calls and streams, that
// run each call under a Policy and refuse the rest at once. Make one with
// NewServer and install both with ServerOptions. They share the Policy,
// the queue and the shedding state.
//
// A Server is safe for concurrent use. The zero value is not usable.
type Server struct {
	cfg   ServerConfig
	gate  *admit.Gate
	unary sync.Pool // *serverUnary
}

// NewServer returns a Server configured by cfg, or an error naming the
// first field of cfg that is out of range.
func NewServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Exempt == nil {
		cfg.Exempt = []string{HealthService}
	} else {
		cfg.Exempt = append([]string{}, cfg.Exempt...)
	}
	s := &Server{cfg: cfg, gate: admit.New(cfg.gate())}
	s.unary.New = func() any { return new(serverUnary) }
	return s, nil
}

func (cfg *ServerConfig) validate() error {
	for i, m := range cfg.Exempt {
		if !strings.HasPrefix(m, "/") {
			return fmt.Errorf("grpcx: ServerConfig.Exempt[%d] must start with \"/\", got %q", i, m)
		}
	}
	if err := cfg.gate().Validate("grpcx: ServerConfig"); err != nil {
		return err
	}
	if cfg.RetryAfter < 0 {
		return fmt.Errorf("grpcx: ServerConfig.RetryAfter must be >= 0, got %v", cfg.RetryAfter)
	}
	return nil
}

// gate returns the configuration of the Server's admit.Gate.
func (cfg *ServerConfig) gate() admit.Config {
	return admit.Config{
		Name:          cfg.Name,
		MinDeadline:   cfg.MinDeadline,
		MaxWaiting:    cfg.MaxWaiting,
		QueueTarget:   cfg.QueueTarget,
		QueueInterval: cfg.QueueInterval,
		Observer:      cfg.Observer,
	}
}

// ServerOptions returns the grpc.ServerOptions that install both
// interceptors, chained before any installed after them.
func (s *Server) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(s.StreamServerInterceptor()),
	}
}

// Name returns ServerConfig.Name.
func (s *Server) Name() string { return s.cfg.Name }

// Shedding reports whether the Server has refused a call within the last
// second, and since when it has been refusing calls with no pause of a
// second or more. A readiness probe (package health) reads it.
func (s *Server) Shedding() (since time.Time, ok bool) { return s.gate.Shedding() }

// Waiting returns how many calls are waiting for the Policy now.
func (s *Server) Waiting() int { return s.gate.Waiting() }

// UnaryServerInterceptor returns the interceptor for unary calls.
func (s *Server) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return s.interceptUnary
}

// StreamServerInterceptor returns the interceptor for streams. A stream
// holds what its Policy gave it (a bulkhead slot) until its handler
// returns, when the stream ends.
func (s *Server) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return s.interceptStream
}

func (s *Server) exempt(method string) bool {
	for _, m := range s.cfg.Exempt {
		if method == m || m[len(m)-1] == '/' && strings.HasPrefix(method, m) {
			return true
		}
	}
	return false
}

// admit runs the checks before the Policy: it returns the key, the
// Policy (nil: none), the arrival time for Begin, or a refusal.
func (s *Server) admit(ctx context.Context, method string) (string, resilience.Policy, int64, error) {
	key := method
	if s.cfg.Key != nil {
		key = s.cfg.Key(ctx, method)
	}
	p := s.cfg.Policy
	if s.cfg.PolicyFor != nil {
		if kp := s.cfg.PolicyFor(key); kp != nil {
			p = kp
		}
	}
	// From here on the call counts as waiting: no user hook runs until
	// Begin or Leave (a panic in one would leave it counted).
	arrived, err := s.gate.Enter(ctx, false)
	if err != nil {
		s.gate.Shed(ctx, key, err)
		return key, nil, 0, s.shed(ctx, method, err)
	}
	return key, p, arrived, nil
}

// shed returns the error a refused call ends with, and sets the pushback
// trailer. A call whose own context ended while it waited ends with its
// context's status instead.
func (s *Server) shed(ctx context.Context, method string, err error) error {
	if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		return status.FromContextError(cerr).Err()
	}
	e := &ShedError{Err: err, Method: method, code: ShedCode(err)}
	if d, ok := resilience.RetryAfter(err); ok && d > 0 {
		e.retryAfter = d
	} else {
		e.retryAfter = s.cfg.RetryAfter
	}
	if e.retryAfter > 0 {
		ms := (e.retryAfter + time.Millisecond - 1) / time.Millisecond
		_ = grpc.SetTrailer(ctx, metadata.MD{PushbackTrailer: {strconv.FormatInt(int64(ms), 10)}})
	}
	return e
}

func (s *Server) interceptUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if s.exempt(info.FullMethod) {
		return handler(ctx, req)
	}
	key, p, arrived, err := s.admit(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	if p == nil {
		if err := s.gate.Begin(ctx, arrived, key); err != nil {
			return nil, s.shed(ctx, info.FullMethod, err)
		}
		return handler(ctx, req)
	}
	c := s.unary.Get().(*serverUnary)
	c.req, c.handler = req, handler
	c.Start(ctx, s.gate, c, key, arrived)
	refused, err := s.gate.Execute(p, &c.Request)
	resp := c.resp
	if !c.Keep() {
		*c = serverUnary{}
		s.unary.Put(c)
	}
	if refused {
		return nil, s.shed(ctx, info.FullMethod, err)
	}
	return resp, err
}

// A serverUnary is one unary call on its way through the Policy (see
// admit.Request), pooled.
type serverUnary struct {
	admit.Request
	req     any
	handler grpc.UnaryHandler
	resp    any
}

// Serve calls the handler once the Policy runs the call.
func (c *serverUnary) Serve(ctx context.Context, _ bool) error {
	var err error
	c.resp, err = c.handler(ctx, c.req)
	return err
}

// A serverStream is one stream on its way through the Policy (see
// admit.Request); streams are long, so it is not pooled.
type serverStream struct {
	admit.Request
	srv     any
	ss      grpc.ServerStream
	handler grpc.StreamHandler
}

// Serve calls the handler once the Policy runs the stream. When the Policy
// added a deadline (derived), the stream's Context carries it.
func (c *serverStream) Serve(ctx context.Context, derived bool) error {
	ss := c.ss
	if derived {
		ss = &policyStream{ServerStream: ss, ctx: ctx}
	}
	return c.handler(c.srv, ss)
}

// policyStream is a ServerStream with the context a Policy gave it.
type policyStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *policyStream) Context() context.Context { return s.ctx }

func (s *Server) interceptStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if s.exempt(info.FullMethod) {
		return handler(srv, ss)
	}
	ctx := ss.Context()
	key, p, arrived, err := s.admit(ctx, info.FullMethod)
	if err != nil {
		return err
	}
	if p == nil {
		if err := s.gate.Begin(ctx, arrived, key); err != nil {
			return s.shed(ctx, info.FullMethod, err)
		}
		return handler(srv, ss)
	}
	c := &serverStream{srv: srv, ss: ss, handler: handler}
	c.Start(ctx, s.gate, c, key, arrived)
	refused, err := s.gate.Execute(p, &c.Request)
	if refused {
		return s.shed(ctx, info.FullMethod, err)
	}
	return err
}
