package httpx_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/httpx"
)

func cached(req *http.Request) *http.Response {
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Header: http.Header{"X-From": {"cache"}},
		Body: io.NopCloser(strings.NewReader("cached")), Request: req,
	}
}

func TestFallbackAnswers(t *testing.T) {
	tests := []struct {
		name    string
		code    int
		trip    bool // open the breaker first
		wantErr func(t *testing.T, err error)
	}{
		{"a refusal", 500, true, func(t *testing.T, err error) {
			require.ErrorIs(t, err, breaker.ErrOpen)
		}},
		{"a failure response", 502, false, func(t *testing.T, err error) {
			var se *httpx.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 502, se.StatusCode)
			assert.Equal(t, resilience.Failure, se.Outcome)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, false, newStatusHandler(tt.code))
			var asked []error
			calls := 0
			var rec recorder
			tr := newTransport(t, httpx.Config{
				Base:     s.base,
				Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1}},
				Observer: &rec,
				Fallback: func(req *http.Request, err error) (*http.Response, error) {
					asked = append(asked, err)
					calls++
					if calls == 1 && tt.trip {
						return nil, nil // decline the first
					}
					return cached(req), nil
				},
			})
			c := &http.Client{Transport: tr}
			if tt.trip {
				code, err := fetch(t, c, s.URL)
				require.NoError(t, err)
				require.Equal(t, tt.code, code, "declined: the response as it came")
				asked = nil
			}
			resp, err := get(t, c, s.URL)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, "cached", string(body))
			assert.Equal(t, "cache", resp.Header.Get("X-From"))
			require.Len(t, asked, 1)
			tt.wantErr(t, asked[0])
			fb := rec.OfKind(resilience.EventFallback)
			require.Len(t, fb, 1)
			assert.Equal(t, httpx.HostKey(mustRequest(t, s.URL)), fb[0].Key)
			assert.Equal(t, asked[0], fb[0].Err)
		})
	}
}

func TestFallbackAnswersTransportError(t *testing.T) {
	failing := roundTripFunc(func(r *http.Request) (*http.Response, error) { return nil, errors.New("connection reset") })
	tr := newTransport(t, httpx.Config{Base: failing, Fallback: func(req *http.Request, err error) (*http.Response, error) {
		return cached(req), nil
	}})
	resp, err := tr.RoundTrip(mustRequest(t, "http://example.invalid/"))
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "cache", resp.Header.Get("X-From"))
}

func TestFallbackDeclinesOrFails(t *testing.T) {
	errOwn := errors.New("replica down too")
	tests := []struct {
		name     string
		fallback func(req *http.Request, err error) (*http.Response, error)
		check    func(t *testing.T, resp *http.Response, err error)
	}{
		{"declines with a nil response", func(*http.Request, error) (*http.Response, error) { return nil, nil },
			func(t *testing.T, resp *http.Response, err error) {
				require.ErrorIs(t, err, breaker.ErrOpen)
				var fe *fallback.Error
				require.False(t, errors.As(err, &fe))
			}},
		{"declines with the error it was given", func(_ *http.Request, err error) (*http.Response, error) { return nil, err },
			func(t *testing.T, resp *http.Response, err error) {
				require.ErrorIs(t, err, breaker.ErrOpen)
				var fe *fallback.Error
				require.False(t, errors.As(err, &fe))
			}},
		{"fails with its own error", func(*http.Request, error) (*http.Response, error) { return nil, errOwn },
			func(t *testing.T, resp *http.Response, err error) {
				var fe *fallback.Error
				require.ErrorAs(t, err, &fe)
				require.ErrorIs(t, err, breaker.ErrOpen)
				require.ErrorIs(t, err, errOwn)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHandler(500)
			s := newServer(t, false, h)
			var asked int
			tr := newTransport(t, httpx.Config{
				Base:    s.base,
				Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1}},
				Fallback: func(req *http.Request, err error) (*http.Response, error) {
					asked++
					return tt.fallback(req, err)
				},
			})
			c := &http.Client{Transport: tr}
			// A failure response: whatever the fallback says, the response
			// stays the caller's, body intact.
			resp, err := get(t, c, s.URL)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, 500, resp.StatusCode)
			assert.Equal(t, "status 500", string(body))

			resp, err = get(t, c, s.URL) // now refused
			assert.Nil(t, resp)
			tt.check(t, resp, err)
			assert.Equal(t, 2, asked)
		})
	}
}

func TestFallbackIsNotAskedForCancelledCaller(t *testing.T) {
	s := newServer(t, false, newStatusHandler(500))
	var asked int
	tr := newTransport(t, httpx.Config{
		Base:    s.base,
		Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1}},
		Fallback: func(req *http.Request, err error) (*http.Response, error) {
			asked++
			return cached(req), nil
		},
	})
	_, err := fetch(t, &http.Client{Transport: tr}, s.URL) // trips, fallback asked
	require.NoError(t, err)
	require.Equal(t, 1, asked)

	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	require.NoError(t, err)
	_, err = tr.RoundTrip(req)
	require.ErrorIs(t, err, breaker.ErrOpen)
	assert.Equal(t, 1, asked, "a caller who gave up gets no substitute")
}
