// Package fault provides test servers that misbehave on purpose: an HTTP
// server (httptest, loopback only) and an in-process gRPC health server
// (bufconn), each answering every request as a scripted, switchable Fault
// says, and counting what it sees. It is for the tests of this module only.
//
// # Faults
//
// A Fault is a plain value built from these pieces:
//
//   - OK, Status, Code and RetryAfter answer at once (a 5xx, a 429 or 503
//     with Retry-After, a gRPC code);
//   - Hang never answers, until the client goes away or the server closes;
//   - HangMidBody sends the start of a body and then nothing more;
//   - Reset sends the start of a body and resets the connection (a TCP RST);
//     Drop resets it before answering at all;
//   - SlowBody trickles a body one byte at a time;
//   - Delay adds a latency drawn from a Dist (Fixed, Uniform, SlowTail);
//   - Rate makes a storm: one fault for a fraction of requests, another
//     for the rest;
//   - Script and Cycle play faults in timed phases; Flap cycles up and down.
//
// For example, a dependency that is slow, then returns 503 to half its
// callers, and flaps:
//
//	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.Delay(fault.Uniform(5*time.Millisecond, 20*time.Millisecond), nil)})
//	s.Set(fault.Rate(0.5, fault.Status(503), fault.OK()))
//	s.Set(fault.Flap(100*time.Millisecond, fault.OK(), 50*time.Millisecond, fault.Hang()))
//
// # Determinism
//
// Every random choice (Rate, Uniform, SlowTail) draws from one generator
// per server (math/rand/v2, PCG), seeded from the Config or from the test's
// name, one draw per choice. Under concurrency, which request gets which
// draw varies, but the sequence of draws does not: N requests to Rate(p,
// ...) see exactly the same number of hits on every run.
//
// # Counters
//
// Stats counts requests, the requests in the handler now and the most at
// once, answers by status or code, hangs, resets, aborted requests, and
// connections (from http.Server.ConnState, or the gRPC stats handler):
// accepted, open, active, idle, closed. WaitFor blocks until the counters
// satisfy a condition, waking on each change rather than polling.
//
// # Closing
//
// A server is closed when the test that made it ends. Close, which may come
// sooner, ends every hang, delay and slow body at once (aborting their
// connections or calls) and waits for the handlers to return, so a test
// never waits on its own fault server and leaks no goroutine.
package fault
