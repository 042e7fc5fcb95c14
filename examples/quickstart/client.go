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
	"github.com/go-resilience/resilience/retry"
	"go.opentelemetry.io/otel/trace"
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

	// tracer, with -trace, starts a span for each request; nil: none.
	tracer trace.Tracer
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
	Attempts        int           // attempts per request, the first included
	MinRetries      int           // retries the budget allows in flight at once, whatever the traffic
	Timeout         time.Duration // per attempt, body included
	MaxConcurrent   int           // attempts in flight at once
	FailureRate     float64       // the breaker trips at this rate of failed attempts over Window
	Window          time.Duration
	OpenTimeout     time.Duration // how long the breaker stays open before it probes
	HalfOpenTimeout time.Duration // how long a probe may hang before the breaker opens again
}

// policyFor sizes the policy for a run of total. The timeout lets every
// answer of the degraded upstream (20-400ms) arrive; retries absorb its
// 500s, so the breaker trips only when most attempts fail (an outage, not
// a bad patch); and it probes often and gives a hung probe little time,
// so that it notices the recovery within OpenTimeout + HalfOpenTimeout.
func policyFor(total time.Duration) policy {
	return policy{
		Attempts:        3,
		MinRetries:      10,
		Timeout:         500 * time.Millisecond,
		MaxConcurrent:   32,
		FailureRate:     0.6,
		Window:          max(500*time.Millisecond, total/6),
		OpenTimeout:     max(25*time.Millisecond, total/240),
		HalfOpenTimeout: max(25*time.Millisecond, total/240),
	}
}

// noticeLag is the longest the protected client's breaker can take to let
// calls through again once the upstream has recovered: an open period and
// a half-open one whose probe hangs.
func (p policy) noticeLag() time.Duration { return p.OpenTimeout + p.HalfOpenTimeout }

// cachedPrice is what the protected client answers with when the upstream
// cannot answer in time or the library refuses to call it.
const cachedPrice = `{"sku":"B-42","price":10.25,"stale":true}` + "\n"

// newProtected wraps the same kind of http.Client's transport in an
// httpx.Transport: up to p.Attempts attempts per GET (retry, within a
// budget: retries add at most 20% to the load), each through a
// breaker for the upstream's host, a bulkhead of p.MaxConcurrent and a
// timeout of p.Timeout that covers the body, and a fallback that answers
// refusals and timeouts with the cached price. Every policy reports to obs.
func newProtected(p policy, obs resilience.Observer, upstreamURL string) (*client, error) {
	// The budget: retries at most 20% of the calls (in flight, and over
	// the last 10s), and at least p.MinRetries at once: a service this
	// small has few calls in flight.
	budget, err := retry.NewBudget(retry.BudgetConfig{MinConcurrent: p.MinRetries})
	if err != nil {
		return nil, err
	}
	t, err := httpx.New(httpx.Config{
		Base: baseTransport(),
		Name: "upstream",
		Retry: &retry.Config{
			MaxAttempts: p.Attempts,
			BaseDelay:   10 * time.Millisecond,
			MaxDelay:    100 * time.Millisecond,
			Retryable:   retryAnswers,
			Budget:      budget,
		},
		Breaker: breaker.KeyedConfig{Config: breaker.Config{
			FailureRate:     p.FailureRate,
			MinCalls:        10,
			Window:          p.Window,
			OpenTimeout:     p.OpenTimeout,
			HalfOpenTimeout: p.HalfOpenTimeout,
			HalfOpenProbes:  1,
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

// retryAnswers retries the upstream's failed answers (its 500s), not its
// silences: an attempt that timed out is likely to hang again, and
// retrying it would only make the caller wait longer.
func retryAnswers(err error) bool {
	return retry.DefaultRetryable(err) && !errors.Is(err, context.DeadlineExceeded)
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
	if c.tracer != nil {
		var span trace.Span
		ctx, span = c.tracer.Start(ctx, "GET price")
		defer span.End()
	}
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
				c.rec.started(ph)
				wg.Go(func() { c.rec.finished(c.get(ctx, url, ph)) })
			}
		})
	})
}
