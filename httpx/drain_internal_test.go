package httpx

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// stallReader returns its data, then blocks until abort is called.
type stallReader struct {
	data    io.Reader
	aborted chan struct{}
	reads   atomic.Int64
}

func (s *stallReader) Read(p []byte) (int, error) {
	s.reads.Add(1)
	if n, err := s.data.Read(p); n > 0 || err != io.EOF {
		return n, err
	}
	<-s.aborted
	return 0, errors.New("connection closed")
}

func newStall(data string) (*stallReader, func()) {
	s := &stallReader{data: strings.NewReader(data), aborted: make(chan struct{})}
	var once atomic.Bool
	return s, func() {
		if once.CompareAndSwap(false, true) {
			close(s.aborted)
		}
	}
}

func TestDrainBounds(t *testing.T) {
	t.Run("a short body is read to its end", func(t *testing.T) {
		called := false
		assert.True(t, drain(context.Background(), strings.NewReader("oops"), func() { called = true }))
		assert.False(t, called)
	})
	t.Run("a body of exactly the bound is read to its end", func(t *testing.T) {
		assert.True(t, drain(context.Background(), strings.NewReader(strings.Repeat("x", maxDrain)), func() {}))
	})
	t.Run("a longer body is cut at the bound", func(t *testing.T) {
		r := strings.NewReader(strings.Repeat("x", 3*maxDrain))
		assert.False(t, drain(context.Background(), r, func() {}))
		assert.Equal(t, 3*maxDrain-(maxDrain+1), r.Len(), "read no further than the bound and one byte")
	})
	t.Run("a stalled body is aborted after the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, abort := newStall("partial")
			start := time.Now()
			assert.False(t, drain(context.Background(), s, abort))
			assert.Equal(t, maxDrainWait, time.Since(start))
		})
	})
	t.Run("never past the request's deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), maxDrainWait/4)
			defer cancel()
			s, abort := newStall("")
			start := time.Now()
			assert.False(t, drain(ctx, s, abort))
			assert.Equal(t, maxDrainWait/4, time.Since(start))
		})
	})
	t.Run("nothing is read once the context is done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s, abort := newStall("data")
		assert.False(t, drain(ctx, s, abort))
		assert.Zero(t, s.reads.Load())
	})
}
