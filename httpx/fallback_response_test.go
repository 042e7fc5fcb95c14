package httpx_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/httpx"
)

func TestNewResponseIsCompleteForTheCaller(t *testing.T) {
	s := newServer(t, false, newStatusHandler(503))
	c := &http.Client{Transport: newTransport(t, httpx.Config{
		Base:    s.base,
		Breaker: neverTrip,
		Fallback: func(req *http.Request, err error) (*http.Response, error) {
			return httpx.NewResponse(req, http.StatusOK, http.Header{"Content-Type": {"text/plain"}}, []byte("cached")), nil
		},
	})}
	resp, err := get(t, c, s.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "cached", string(body))
	assert.Equal(t, "200 OK", resp.Status)
	assert.Equal(t, 200, resp.StatusCode)
	assert.True(t, resp.ProtoAtLeast(1, 1))
	assert.EqualValues(t, 6, resp.ContentLength)
	assert.Equal(t, "6", resp.Header.Get("Content-Length"))
	assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
	require.NotNil(t, resp.Request)
	assert.Equal(t, s.URL, resp.Request.URL.String())
}

func TestNewResponseWithoutBodyOrHeader(t *testing.T) {
	req, err := http.NewRequest(http.MethodGet, "http://example.test/", nil)
	require.NoError(t, err)
	for _, tc := range []struct {
		name       string
		code       int
		wantStatus string
	}{
		{"known code", http.StatusNoContent, "204 No Content"},
		{"unknown code", 599, "599"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := httpx.NewResponse(req, tc.code, nil, nil)
			assert.Equal(t, tc.wantStatus, resp.Status)
			assert.Equal(t, http.NoBody, resp.Body)
			assert.Zero(t, resp.ContentLength)
			assert.NotNil(t, resp.Header)
			assert.Same(t, req, resp.Request)
		})
	}
}
