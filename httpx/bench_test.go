package httpx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
)

// benchServer is a loopback server answering every GET with a short body.
func benchServer(b *testing.B) (*httptest.Server, *http.Transport) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, world\n")
	}))
	b.Cleanup(s.Close)
	base := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(base.CloseIdleConnections)
	return s, base
}

func benchTransports(b *testing.B, base http.RoundTripper) []struct {
	name string
	rt   http.RoundTripper
} {
	def, err := httpx.New(httpx.Config{Base: base})
	if err != nil {
		b.Fatal(err)
	}
	full, err := httpx.New(httpx.Config{
		Base:     base,
		Timeout:  10 * time.Second,
		Bulkhead: bulkhead.Config{MaxConcurrent: 1024},
	})
	if err != nil {
		b.Fatal(err)
	}
	return []struct {
		name string
		rt   http.RoundTripper
	}{
		{"bare", base},
		{"httpx", def},
		{"httpx-timeout-bulkhead", full},
	}
}

// roundTrip sends one GET through rt and reads and closes the body.
func roundTrip(b *testing.B, rt http.RoundTripper, req *http.Request) {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// BenchmarkLoopbackGET compares a GET over loopback through the bare
// http.Transport and through a Transport wrapping it, in one run.
func BenchmarkLoopbackGET(b *testing.B) {
	s, base := benchServer(b)
	req, err := http.NewRequest(http.MethodGet, s.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range benchTransports(b, base) {
		b.Run(tc.name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				roundTrip(b, tc.rt, req)
			}
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					roundTrip(b, tc.rt, req)
				}
			})
		})
	}
}

// BenchmarkLoopbackOverhead alternates the bare transport and the
// Transport (default Config) request by request, so that both see the same
// machine load, and reports the Transport's time as a ratio of the bare
// one's (overhead-ratio: 1.02 is 2% slower).
func BenchmarkLoopbackOverhead(b *testing.B) {
	s, base := benchServer(b)
	req, err := http.NewRequest(http.MethodGet, s.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range benchTransports(b, base)[1:] {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var bare, wrapped time.Duration
			for i := 0; b.Loop(); i++ {
				// Alternate which goes first, so neither always finds the
				// connection just used.
				for j := range 2 {
					rt, acc := http.RoundTripper(base), &bare
					if (i+j)%2 == 1 {
						rt, acc = tc.rt, &wrapped
					}
					start := time.Now()
					roundTrip(b, rt, req)
					*acc += time.Since(start)
				}
			}
			b.ReportMetric(float64(wrapped)/float64(bare), "overhead-ratio")
		})
	}
}

// staticBase answers every request at once, without I/O, to measure the
// Transport's own cost.
type staticBase struct{}

func (staticBase) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

type bodyBase struct{}

func (bodyBase) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("x")), Request: req}, nil
}

// BenchmarkTransportCost is the Transport's own cost per request, over a
// base that does no I/O: the success path, and a refusal.
func BenchmarkTransportCost(b *testing.B) {
	req, err := http.NewRequest(http.MethodGet, "http://example.com/", nil)
	if err != nil {
		b.Fatal(err)
	}
	mk := func(cfg httpx.Config) *httpx.Transport {
		t, err := httpx.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return t
	}
	open := mk(httpx.Config{Base: staticBase{}})
	open.Breakers().Get(httpx.HostKey(req)).ForceOpen()
	cases := []struct {
		name string
		rt   http.RoundTripper
	}{
		{"base-alone", bodyBase{}},
		{"default", mk(httpx.Config{Base: bodyBase{}})},
		{"no-breaker", mk(httpx.Config{Base: bodyBase{}, DisableBreaker: true})},
		{"timeout", mk(httpx.Config{Base: bodyBase{}, Timeout: time.Minute})},
		{"bulkhead", mk(httpx.Config{Base: bodyBase{}, Bulkhead: bulkhead.Config{MaxConcurrent: 1 << 20}})},
		{"timeout-bulkhead", mk(httpx.Config{Base: bodyBase{}, Timeout: time.Minute, Bulkhead: bulkhead.Config{MaxConcurrent: 1 << 20}})},
		{"per-key-bulkhead", mk(httpx.Config{Base: bodyBase{}, Bulkhead: bulkhead.Config{MaxConcurrent: 1 << 20}, BulkheadPerKey: true})},
		{"refused", open},
		{"refused-with-response", mk(httpx.Config{Base: staticBase{}, RefusalResponse: true})},
	}
	cases[len(cases)-1].rt.(*httpx.Transport).Breakers().Get(httpx.HostKey(req)).ForceOpen()
	for _, tc := range cases {
		run := func(rt http.RoundTripper) {
			resp, err := rt.RoundTrip(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		b.Run(tc.name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				run(tc.rt)
			}
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					run(tc.rt)
				}
			})
		})
	}
}
