package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
)

// A client is one of the two callers of the upstream, with its counts.
type client struct {
	name string
	http *http.Client
	rec  recorder

	// transport and breaker are the protected client's httpx.Transport
	// and its breaker for the upstream; nil for the unprotected client.
	transport *httpx.Transport
	breaker   *breaker.Breaker
}

// baseTransport is the http.Transport under both clients: the default one,
// with enough idle connections kept for the traffic of the demo.
func baseTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return t
}

// newUnprotected is how many services call a dependency: an http.Client
// with a generous timeout, and nothing else.
func newUnprotected() *client {
	return &client{
		name: "unprotected",
		http: &http.Client{Transport: baseTransport(), Timeout: 10 * time.Second},
	}
}

// policy is how the protected client is configured, scaled to the run's
// duration so that a short run shows the same story.
type policy struct {
	Timeout        time.Duration // per request, body included
	MaxConcurrent  int           // requests in flight at once
	OpenTimeout    time.Duration // how long the breaker stays open before it probes
	MaxOpenTimeout time.Duration // the open time doubles after each failed probe, up to this
	Window         time.Duration // the breaker trips at 50% failures over this window
}

func policyFor(total time.Duration) policy {
	return policy{
		Timeout:        250 * time.Millisecond,
		MaxConcurrent:  16,
		OpenTimeout:    max(100*time.Millisecond, total/16),
		MaxOpenTimeout: max(200*time.Millisecond, total/8),
		Window:         max(500*time.Millisecond, total/6),
	}
}

// cachedPrice is what the protected client answers with when the upstream
// cannot answer in time or the library refuses to call it.
const cachedPrice = `{"sku":"B-42","price":10.25,"stale":true}` + "\n"

// newProtected wraps the same kind of http.Client's transport in an
// httpx.Transport: a breaker for the upstream's host, a bulkhead of
// p.MaxConcurrent, a timeout of p.Timeout that covers the body, and a
// fallback that answers refusals and timeouts with the cached price.
// Every policy reports to obs.
func newProtected(p policy, obs resilience.Observer, upstreamURL string) (*client, error) {
	t, err := httpx.New(httpx.Config{
		Base: baseTransport(),
		Name: "upstream",
		Breaker: breaker.KeyedConfig{Config: breaker.Config{
			FailureRate:    0.5,
			MinCalls:       10,
			Window:         p.Window,
			OpenTimeout:    p.OpenTimeout,
			MaxOpenTimeout: p.MaxOpenTimeout,
			HalfOpenProbes: 3,
		}},
		Bulkhead: bulkhead.Config{MaxConcurrent: p.MaxConcurrent},
		Timeout:  p.Timeout,
		Fallback: answerFromCache,
		Observer: obs,
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodGet, upstreamURL, nil)
	if err != nil {
		return nil, err
	}
	return &client{
		name:      "protected",
		http:      &http.Client{Transport: t},
		transport: t,
		breaker:   t.Breakers().Get(httpx.HostKey(req)),
	}, nil
}

// answerFromCache is the protected client's httpx fallback. It answers a
// refusal (the breaker is open, the bulkhead full) and a timeout with the
// cached price, marked with the header X-Fallback saying why; it declines
// the rest, so that the caller sees the upstream's own 5xx answers.
func answerFromCache(req *http.Request, err error) (*http.Response, error) {
	var why string
	switch {
	case errors.Is(err, resilience.ErrRejected):
		why = "refused"
	case errors.Is(err, context.DeadlineExceeded):
		why = "timeout"
	default:
		return nil, nil // decline
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}, "X-Fallback": {why}},
		Body:          io.NopCloser(strings.NewReader(cachedPrice)),
		ContentLength: int64(len(cachedPrice)),
		Request:       req,
	}, nil
}

// get fetches the price once and says how it went. ctx ends at the end of
// the run.
func (c *client) get(ctx context.Context, url string, ph phase) result {
	start := time.Now()
	res := c.fetch(ctx, url)
	res.latency = time.Since(start)
	res.phase = ph
	if res.outcome != ok && ctx.Err() != nil {
		res.outcome = cut
	}
	return res
}

func (c *client) fetch(ctx context.Context, url string) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return result{outcome: failed}
	}
	resp, err := c.http.Do(req)
	switch {
	case errors.Is(err, resilience.ErrRejected):
		return result{outcome: refused}
	case err != nil:
		return result{outcome: failed}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	switch why := resp.Header.Get("X-Fallback"); {
	case why == "refused":
		return result{outcome: refused, fallback: true}
	case why != "":
		return result{outcome: failed, fallback: true}
	case err != nil, resp.StatusCode != http.StatusOK:
		return result{outcome: failed}
	}
	return result{outcome: ok}
}

// drive sends the client one request every 1/rate seconds until ctx ends,
// each in a goroutine of its own, as a server does for its own incoming
// requests. The driver and its requests carry the pprof label client=name,
// so that goroutinesByClient counts them. wg counts every goroutine drive
// starts.
func (c *client) drive(ctx context.Context, rate int, url string, sched schedule, start time.Time, wg *sync.WaitGroup) {
	// pprof.Do labels this goroutine while it runs f, and every goroutine
	// started from it inherits the label.
	pprof.Do(ctx, pprof.Labels("client", c.name), func(ctx context.Context) {
		wg.Go(func() {
			tick := time.NewTicker(time.Second / time.Duration(rate))
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				ph := sched.at(time.Since(start))
				c.rec.started()
				wg.Go(func() { c.rec.finished(c.get(ctx, url, ph)) })
			}
		})
	})
}
