package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/timeout"
)

func TestSlowBodyIsReadCompletelyWithinTimeout(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			const chunks = 8
			s := newServer(t, p.h2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for range chunks {
					io.WriteString(w, "chunk\n")
					w.(http.Flusher).Flush()
					select {
					case <-time.After(25 * time.Millisecond):
					case <-r.Context().Done():
						return
					}
				}
			}))
			tr := newTransport(t, httpx.Config{Base: s.base, Timeout: 3 * time.Second})
			c := &http.Client{Transport: tr}
			resp, err := get(t, c, s.URL)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, strings.Repeat("chunk\n", chunks), string(body))
		})
	}
}

func TestBodyReadAfterRoundTripReturnedIsNotCancelled(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			proceed := make(chan struct{})
			var once sync.Once
			t.Cleanup(func() { once.Do(func() { close(proceed) }) })
			s := newServer(t, p.h2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(200)
				w.(http.Flusher).Flush() // headers now, body later
				select {
				case <-proceed:
					io.WriteString(w, "late body")
				case <-r.Context().Done():
				}
			}))
			tr := newTransport(t, httpx.Config{Base: s.base, Timeout: 3 * time.Second})
			c := &http.Client{Transport: tr}
			resp, err := get(t, c, s.URL)
			require.NoError(t, err)
			defer resp.Body.Close()
			// RoundTrip has returned; only now does the server send the body.
			once.Do(func() { close(proceed) })
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err, "the request's context must live until the body is read")
			assert.Equal(t, "late body", string(body))
		})
	}
}

func TestStalledBodyIsCutAtDeadline(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			hang := hangUntilCleanup(t)
			s := newServer(t, p.h2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "partial")
				w.(http.Flusher).Flush()
				select { // then nothing more
				case <-hang:
				case <-r.Context().Done():
				}
			}))
			const d = 200 * time.Millisecond
			var rec recorder
			tr := newTransport(t, httpx.Config{Base: s.base, Timeout: d, Observer: &rec})
			c := &http.Client{Transport: tr}
			start := time.Now()
			resp, err := get(t, c, s.URL)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			elapsed := time.Since(start)
			require.NoError(t, resp.Body.Close())

			assert.Equal(t, "partial", string(body))
			require.ErrorIs(t, err, timeout.ErrTimeout)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.GreaterOrEqual(t, elapsed, d)
			assert.Less(t, elapsed, d+2*time.Second, "cut at the deadline, not later")
			events := rec.OfKind(resilience.EventTimeout)
			require.Len(t, events, 1, "one timeout, reported once")
			assert.Equal(t, "httpx", events[0].Policy)
			assert.Equal(t, httpx.HostKey(mustRequest(t, s.URL)), events[0].Key)
		})
	}
}

func TestHungServerCallsReturnAtDeadline(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			hang := hangUntilCleanup(t)
			s := newServer(t, p.h2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select { // no headers, ever
				case <-hang:
				case <-r.Context().Done():
				}
			}))
			const d, n = 150 * time.Millisecond, 5
			var rec recorder
			tr := newTransport(t, httpx.Config{
				Base:     s.base,
				Timeout:  d,
				Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 100}},
				Observer: &rec,
			})
			c := &http.Client{Transport: tr}
			baseline := goleak.IgnoreCurrent()

			var wg sync.WaitGroup
			errs := make([]error, n)
			took := make([]time.Duration, n)
			for i := range n {
				wg.Go(func() {
					start := time.Now()
					_, errs[i] = get(t, c, s.URL)
					took[i] = time.Since(start)
				})
			}
			wg.Wait()
			for i := range n {
				require.ErrorIs(t, errs[i], timeout.ErrTimeout)
				require.ErrorIs(t, errs[i], context.DeadlineExceeded)
				var ue *url.Error
				require.ErrorAs(t, errs[i], &ue)
				assert.True(t, ue.Timeout(), "url.Error.Timeout reports it")
				assert.GreaterOrEqual(t, took[i], d)
				assert.Less(t, took[i], d+2*time.Second)
			}
			assert.Len(t, rec.OfKind(resilience.EventTimeout), n)
			brk := tr.Breakers().Get(httpx.HostKey(mustRequest(t, s.URL)))
			assert.EqualValues(t, n, brk.Counts().TotalFailures, "a hung server is a failing one")

			// An HTTP/2 connection whose streams were reset is idle again
			// only once the server has answered the client's PING, so close
			// idle connections until the goroutines are back to baseline.
			var leaked atomic.Value // the last goleak report
			back := assert.Eventually(t, func() bool {
				c.CloseIdleConnections()
				err := goleak.Find(baseline)
				leaked.Store(fmt.Sprint(err))
				return err == nil
			}, 10*time.Second, 10*time.Millisecond)
			require.True(t, back, "goroutines not back to baseline: %v", leaked.Load())
		})
	}
}

func TestCallerDeadlineEarlierThanTimeoutIsTheCallers(t *testing.T) {
	hang := hangUntilCleanup(t)
	s := newServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	tr := newTransport(t, httpx.Config{Base: s.base, Timeout: 5 * time.Second, Breaker: tripFast(time.Minute)})
	c := &http.Client{Transport: tr}
	for range 4 {
		ctx, cancel := context.WithTimeout(testCtx(t), 50*time.Millisecond)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
		require.NoError(t, err)
		_, err = c.Do(req)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.False(t, errors.Is(err, timeout.ErrTimeout), "the caller's own deadline, not the Transport's: %v", err)
	}
	brk := tr.Breakers().Get(httpx.HostKey(mustRequest(t, s.URL)))
	assert.Equal(t, breaker.Closed, brk.State(), "the caller giving up says nothing about the server")
	assert.Zero(t, brk.Counts().TotalFailures)
}

func TestCallerCancellationDoesNotTrip(t *testing.T) {
	started := make(chan struct{}, 1)
	hang := hangUntilCleanup(t)
	s := newServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	tr := newTransport(t, httpx.Config{Base: s.base, Breaker: tripFast(time.Minute)})
	c := &http.Client{Transport: tr}
	for range 4 {
		ctx, cancel := context.WithCancel(testCtx(t))
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
		require.NoError(t, err)
		go func() {
			select {
			case <-started:
			case <-ctx.Done():
			}
			cancel()
		}()
		_, err = c.Do(req)
		cancel()
		require.ErrorIs(t, err, context.Canceled)
	}
	brk := tr.Breakers().Get(httpx.HostKey(mustRequest(t, s.URL)))
	assert.Equal(t, breaker.Closed, brk.State())
	assert.Zero(t, brk.Counts().TotalFailures)
}
