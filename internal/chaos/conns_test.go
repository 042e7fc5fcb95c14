package chaos

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// dialCounter counts the connections a client dials and closes, so a test
// can tell that none is left open.
type dialCounter struct {
	dialed, closed atomic.Int64
}

func (d *dialCounter) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.dialed.Add(1)
	return &countedConn{Conn: c, d: d}, nil
}

func (d *dialCounter) open() int64 { return d.dialed.Load() - d.closed.Load() }

type countedConn struct {
	net.Conn
	d    *dialCounter
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.d.closed.Add(1) })
	return c.Conn.Close()
}

// inFlightTransport counts the requests in the base transport, from
// RoundTrip until it returns an error or the response body is read to its
// end or closed: what the bulkhead above it must bound.
type inFlightTransport struct {
	base          http.RoundTripper
	inFlight, max atomic.Int64
	// inRoundTrip counts only the requests inside base.RoundTrip.
	inRoundTrip, maxRoundTrip atomic.Int64
}

func (t *inFlightTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	storeMax(&t.max, t.inFlight.Add(1))
	storeMax(&t.maxRoundTrip, t.inRoundTrip.Add(1))
	resp, err := t.base.RoundTrip(req)
	t.inRoundTrip.Add(-1)
	if err != nil {
		t.inFlight.Add(-1)
		return nil, err
	}
	resp.Body = &countedBody{ReadCloser: resp.Body, t: t}
	return resp, nil
}

func (t *inFlightTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

type countedBody struct {
	io.ReadCloser
	t    *inFlightTransport
	once sync.Once
}

func (b *countedBody) done() { b.once.Do(func() { b.t.inFlight.Add(-1) }) }

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done()
	}
	return n, err
}

func (b *countedBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}
