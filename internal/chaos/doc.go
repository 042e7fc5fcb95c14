// Package chaos holds the end-to-end tests of this module under faults:
// real servers from internal/fault (HTTP over loopback, gRPC over bufconn)
// that hang, storm, reset, trickle and flap, driven by hundreds of
// concurrent callers through httpx and grpcx with the whole chain (breaker,
// bulkhead, timeout, fallback).
//
// Each test checks what the library promises under its fault: every call
// returns exactly once, with a result, a fallback or a typed error; no more
// calls are in flight than the bulkhead allows; goroutines and connections
// return to where they were; the breaker opens during a storm and closes
// after recovery; a hung call returns within the timeout plus a margin.
// Each logs its load and the counts it observed (go test -v).
//
// The package has no code of its own outside its tests.
package chaos
