package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/admit"
	"github.com/go-resilience/resilience/ratelimit"
)

// ServerConfig configures a Server, the middleware that sheds load on the
// server side (see the package doc, "Server side"). The zero value admits
// every request and refuses only those whose deadline has already passed;
// set Policy to bound the work.
type ServerConfig struct {
	// Name names the server in the Events it reports (Event.Policy) and
	// in health reports. Zero: "".
	Name string

	// Policy runs each admitted request: a bulkhead, an adaptive
	// concurrency limit, a rate limiter, or a resilience.Chain of them.
	// Its refusals are answered at once (see Refuse). A timeout policy's
	// deadline reaches the handler through the request's context; its
	// abandon mode must not be used here (a handler may not write after
	// ServeHTTP returns). Nil: no limit.
	Policy resilience.Policy

	// Key returns the key of a request: a route (PatternKey), a client
	// (HeaderKey), a tenant. It is reported as Event.Key and passed to
	// PolicyFor. Nil: every request has the key "".
	Key func(*http.Request) string

	// PolicyFor returns the Policy of a key, such as a limiter per client
	// from a ratelimit.Set (Set.Get). It is called on every request that
	// is not exempt; it must be fast and safe for concurrent use, and it
	// bounds the keys it keeps itself. A nil result means Policy. Nil:
	// Policy for every key.
	PolicyFor func(key string) resilience.Policy

	// Exempt lists the paths never shed: health, readiness and metrics
	// endpoints. A path ending in "/" exempts every path under it, as in
	// http.ServeMux; others match r.URL.Path exactly. Each must start
	// with "/".
	Exempt []string

	// TimeoutHeader names a request header carrying the client's
	// remaining time, in whole milliseconds as decimal digits (as in
	// Envoy's x-envoy-expected-rq-timeout-ms). A request with it gets
	// that deadline on its context, and is refused at once when it is
	// zero or below MinDeadline. A value that is not such a number
	// (garbage, a sign, more than 9 digits: over 11 days) is ignored, as
	// if the header were absent. Empty: no header is read, and only a
	// deadline already on the request's context counts.
	TimeoutHeader string

	// MinDeadline is the least remaining time worth starting a request
	// for: one with less is refused at once with ErrShortDeadline (503).
	// Zero: only requests whose deadline has passed are refused. It must
	// not be negative.
	MinDeadline time.Duration

	// MaxWaiting bounds how many requests may wait for Policy at once;
	// one more is refused at once with ErrQueueFull (503). Zero: no bound
	// beyond the Policy's own. It must not be negative.
	MaxWaiting int

	// QueueTarget turns on the CoDel rule (see the package doc): while
	// every request admitted over the last QueueInterval waited at least
	// QueueTarget for Policy, a request that waited that long is refused
	// with ErrStandingQueue (503) when its turn comes, instead of being
	// served late. Zero: off. It must not be negative.
	QueueTarget time.Duration

	// QueueInterval is the window of the CoDel rule. Zero: 100ms. It must
	// not be negative.
	QueueInterval time.Duration

	// RetryAfter is the hint sent in Retry-After (whole seconds, rounded
	// up) with refusals that carry none of their own (a full bulkhead).
	// Zero: such refusals are sent without Retry-After. A refusal's own
	// hint (resilience.RetryAfter), such as a rate limiter's, always wins.
	// It must not be negative.
	RetryAfter time.Duration

	// Refuse writes the answer to a refused request, after Retry-After
	// has been set on w. err is the refusal (matching
	// resilience.ErrRejected unless the client's context ended while it
	// waited). Nil: RefusalStatus(err) with a short text body.
	Refuse func(w http.ResponseWriter, r *http.Request, err error)

	// Observer is told of each request admitted (EventAdmitted, with
	// Latency the time it waited for Policy) and shed (EventShed, with Err
	// the refusal). Nil: nothing is reported.
	Observer resilience.Observer
}

// ErrShortDeadline is matched by the refusal of a request whose remaining
// time (its context's deadline, or ServerConfig.TimeoutHeader) is already
// past or shorter than ServerConfig.MinDeadline. It matches
// resilience.ErrRejected. httpx and grpcx share it.
var ErrShortDeadline = admit.ErrShortDeadline

// ErrQueueFull is matched by the refusal of a request that found
// ServerConfig.MaxWaiting requests already waiting. It matches
// resilience.ErrRejected. httpx and grpcx share it.
var ErrQueueFull = admit.ErrQueueFull

// ErrStandingQueue is matched by the refusal, by the CoDel rule, of a
// request that waited longer than ServerConfig.QueueTarget while the queue
// stood above it. It matches resilience.ErrRejected. httpx and grpcx share
// it.
var ErrStandingQueue = admit.ErrStandingQueue

// RefusalStatus is the status code a Server answers a refusal with: 429
// Too Many Requests for a rate limiter's refusal (ratelimit.ErrLimited),
// 503 Service Unavailable for every other.
func RefusalStatus(err error) int {
	if errors.Is(err, ratelimit.ErrLimited) {
		return http.StatusTooManyRequests
	}
	return http.StatusServiceUnavailable
}

// A Server is server-side middleware that runs each request under a
// Policy and answers the ones it refuses at once. Make one with NewServer
// and wrap handlers with Middleware; one Server may wrap many handlers,
// which then share its Policy, its queue and its shedding state.
//
// A Server is safe for concurrent use. The zero value is not usable.
type Server struct {
	cfg  ServerConfig
	gate *admit.Gate
	pool sync.Pool // *serverCall
}

// NewServer returns a Server configured by cfg, or an error naming the
// first field of cfg that is out of range.
func NewServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Exempt = append([]string(nil), cfg.Exempt...)
	s := &Server{cfg: cfg, gate: admit.New(cfg.gate())}
	s.pool.New = func() any { return new(serverCall) }
	return s, nil
}

func (cfg *ServerConfig) validate() error {
	for i, p := range cfg.Exempt {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("httpx: ServerConfig.Exempt[%d] must start with \"/\", got %q", i, p)
		}
	}
	if cfg.TimeoutHeader != "" && !validHeaderName(cfg.TimeoutHeader) {
		return fmt.Errorf("httpx: ServerConfig.TimeoutHeader must be a valid header name, got %q", cfg.TimeoutHeader)
	}
	if err := cfg.gate().Validate("httpx: ServerConfig"); err != nil {
		return err
	}
	if cfg.RetryAfter < 0 {
		return fmt.Errorf("httpx: ServerConfig.RetryAfter must be >= 0, got %v", cfg.RetryAfter)
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

// Middleware returns a handler that runs next for each request the Server
// admits and answers the others at once: Server.Middleware is a
// func(http.Handler) http.Handler. A nil next is http.NotFoundHandler.
func (s *Server) Middleware(next http.Handler) http.Handler {
	if next == nil {
		next = http.NotFoundHandler()
	}
	return &serverHandler{s: s, next: next}
}

// Name returns ServerConfig.Name.
func (s *Server) Name() string { return s.cfg.Name }

// Shedding reports whether the Server has refused a request within the
// last second, and since when it has been refusing requests with no
// pause of a second or more. A readiness probe (package health) reads it.
func (s *Server) Shedding() (since time.Time, ok bool) { return s.gate.Shedding() }

// Waiting returns how many requests are waiting for the Policy now.
func (s *Server) Waiting() int { return s.gate.Waiting() }

type serverHandler struct {
	s    *Server
	next http.Handler
}

func (h *serverHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	if s.exempt(r.URL.Path) {
		h.next.ServeHTTP(w, r)
		return
	}
	var key string
	if s.cfg.Key != nil {
		key = s.cfg.Key(r)
	}
	checked := false
	if s.cfg.TimeoutHeader != "" {
		if d, ok := parseTimeoutMillis(r.Header.Get(s.cfg.TimeoutHeader)); ok {
			if d <= 0 || d < s.cfg.MinDeadline {
				s.gate.Shed(r.Context(), key, ErrShortDeadline)
				s.refuse(w, r, ErrShortDeadline)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			r = r.WithContext(ctx)
			checked = true
		}
	}
	p := s.cfg.Policy
	if s.cfg.PolicyFor != nil {
		if kp := s.cfg.PolicyFor(key); kp != nil {
			p = kp
		}
	}
	// From here on the request counts as waiting: no user hook runs
	// until Begin or Leave (a panic in one would leave it counted).
	ctx := r.Context()
	arrived, err := s.gate.Enter(ctx, checked)
	if err != nil {
		s.gate.Shed(ctx, key, err)
		s.refuse(w, r, err)
		return
	}
	if p == nil {
		if err := s.gate.Begin(ctx, arrived, key); err != nil {
			s.refuse(w, r, err)
			return
		}
		h.next.ServeHTTP(w, r)
		return
	}
	c := s.pool.Get().(*serverCall)
	c.h, c.w, c.r = h, w, r
	c.Start(ctx, s.gate, c, key, arrived)
	if refused, err := s.gate.Execute(p, &c.Request); refused {
		s.refuse(w, r, err)
	}
	if !c.Keep() {
		*c = serverCall{}
		s.pool.Put(c)
	}
}

// exempt reports whether path is in ServerConfig.Exempt.
func (s *Server) exempt(path string) bool {
	for _, p := range s.cfg.Exempt {
		if path == p || p[len(p)-1] == '/' && strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// A serverCall is one request on its way through the Policy (see
// admit.Request), pooled.
type serverCall struct {
	admit.Request
	h *serverHandler
	w http.ResponseWriter
	r *http.Request
}

// Serve serves the request once the Policy runs it. When the Policy added
// a deadline (derived), the handler sees it.
func (c *serverCall) Serve(ctx context.Context, derived bool) error {
	r := c.r
	if derived {
		r = r.WithContext(ctx)
	}
	c.h.next.ServeHTTP(c.w, r)
	return nil
}

// Constant header values, shared by every refusal: net/http only reads them.
var (
	textPlain = []string{"text/plain; charset=utf-8"}
	nosniff   = []string{"nosniff"}
)

var (
	bodyUnavailable = []byte("service unavailable: the server is shedding load, try again later\n")
	bodyTooMany     = []byte("too many requests: rate limited, try again later\n")
)

// refuse answers a refused request: Retry-After, then ServerConfig.Refuse
// or the default status and body.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	d, ok := resilience.RetryAfter(err)
	if !ok || d < 0 {
		d = s.cfg.RetryAfter
	}
	hdr := w.Header()
	if d > 0 {
		hdr["Retry-After"] = []string{strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)}
	}
	if s.cfg.Refuse != nil {
		s.cfg.Refuse(w, r, err)
		return
	}
	code := RefusalStatus(err)
	body := bodyUnavailable
	if code == http.StatusTooManyRequests {
		body = bodyTooMany
	}
	hdr["Content-Type"] = textPlain
	hdr["X-Content-Type-Options"] = nosniff
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// parseTimeoutMillis parses a TimeoutHeader value: 1 to 9 decimal digits,
// with optional surrounding blanks. Anything else is not ok.
func parseTimeoutMillis(v string) (time.Duration, bool) {
	v = trimOWS(v)
	if v == "" || len(v) > 9 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return 0, false
		}
		n = n*10 + int64(v[i]-'0')
	}
	return time.Duration(n) * time.Millisecond, true
}
