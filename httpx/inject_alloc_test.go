//go:build !race

package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/inject"
)

// A disabled injector adds no allocation to a request, on either side.
// (The race detector allocates on its own, so this runs without it.)
func TestInjectOffAddsNoAllocation(t *testing.T) {
	faults := newInjector(t, inject.Config{Share: 1, MarkedOnly: true, Err: inject.ErrInjected})
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := newInjectHandler(t, httpx.InjectConfig{Injector: faults, Header: faultHeader}, next)
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(faultHeader, "1")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) }), "handler, off")
	faults.Enable()
	unmarked := httptest.NewRequest(http.MethodGet, "/", nil)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, unmarked) }), "handler, on, unmarked request")
	faults.Disable()

	var hits atomic.Int64
	base := okBase(&hits)
	plain := newTransport(t, httpx.Config{Base: base, DisableBreaker: true})
	injected := newTransport(t, httpx.Config{Base: base, DisableBreaker: true, Inject: httpx.InjectConfig{Injector: faults, Header: faultHeader}})
	req := httptest.NewRequest(http.MethodGet, "http://upstream.test/", nil)
	req.RequestURI = ""
	without := testing.AllocsPerRun(1000, func() { _, _ = plain.RoundTrip(req) })
	with := testing.AllocsPerRun(1000, func() { _, _ = injected.RoundTrip(req) })
	assert.Equal(t, without, with, "client, off")
}
