package chaos

// Fuzz targets the packages do not have of their own, against their
// exported API: httpx's and grpcx's configuration validation, Retry-After
// as httpx hands it to the breaker, and status classification as the
// breakers of httpx and grpcx apply it. Each checks a simple reference
// written from the documentation. The seeds run as unit tests; run one
// with, for example, go test -fuzz FuzzHTTPXRetryAfter ./internal/chaos/.

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/httpx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// answer is a base RoundTripper that answers every request with status
// and header, without a network.
type answer struct {
	status int
	header http.Header
}

func (a answer) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		Status: http.StatusText(a.status), StatusCode: a.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: a.header.Clone(), Body: io.NopCloser(strings.NewReader("body")),
		ContentLength: 4, Request: req,
	}, nil
}

// badBreaker and badBulkhead say, from their packages' documentation,
// whether the fields fuzzed here make an invalid breaker or bulkhead.
func badBreaker(rate float64, open time.Duration) bool {
	return math.IsNaN(rate) || rate < 0 || rate > 1 || open < 0
}

func badBulkhead(maxConcurrent int, maxWait time.Duration) bool {
	return maxConcurrent <= 0 || maxConcurrent > math.MaxInt32 || maxWait < 0
}

// checkNamed asserts that err is a config error of pkg naming one of the
// fields in bad.
func checkNamed(t *testing.T, pkg string, err error, bad []string) {
	t.Helper()
	require.Error(t, err, "invalid fields %v accepted", bad)
	msg := err.Error()
	named := false
	for _, f := range bad {
		named = named || strings.Contains(msg, f)
	}
	assert.True(t, strings.HasPrefix(msg, pkg+": "), "%q lacks the %q prefix", msg, pkg)
	assert.True(t, named, "%q names none of %v", msg, bad)
}

func FuzzHTTPXConfig(f *testing.F) {
	f.Add(int64(0), int64(0), 0, int64(0), false, 0, 0.0, int64(0), false, false)
	f.Add(int64(time.Second), int64(time.Minute), 8, int64(time.Millisecond), true, 16, 0.5, int64(time.Second), false, false)
	f.Add(int64(-1), int64(0), 0, int64(0), false, 0, 0.0, int64(0), false, false)
	f.Add(int64(0), int64(-1), 0, int64(1), false, 0, 0.0, int64(0), false, false)
	f.Add(int64(0), int64(0), 0, int64(0), true, 0, 0.0, int64(0), false, false)
	f.Add(int64(0), int64(0), 4, int64(-1), false, -1, 1.5, int64(-1), false, true)
	f.Add(int64(0), int64(0), math.MaxInt32+1, int64(0), false, 0, math.NaN(), int64(0), true, false)
	f.Add(int64(0), int64(0), -3, int64(0), false, 0, 0.0, int64(0), true, true)
	f.Fuzz(func(t *testing.T, tmo, maxRA int64, maxConcurrent int, maxWait int64, perKey bool,
		maxKeys int, rate float64, open int64, disable, classifier bool) {
		cfg := httpx.Config{
			Base:           answer{status: http.StatusOK},
			Timeout:        time.Duration(tmo),
			MaxRetryAfter:  time.Duration(maxRA),
			Bulkhead:       bulkhead.Config{MaxConcurrent: maxConcurrent, MaxWait: time.Duration(maxWait)},
			BulkheadPerKey: perKey,
			Breaker: breaker.KeyedConfig{MaxKeys: maxKeys,
				Config: breaker.Config{FailureRate: rate, OpenTimeout: time.Duration(open)}},
			DisableBreaker: disable,
		}
		if classifier {
			cfg.Breaker.Classifier = resilience.DefaultClassifier
		}
		var bad []string
		if tmo < 0 {
			bad = append(bad, "Config.Timeout")
		}
		if classifier {
			bad = append(bad, "Config.Breaker.Classifier")
		}
		if maxKeys < 0 {
			bad = append(bad, "Config.Breaker.MaxKeys")
		}
		if maxConcurrent == 0 && maxWait != 0 {
			bad = append(bad, "Config.Bulkhead.MaxWait")
		}
		if maxConcurrent == 0 && perKey {
			bad = append(bad, "Config.BulkheadPerKey")
		}
		if badBreaker(rate, time.Duration(open)) || (disable && (rate != 0 || open != 0)) {
			// Under DisableBreaker a Breaker config would do nothing: only
			// its MaxKeys may be set.
			bad = append(bad, "Config.Breaker")
		}
		if maxConcurrent != 0 && badBulkhead(maxConcurrent, time.Duration(maxWait)) {
			bad = append(bad, "Config.Bulkhead")
		}
		var tr *httpx.Transport
		var err error
		require.NotPanics(t, func() { tr, err = httpx.New(cfg) })
		if len(bad) > 0 {
			checkNamed(t, "httpx", err, bad)
			assert.Nil(t, tr)
			return
		}
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodGet, "http://dependency.test/", nil)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

func FuzzGRPCXConfig(f *testing.F) {
	f.Add(int64(0), int64(0), false, false, 0, int64(0), false, 0, 0.0, int64(0))
	f.Add(int64(time.Second), int64(time.Minute), true, false, 8, int64(time.Millisecond), true, 16, 0.5, int64(time.Second))
	f.Add(int64(-1), int64(-1), true, true, 0, int64(1), false, -1, 2.0, int64(-1))
	f.Add(int64(0), int64(0), false, true, -5, int64(0), true, 0, math.Inf(1), int64(0))
	f.Add(int64(0), int64(0), false, false, 3, int64(-1), false, 0, 0.0, int64(0))
	f.Fuzz(func(t *testing.T, tmo, streamTmo int64, cls, brkCls bool, maxConcurrent int, maxWait int64,
		perKey bool, maxKeys int, rate float64, open int64) {
		cfg := grpcx.Config{
			Timeout:        time.Duration(tmo),
			StreamTimeout:  time.Duration(streamTmo),
			Bulkhead:       bulkhead.Config{MaxConcurrent: maxConcurrent, MaxWait: time.Duration(maxWait)},
			BulkheadPerKey: perKey,
			Breaker: breaker.KeyedConfig{MaxKeys: maxKeys,
				Config: breaker.Config{FailureRate: rate, OpenTimeout: time.Duration(open)}},
		}
		if cls {
			cfg.Classifier = grpcx.Classify
		}
		if brkCls {
			cfg.Breaker.Classifier = grpcx.Classify
		}
		var bad []string
		if tmo < 0 {
			bad = append(bad, "Config.Timeout")
		}
		if streamTmo < 0 {
			bad = append(bad, "Config.StreamTimeout")
		}
		if cls && brkCls {
			bad = append(bad, "Config.Classifier")
		}
		if maxConcurrent == 0 && maxWait != 0 {
			bad = append(bad, "Config.Bulkhead.MaxWait")
		}
		if maxKeys < 0 {
			bad = append(bad, "Config.Breaker.MaxKeys")
		}
		if badBreaker(rate, time.Duration(open)) {
			bad = append(bad, "Config.Breaker")
		}
		if maxConcurrent != 0 && badBulkhead(maxConcurrent, time.Duration(maxWait)) {
			bad = append(bad, "Config.Bulkhead")
		}
		var ic *grpcx.Interceptors
		var err error
		require.NotPanics(t, func() { ic, err = grpcx.New(cfg) })
		if len(bad) > 0 {
			checkNamed(t, "grpcx", err, bad)
			assert.Nil(t, ic)
			return
		}
		require.NoError(t, err)
		invoked := false
		invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
			invoked = true
			return nil
		}
		require.NoError(t, ic.UnaryClientInterceptor()(context.Background(), checkMethod, nil, nil, nil, invoker))
		assert.True(t, invoked)
	})
}

// refRetryAfter is what Retry-After v on a failure response with status
// should make the breaker wait, per httpx's documentation: only 429 and
// 503 carry it; delta-seconds or an HTTP date, with optional spaces and
// tabs around; at most limit (zero: 5 minutes; negative: ignored). ok is
// false for the date form, whose value depends on the clock.
func refRetryAfter(status int, v string, limit time.Duration) (d time.Duration, exact bool) {
	if limit < 0 || (status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable) {
		return 0, true
	}
	if limit == 0 {
		limit = 5 * time.Minute
	}
	v = strings.Trim(v, " \t")
	if v == "" {
		return 0, true
	}
	if strings.Trim(v, "0123456789") == "" {
		secs := strings.TrimLeft(v, "0")
		if len(secs) > 11 { // more seconds than a Duration holds
			return limit, true
		}
		var n int64
		for _, c := range secs {
			n = n*10 + int64(c-'0')
		}
		if n > int64(math.MaxInt64/time.Second) {
			return limit, true
		}
		return min(time.Duration(n)*time.Second, limit), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, true
	}
	return max(0, min(time.Until(t), limit)), false
}

func FuzzHTTPXRetryAfter(f *testing.F) {
	for _, s := range []struct {
		status int
		v      string
		limit  int64
	}{
		{503, "0", 0}, {503, "7", 0}, {429, "120", int64(time.Minute)}, {429, " 3\t", 0},
		{503, "-1", 0}, {503, "1.5", 0}, {503, "", 0}, {503, "99999999999999999999", 0},
		{500, "7", 0}, {502, "7", 0}, {503, "7", -1},
		{503, "Wed, 21 Oct 2015 07:28:00 GMT", 0}, {429, "Fri, 31 Dec 9999 23:59:59 GMT", int64(time.Hour)},
		{503, "Sun Nov  6 08:49:37 1994", 0}, {503, "soon", 0},
	} {
		f.Add(s.status, s.v, s.limit)
	}
	f.Fuzz(func(t *testing.T, status int, v string, limit int64) {
		if status < 100 || status > 999 {
			status = 500 + (status%100+100)%100
		}
		var seen *httpx.StatusError
		tr, err := httpx.New(httpx.Config{
			Base:          answer{status: status, header: http.Header{"Retry-After": {v}}},
			Breaker:       breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Millisecond}},
			MaxRetryAfter: time.Duration(limit),
			Fallback: func(_ *http.Request, err error) (*http.Response, error) {
				errors.As(err, &seen)
				return nil, err // decline: only look
			},
		})
		require.NoError(t, err)
		roundTrip := func() (*http.Response, error) {
			req, err := http.NewRequest(http.MethodGet, "http://dependency.test/", nil)
			require.NoError(t, err)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return resp, err
		}
		_, err = roundTrip()
		require.NoError(t, err)
		want, exact := refRetryAfter(status, v, time.Duration(limit))
		if httpx.DefaultClassify(&http.Response{StatusCode: status}, nil) != resilience.Failure {
			assert.Nil(t, seen, "a good answer is not offered to the fallback")
			return
		}
		require.NotNil(t, seen, "a failure response is offered to the fallback")
		got := seen.RetryAfter()
		if exact {
			assert.Equal(t, want, got, "Retry-After %q on %d, limit %v", v, status, time.Duration(limit))
		} else {
			assert.InDelta(t, float64(want), float64(got), float64(time.Second), "Retry-After %q, limit %v", v, time.Duration(limit))
		}
		// The breaker, opened by this response, waits that long.
		if got > time.Second {
			_, err = roundTrip()
			var re *breaker.RejectedError
			require.ErrorAs(t, err, &re)
			assert.InDelta(t, float64(got), float64(re.RetryAfter()), float64(time.Second))
		}
	})
}

// FuzzHTTPXStatusClassification: a response counts against its host
// (here: opens a breaker that trips on one failure) exactly when it is a
// 5xx or a 429.
func FuzzHTTPXStatusClassification(f *testing.F) {
	for _, s := range []int{200, 204, 301, 400, 404, 429, 499, 500, 503, 599, 600, 999} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, status int) {
		if status < 100 || status > 999 {
			status = 100 + (status%900+900)%900
		}
		if status == http.StatusSwitchingProtocols {
			return // a protocol switch has a body of its own kind
		}
		tr, err := httpx.New(httpx.Config{
			Base:    answer{status: status},
			Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Hour}},
		})
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodGet, "http://dependency.test/", nil)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err, "every answer reaches the caller")
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, status, resp.StatusCode)
		failure := (status >= 500 && status <= 599) || status == http.StatusTooManyRequests
		want := breaker.Closed
		if failure {
			want = breaker.Open
		}
		assert.Equal(t, want, tr.Breakers().Get(httpx.HostKey(req)).State(), "status %d", status)
	})
}

// FuzzGRPCXCodeClassification: a call counts against its method (opens a
// breaker that trips on one failure) exactly when its code says the server
// is down, slow, overloaded or broken.
func FuzzGRPCXCodeClassification(f *testing.F) {
	for c := range uint32(18) {
		f.Add(c, "msg")
	}
	f.Add(uint32(1<<31), "")
	f.Fuzz(func(t *testing.T, code uint32, msg string) {
		c := codes.Code(code)
		ic, err := grpcx.New(grpcx.Config{
			Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Hour}},
		})
		require.NoError(t, err)
		invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
			return status.Error(c, msg)
		}
		err = ic.UnaryClientInterceptor()(context.Background(), checkMethod, nil, nil, nil, invoker)
		assert.Equal(t, c, status.Code(err), "the caller gets the server's code")
		var failure bool
		switch c {
		case codes.OK, codes.Canceled, codes.InvalidArgument, codes.NotFound, codes.AlreadyExists,
			codes.PermissionDenied, codes.Unauthenticated, codes.FailedPrecondition, codes.Aborted,
			codes.OutOfRange, codes.Unimplemented:
		default: // Unknown, DeadlineExceeded, ResourceExhausted, Internal, Unavailable, DataLoss, and codes past 16
			failure = true
		}
		want := breaker.Closed
		if failure {
			want = breaker.Open
		}
		assert.Equal(t, want, ic.Breakers().Get(ic.Key(checkMethod)).State(), "code %v", c)
	})
}
