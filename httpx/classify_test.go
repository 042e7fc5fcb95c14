package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/timeout"
)

func TestDefaultClassify(t *testing.T) {
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code} }
	tests := []struct {
		name string
		resp *http.Response
		err  error
		want resilience.Outcome
	}{
		{"200 is a success", resp(200), nil, resilience.Success},
		{"204 is a success", resp(204), nil, resilience.Success},
		{"301 is a success", resp(301), nil, resilience.Success},
		{"400 is the request's fault", resp(400), nil, resilience.Success},
		{"404 is the request's fault", resp(404), nil, resilience.Success},
		{"499 is the request's fault", resp(499), nil, resilience.Success},
		{"429 is a failure", resp(429), nil, resilience.Failure},
		{"500 is a failure", resp(500), nil, resilience.Failure},
		{"502 is a failure", resp(502), nil, resilience.Failure},
		{"503 is a failure", resp(503), nil, resilience.Failure},
		{"599 is a failure", resp(599), nil, resilience.Failure},
		{"600 is not a 5xx", resp(600), nil, resilience.Success},
		{"connection refused is a failure", nil, errors.New("dial tcp: connection refused"), resilience.Failure},
		{"unexpected EOF is a failure", nil, io.ErrUnexpectedEOF, resilience.Failure},
		{"own timeout is a failure", nil, fmt.Errorf("x: %w", timeout.ErrTimeout), resilience.Failure},
		{"cancellation is ignored", nil, context.Canceled, resilience.Ignored},
		{"wrapped cancellation is ignored", nil, &url.Error{Op: "Get", URL: "u", Err: context.Canceled}, resilience.Ignored},
		{"no response and no error is a failure", nil, nil, resilience.Failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, httpx.DefaultClassify(tt.resp, tt.err))
		})
	}
}

func FuzzDefaultClassify(f *testing.F) {
	for _, c := range []int{0, -1, 100, 200, 404, 429, 499, 500, 599, 600, 1 << 40} {
		f.Add(c, false, "")
		f.Add(c, true, "boom")
	}
	f.Fuzz(func(t *testing.T, code int, withErr bool, msg string) {
		var resp *http.Response
		var err error
		if withErr {
			err = errors.New(msg)
		} else {
			resp = &http.Response{StatusCode: code, Status: msg, Header: http.Header{"Retry-After": {msg}}}
		}
		got := httpx.DefaultClassify(resp, err)
		want := resilience.Success
		if withErr || code == 429 || (code >= 500 && code < 600) {
			want = resilience.Failure
		}
		if got != want {
			t.Fatalf("DefaultClassify(%d, %v) = %v, want %v", code, err, got, want)
		}
	})
}

func TestHostKey(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"http://example.com/a", "http://example.com:80"},
		{"http://example.com:80/b", "http://example.com:80"},
		{"https://example.com/", "https://example.com:443"},
		{"https://example.com:8443/x?y=z", "https://example.com:8443"},
		{"http://example.com:/", "http://example.com:80"},
		{"http://[::1]/", "http://[::1]:80"},
		{"http://[::1]:8080/", "http://[::1]:8080"},
		{"http://user:pass@example.com/", "http://example.com:80"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodGet, tt.url, nil)
		if assert.NoError(t, err) {
			assert.Equal(t, tt.want, httpx.HostKey(req), tt.url)
		}
	}
	assert.Equal(t, "", httpx.HostKey(&http.Request{}))
}

func TestStatusError(t *testing.T) {
	e := &httpx.StatusError{StatusCode: 503, Status: "503 Service Unavailable", Outcome: resilience.Failure}
	assert.Equal(t, "httpx: 503 Service Unavailable", e.Error())
	assert.Zero(t, e.RetryAfter())
	assert.Equal(t, "httpx: 502", (&httpx.StatusError{StatusCode: 502}).Error())
}
