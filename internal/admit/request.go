package admit

import (
	"context"
	"errors"

	"github.com/go-resilience/resilience"
)

// A Request is one request on its way through a server's Policy. It is
// the context the Policy is given (the request's own, embedded), so that
// Run, a static function, finds it again without a closure per request.
// An adapter embeds it in a struct of its own that holds what serving the
// request needs, and may pool that struct (see Keep).
type Request struct {
	context.Context
	gate    *Gate
	serve   Server
	key     string
	arrived int64
	state   uint8
	keep    bool
}

// A Server serves a Request the Policy runs, with ctx the context to hand
// the handler: the request's own, or, when derived is true, the one the
// Policy gave (a timeout's deadline), which the handler may keep.
type Server interface {
	Serve(ctx context.Context, derived bool) error
}

// The states of a Request.
const (
	stateNew     = iota // not run by the Policy (yet)
	stateRefused        // run, but refused by the CoDel rule
	stateServed         // run: served
)

type requestKey struct{}

// Start readies r for a request made with ctx, which Enter admitted at
// arrived under key; s serves it.
func (r *Request) Start(ctx context.Context, g *Gate, s Server, key string, arrived int64) {
	*r = Request{Context: ctx, gate: g, serve: s, key: key, arrived: arrived}
}

// Value answers Run's lookup with r, and any other key as the request's
// context does.
func (r *Request) Value(key any) any {
	if key == (requestKey{}) {
		return r
	}
	return r.Context.Value(key)
}

// Keep reports whether the handler was given a context derived from r, so
// that r (and what embeds it) must not be reused.
func (r *Request) Keep() bool { return r.keep }

// ErrLost is returned to a Policy that runs its call with a context not
// derived from the one it was given: the request cannot be found, and is
// not served.
var ErrLost = errors.New("server Policy ran the request with a context not derived from the one it was given")

// Run is the call an adapter's Policy runs (see Execute): it applies Begin
// and serves the request.
func Run(ctx context.Context) error {
	r, ok := ctx.Value(requestKey{}).(*Request)
	if !ok {
		return ErrLost
	}
	if err := r.gate.Begin(ctx, r.arrived, r.key); err != nil {
		r.state = stateRefused
		return err
	}
	r.state = stateServed
	if ctx == context.Context(r) {
		return r.serve.Serve(r.Context, false)
	}
	r.keep = true
	return r.serve.Serve(ctx, true)
}

// Execute runs r through p. It returns whether the adapter must answer
// err, what Execute returned, as a refusal: one by the CoDel rule
// (already counted), or one by p, which Leave counts.
func (g *Gate) Execute(p resilience.Policy, r *Request) (refused bool, err error) {
	err = p.Execute(r, Run)
	switch r.state {
	case stateNew:
		return g.Leave(r.Context, r.key, err), err
	case stateRefused:
		return true, err
	}
	return false, err
}
