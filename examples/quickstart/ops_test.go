package main

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/dashboard"
)

// -listen serves the metrics, the health report and the dashboard, whose
// snapshot shows the protected client's breaker.
func TestListenServesMetricsHealthAndTheDashboard(t *testing.T) {
	rec := &dashboard.Recorder{}
	prot, err := newProtected(policyFor(6*time.Second), rec, "http://127.0.0.1:1/price")
	require.NoError(t, err)
	defer prot.http.CloseIdleConnections()
	addr, stop, err := serveOps("127.0.0.1:0", prometheus.NewRegistry(), prot, rec)
	require.NoError(t, err)
	defer stop()

	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	get := func(path string) (int, string) {
		resp, err := c.Get("http://" + addr + path)
		require.NoError(t, err, path)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err, path)
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"/metrics", "/health", "/resilience/"} {
		code, _ := get(path)
		assert.Equal(t, http.StatusOK, code, path)
	}
	code, body := get("/resilience/snapshot.json")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"quickstart"`, "the title")
	assert.Contains(t, body, "127.0.0.1:1", "the breaker of the upstream's host is a tile")
}

func TestReachableNamesAHostToBrowseTo(t *testing.T) {
	got := &net.TCPAddr{IP: net.IPv6zero, Port: 9090}
	assert.Equal(t, "localhost:9090", reachable(":9090", got))
	assert.Equal(t, "localhost:9090", reachable(":0", got))
	assert.Equal(t, "127.0.0.1:9090", reachable("127.0.0.1:0", got))
	assert.Equal(t, "example.test:9090", reachable("example.test:9090", got))
}
