package fault

import (
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
)

// A Fault says how a server answers one request. The functions of this
// package build them; they are plain values, safe to share between servers
// and goroutines. A composite fault (Rate, Delay with a random latency,
// Cycle) is resolved to one concrete answer per request, drawing from the
// server's seeded generator, so a run with the same seed draws the same
// sequence of answers.
type Fault interface {
	decide(d *decider) action
}

// decider is what a fault sees when it decides a request: the server's
// generator (used under the server's lock) and how long the fault has been
// set.
type decider struct {
	rng     *rand.Rand
	elapsed time.Duration
}

// kind is what a server does once it has slept an action's delay.
type kind uint8

const (
	kindAnswer  kind = iota // answer with status / code
	kindHang                // never answer
	kindReset               // start the answer, then reset the connection
	kindSlow                // answer, trickling the body
	kindHangMid             // start the answer, then never finish it
	kindDrop                // reset the connection without an answer
)

// action is one request's resolved fault.
type action struct {
	delay      time.Duration
	kind       kind
	status     int        // HTTP status of an answer
	code       codes.Code // gRPC code of an answer
	retryAfter string     // Retry-After header value, "" for none
	n          int        // reset, hangMid: bytes (messages) sent first; slow: bytes (messages) in all
	every      time.Duration
}

type answer struct {
	status     int
	code       codes.Code
	retryAfter string
}

func (a answer) decide(*decider) action {
	return action{kind: kindAnswer, status: a.status, code: a.code, retryAfter: a.retryAfter}
}

// OK answers at once: HTTP 200 with the body "ok\n"; gRPC Check answers
// SERVING, and Watch sends GRPCConfig.WatchMessages SERVING messages and
// ends the stream with status OK.
func OK() Fault { return answer{status: 200, code: codes.OK} }

// Status answers at once with the HTTP status code and a short body. On a
// gRPC server it fails the call with the code gRPC maps that status to
// (429, 502, 503 and 504 are Unavailable, 400 Internal, 401
// Unauthenticated, 403 PermissionDenied, 404 Unimplemented, any other
// non-2xx Unknown; a 2xx is OK).
func Status(code int) Fault { return answer{status: code, code: codeForStatus(code)} }

// RetryAfter answers like Status(code) with a Retry-After header of value
// (such as "2" or an HTTP date, or anything else, to test parsing). On a
// gRPC server it is Status(code).
func RetryAfter(code int, value string) Fault {
	return answer{status: code, code: codeForStatus(code), retryAfter: value}
}

// Code fails a gRPC call at once with code c (codes.OK answers as OK does).
// On an HTTP server it answers the status commonly used for c (Unavailable
// 503, DeadlineExceeded 504, ResourceExhausted 429, Internal and Unknown
// 500, NotFound 404, and so on).
func Code(c codes.Code) Fault { return answer{status: statusForCode(c), code: c} }

type hang struct{}

func (hang) decide(*decider) action { return action{kind: kindHang} }

// Hang never answers. The handler blocks until the client goes away (its
// request context ends) or the server is closed, and then aborts: an HTTP
// connection is closed without a response, a gRPC call fails with
// Unavailable (or the client's own cancellation).
func Hang() Fault { return hang{} }

type reset struct{ after int }

func (r reset) decide(*decider) action { return action{kind: kindReset, n: r.after} }

// Reset starts a 200 answer, sends the headers and the first after bytes of
// a longer body (its Content-Length is after*2+1), and then resets the
// connection: over HTTP/1.1 the socket is hijacked and closed with
// SO_LINGER 0, so the client reads a TCP RST mid-body; over HTTP/2 the
// stream is reset. On a gRPC server Watch sends after messages and Check
// none, and the call then fails with Unavailable. A negative after is 0.
func Reset(after int) Fault { return reset{max(after, 0)} }

type drop struct{}

func (drop) decide(*decider) action { return action{kind: kindDrop} }

// Drop resets the connection without answering: over HTTP/1.1 the socket
// is hijacked and closed with SO_LINGER 0 before any byte of a response, so
// the client's request fails with a connection reset; over HTTP/2 the
// stream is reset. On a gRPC server the call fails with Unavailable.
func Drop() Fault { return drop{} }

type hangMid struct{ after int }

func (h hangMid) decide(*decider) action { return action{kind: kindHangMid, n: h.after} }

// HangMidBody starts a 200 answer, sends the headers and the first after
// bytes of a longer body, and then sends nothing more until the client goes
// away or the server is closed, when it aborts the connection (HTTP/2: the
// stream). On a gRPC server Watch sends after messages and then hangs, and
// Check hangs. A negative after is 0.
func HangMidBody(after int) Fault { return hangMid{max(after, 0)} }

type slow struct {
	n     int
	every time.Duration
}

func (s slow) decide(*decider) action { return action{kind: kindSlow, n: s.n, every: s.every} }

// SlowBody answers 200 with a body of n bytes (Content-Length n), sent one
// byte at a time with a pause of every before each, so the whole body takes
// n*every. It stops, aborting the connection, when the client goes away or
// the server is closed. On a gRPC server Watch sends n messages the same
// way and Check answers after n*every. Negative values are 0.
func SlowBody(n int, every time.Duration) Fault { return slow{max(n, 0), max(every, 0)} }

type delay struct {
	d    Dist
	then Fault
}

func (f delay) decide(d *decider) action {
	lat := f.d.draw(d.rng)
	a := f.then.decide(d)
	a.delay += lat
	return a
}

// Delay waits a latency drawn from d, and then does what then says. A nil
// then is OK(); a nil d waits nothing. The wait ends early, aborting the
// request, when the client goes away or the server is closed.
func Delay(d Dist, then Fault) Fault {
	if then == nil {
		then = OK()
	}
	if d == nil {
		d = Fixed(0)
	}
	return delay{d, then}
}

type rate struct {
	p         float64
	hit, miss Fault
}

func (r rate) decide(d *decider) action {
	if d.rng.Float64() < r.p {
		return r.hit.decide(d)
	}
	return r.miss.decide(d)
}

// Rate does what hit says for a fraction p of requests and what miss says
// for the others, drawing once per request from the server's generator:
// Rate(0.3, Status(503), OK()) is a storm of 30% 503s. p is clamped to
// [0, 1]; a nil hit or miss is OK().
func Rate(p float64, hit, miss Fault) Fault {
	if hit == nil {
		hit = OK()
	}
	if miss == nil {
		miss = OK()
	}
	if !(p >= 0) { // NaN too
		p = 0
	}
	return rate{min(p, 1), hit, miss}
}

// A Phase is a Fault that lasts For, in a Script or a Cycle.
type Phase struct {
	For   time.Duration
	Fault Fault
}

type script struct {
	phases []Phase
	total  time.Duration
	cycle  bool
}

func (s script) decide(d *decider) action {
	if len(s.phases) == 0 {
		return OK().decide(d)
	}
	t := d.elapsed
	if s.cycle && s.total > 0 {
		t %= s.total
	}
	for _, p := range s.phases {
		if t < p.For {
			return p.Fault.decide(d)
		}
		t -= p.For
	}
	return s.phases[len(s.phases)-1].Fault.decide(d)
}

// Script plays phases one after the other, timed from the moment the fault
// was set on the server (by its Config or by Set); the last phase then
// lasts for ever. A nil phase Fault is OK(), a negative For is 0; no phases
// is OK().
func Script(phases ...Phase) Fault { return newScript(false, phases) }

// Cycle plays phases one after the other like Script, and then again from
// the first, for ever.
func Cycle(phases ...Phase) Fault { return newScript(true, phases) }

// Flap cycles between up for upFor and down for downFor, starting up:
// Flap(100*time.Millisecond, OK(), 50*time.Millisecond, Status(503)).
func Flap(upFor time.Duration, up Fault, downFor time.Duration, down Fault) Fault {
	return Cycle(Phase{upFor, up}, Phase{downFor, down})
}

func newScript(cycle bool, phases []Phase) Fault {
	s := script{phases: make([]Phase, len(phases)), cycle: cycle}
	for i, p := range phases {
		p.For = max(p.For, 0)
		if p.Fault == nil {
			p.Fault = OK()
		}
		s.phases[i] = p
		s.total += p.For
	}
	return s
}
