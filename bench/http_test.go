package bench

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	fsbulkhead "github.com/failsafe-go/failsafe-go/bulkhead"
	fscb "github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/failsafehttp"
	fstimeout "github.com/failsafe-go/failsafe-go/timeout"
	rubyist "github.com/rubyist/circuitbreaker"
)

// HTTP scenario: a GET round trip to an httptest server on loopback, body
// read to the end and closed, through each library's HTTP client adapter
// with a breaker, a bulkhead and a timeout where it has them.
//
// lib=bare is the base transport alone. failsafe-go's failsafehttp
// RoundTripper gets the same three policies; rubyist's HTTPClient has a
// breaker and a timeout (a goroutine per request), no bulkhead. gobreaker,
// hystrix-go and go-resiliency have no HTTP adapter.

func BenchmarkHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	run(b, context.Background(), httpLibs(b, srv.URL))
}

func BenchmarkHTTPParallel(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	runParallel(b, context.Background(), httpLibs(b, srv.URL))
}

func httpLibs(tb testing.TB, url string) []lib {
	return append(ourHTTPLibs(tb, url),
		bareHTTPLib(tb, url),
		failsafeHTTPLib(tb, url),
		rubyistHTTPLib(tb, url),
	)
}

// newBase returns the base transport of one library: a transport of its
// own, so that libraries do not share connections, closed when b ends.
func newBase(tb testing.TB) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	tb.Cleanup(t.CloseIdleConnections)
	return t
}

var errStatus = errors.New("unexpected status")

// get sends a GET for url with do, reads the body to the end and closes it.
func get(ctx context.Context, url string, do func(*http.Request) (*http.Response, error)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err == nil && resp.StatusCode != http.StatusOK {
		err = errStatus
	}
	return err
}

func bareHTTPLib(tb testing.TB, url string) lib {
	client := &http.Client{Transport: newBase(tb)}
	return lib{name: "bare", op: func(ctx context.Context) error { return get(ctx, url, client.Do) }}
}

func failsafeHTTPLib(tb testing.TB, url string) lib {
	client := &http.Client{Transport: failsafehttp.NewRoundTripper(newBase(tb),
		fscb.NewBuilder[*http.Response]().WithFailureThreshold(5).WithDelay(openFor).Build(),
		fsbulkhead.New[*http.Response](maxConcurrent),
		fstimeout.New[*http.Response](policyTimeout),
	)}
	return lib{name: "failsafe", op: func(ctx context.Context) error { return get(ctx, url, client.Do) }}
}

func rubyistHTTPLib(tb testing.TB, url string) lib {
	cb := rubyist.NewConsecutiveBreaker(5)
	client := rubyist.NewHTTPClientWithBreaker(cb, policyTimeout, &http.Client{Transport: newBase(tb)})
	return lib{name: "rubyist", op: func(ctx context.Context) error { return get(ctx, url, client.Do) }}
}
