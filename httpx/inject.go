package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-resilience/resilience/inject"
)

// InjectConfig puts the faults of an inject.Injector into HTTP traffic:
// on the client side as Config.Inject, where they happen inside the
// Transport's breaker, bulkhead and timeout, which react to them as to
// real faults; on the server side with InjectHandler, whose aborts and
// delays reach the clients. The zero value injects nothing.
//
// The Injector decides which requests get a fault and which (a delay, an
// error, or both), and it is the switch: nothing is injected until its
// Enable is called. An InjectConfig only says which requests are eligible
// and how a failed one is answered.
type InjectConfig struct {
	// Injector decides the faults and turns them on and off. One Injector
	// may serve several clients and handlers, which are then switched
	// together. Nil: no faults, and the other fields must be zero.
	Injector *inject.Injector

	// Status is the status code of a request the Injector fails (one that
	// draws the fault while the Injector's Config.Err is set). On the
	// server (InjectHandler) the request is answered with it, a short
	// text body and no call of the next handler; zero is 503. On the
	// client (Config.Inject) zero makes RoundTrip fail with the
	// Injector's error, as a broken connection would; a status makes it
	// return a response with that status and an empty body instead, as if
	// the server had answered it, without sending the request. It must be
	// zero or in [200, 599].
	Status int

	// Match limits the faults to the requests for which it returns true: a
	// route (r.URL.Path, or r.Pattern in a handler registered on a
	// ServeMux), a host, a method. Use it to keep health and metrics
	// endpoints out of a game day. It is called only while the Injector is
	// enabled, on the request's goroutine; it must be fast and safe for
	// concurrent use. Nil: every request.
	Match func(*http.Request) bool

	// Header names a request header that marks the request, as
	// inject.Mark marks a context: with the Injector's Config.MarkedOnly,
	// only marked requests get faults, so a client can make one test
	// request fail end to end by sending, say, "X-Fault-Inject: 1". Any
	// non-empty value marks. Empty: header control is off, and no request
	// header ever has any effect on the faults, however a client sets it.
	// Strip the header at your edge from traffic you do not trust.
	Header string
}

// check validates cfg; name is how errors name it ("Config.Inject").
func (cfg *InjectConfig) check(name string) error {
	switch {
	case cfg.Status != 0 && (cfg.Status < 200 || cfg.Status > 599):
		return fmt.Errorf("httpx: %s.Status must be zero or in [200, 599], got %d", name, cfg.Status)
	case cfg.Header != "" && !validHeaderName(cfg.Header):
		return fmt.Errorf("httpx: %s.Header must be a valid header name, got %q", name, cfg.Header)
	case cfg.Injector == nil && (cfg.Status != 0 || cfg.Match != nil || cfg.Header != ""):
		return fmt.Errorf("httpx: %s.Injector must be set when its other fields are", name)
	}
	return nil
}

// validHeaderName reports whether s is an HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c < 0x80 && c > ' ' && c != 0x7f && !isSeparator(c):
		default:
			return false
		}
	}
	return true
}

func isSeparator(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
		return true
	}
	return false
}

// injector is an InjectConfig ready to decide requests.
type injector struct {
	in     *inject.Injector
	status int
	match  func(*http.Request) bool
	header string // canonical, or "" for no header control
}

func newInjector(cfg InjectConfig) injector {
	ij := injector{in: cfg.Injector, status: cfg.Status, match: cfg.Match}
	if cfg.Header != "" {
		ij.header = http.CanonicalHeaderKey(cfg.Header)
	}
	return ij
}

// decide draws the fault of req, whose key (Event.Key) is key(req).
// Only called while the Injector is enabled.
func (ij *injector) decide(req *http.Request, key func(*http.Request) string) (inject.Fault, bool) {
	if ij.match != nil && !ij.match(req) {
		return inject.Fault{}, false
	}
	marked := inject.Marked(req.Context())
	if !marked && ij.header != "" {
		v := req.Header[ij.header]
		marked = len(v) > 0 && v[0] != ""
	}
	return ij.in.Decide(key(req), marked)
}

// injectTransport injects the faults of Config.Inject in front of the
// base transport, inside the Transport's breaker, bulkhead and timeout.
type injectTransport struct {
	injector
	base http.RoundTripper
	key  func(*http.Request) string
}

func (t *injectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.in.Enabled() {
		return t.base.RoundTrip(req)
	}
	f, ok := t.decide(req, t.key)
	if !ok {
		return t.base.RoundTrip(req)
	}
	if err := f.Sleep(req.Context()); err != nil {
		closeBody(req)
		return nil, err
	}
	if f.Err == nil {
		return t.base.RoundTrip(req)
	}
	closeBody(req)
	if t.status == 0 {
		return nil, f.Err
	}
	return injectedResponse(req, t.status), nil
}

// CloseIdleConnections closes the idle connections of the base transport.
func (t *injectTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// injectedResponse is the response of a request failed on the client side
// with a status.
func injectedResponse(req *http.Request, status int) *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header),
		Body:          http.NoBody,
		ContentLength: 0,
		Request:       req,
	}
}

// InjectHandler returns a handler that injects the faults of cfg's
// Injector into the requests it serves before next sees them, the way
// Envoy's fault filter does: a request that draws a delay waits it and
// then goes on to next; one that draws an error is answered with
// cfg.Status (503 by default) and the body "injected fault", and next
// never sees it. While the Injector is disabled, every request goes
// straight to next, at the cost of one atomic load. Each fault is
// reported to the Injector's Observer, with Event.Key the request's
// r.Pattern (empty unless the handler is registered on a ServeMux).
//
// A request whose client goes away during an injected delay is dropped
// without an answer. It returns an error naming the field of cfg that is
// invalid, or when cfg.Injector or next is nil. The handler is safe for
// concurrent use.
func InjectHandler(cfg InjectConfig, next http.Handler) (http.Handler, error) {
	if err := cfg.check("InjectConfig"); err != nil {
		return nil, err
	}
	if cfg.Injector == nil {
		return nil, errors.New("httpx: InjectConfig.Injector must not be nil")
	}
	if next == nil {
		return nil, errors.New("httpx: InjectHandler: next must not be nil")
	}
	h := &injectHandler{injector: newInjector(cfg), next: next}
	if h.status == 0 {
		h.status = http.StatusServiceUnavailable
	}
	return h, nil
}

type injectHandler struct {
	injector
	next http.Handler
}

func patternKey(r *http.Request) string { return r.Pattern }

func (h *injectHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.in.Enabled() {
		h.next.ServeHTTP(w, r)
		return
	}
	f, ok := h.decide(r, patternKey)
	if !ok {
		h.next.ServeHTTP(w, r)
		return
	}
	if f.Sleep(r.Context()) != nil {
		return // the client went away
	}
	if f.Err == nil {
		h.next.ServeHTTP(w, r)
		return
	}
	http.Error(w, "injected fault", h.status)
}
