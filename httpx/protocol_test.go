package httpx_test

import (
	"bufio"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
)

func TestHTTP2IsSpokenThroughTheTransport(t *testing.T) {
	s := newServer(t, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	tr := newTransport(t, httpx.Config{Base: s.base, Timeout: 5 * time.Second, Bulkhead: bulkhead.Config{MaxConcurrent: 8}})
	resp, err := get(t, &http.Client{Transport: tr}, s.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, 2, resp.ProtoMajor)
	assert.Equal(t, "HTTP/2.0", string(body), "the server saw HTTP/2 too")
	assert.Equal(t, map[string]int{"": 0}, inFlight(tr))
}

func TestSwitchingProtocolsBodyStaysWritable(t *testing.T) {
	s := newServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		line, err := brw.ReadString('\n')
		if err != nil {
			return
		}
		io.WriteString(conn, line)
	}))
	tr := newTransport(t, httpx.Config{Base: s.base, Timeout: 5 * time.Second, Bulkhead: bulkhead.Config{MaxConcurrent: 1}})
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, s.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)

	rw, ok := resp.Body.(io.ReadWriteCloser)
	require.True(t, ok, "a 101 body must stay writable")
	_, err = io.WriteString(rw, "ping\n")
	require.NoError(t, err)
	line, err := bufio.NewReader(rw).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "ping\n", line)
	assert.Equal(t, map[string]int{"": 1}, inFlight(tr), "the slot is held while the connection is in use")
	require.NoError(t, rw.Close())
	assert.Equal(t, map[string]int{"": 0}, inFlight(tr))
}
