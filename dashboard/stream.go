package dashboard

import (
	"errors"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// A hub sends each message to every open stream. One goroutine (send)
// runs while at least one stream is open: it builds and encodes each
// message once, and hands it to every stream's buffer without waiting; a
// stream whose buffer is full is dropped.
type hub struct {
	d *Dashboard

	mu      sync.Mutex
	streams map[*stream]struct{}
	stop    chan struct{} // closed to end send; nil when send is not running
	dropped uint64
}

// A stream is one open page's queue of messages.
type stream struct {
	msgs    chan []byte   // framed messages, shared: read-only
	dropped chan struct{} // closed when the hub drops or closes the stream
}

// open adds a stream, or returns nil when Config.MaxStreams are open.
func (h *hub) open() *stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.streams) >= h.d.cfg.MaxStreams {
		return nil
	}
	if h.streams == nil {
		h.streams = map[*stream]struct{}{}
	}
	s := &stream{msgs: make(chan []byte, h.d.cfg.StreamBuffer), dropped: make(chan struct{})}
	h.streams[s] = struct{}{}
	if h.stop == nil {
		h.stop = make(chan struct{})
		go h.send(h.stop)
	}
	return s
}

// close removes s, and stops send when no stream is left. A stream
// whose write timed out counts as dropped.
func (h *hub) close(s *stream, timedOut bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.streams[s]; ok && timedOut {
		h.dropped++
	}
	delete(h.streams, s)
	if len(h.streams) == 0 && h.stop != nil {
		close(h.stop)
		h.stop = nil
	}
}

// CloseStreams ends every stream open now; the pages reconnect unless the
// server is going away. An open stream never ends on its own, so an
// http.Server's Shutdown would wait for it: register CloseStreams with
// the server's RegisterOnShutdown. It is safe for concurrent use.
func (d *Dashboard) CloseStreams() {
	h := &d.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.streams {
		delete(h.streams, s)
		close(s.dropped)
	}
	if h.stop != nil {
		close(h.stop)
		h.stop = nil
	}
}

func (h *hub) stats() (open int, dropped uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.streams), h.dropped
}

// send sends a message every Config.Interval until stop is closed.
func (h *hub) send(stop chan struct{}) {
	t := time.NewTicker(h.d.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		msg := event(h.d.encode(time.Now(), h.d.cfg.MaxTiles, false))
		h.mu.Lock()
		for s := range h.streams {
			select {
			case s.msgs <- msg:
			default:
				// Too slow: drop it rather than wait or queue more.
				delete(h.streams, s)
				close(s.dropped)
				h.dropped++
			}
		}
		if len(h.streams) == 0 && h.stop == stop {
			close(stop)
			h.stop = nil
		}
		h.mu.Unlock()
	}
}

// serveEvents serves a stream of server-sent events.
func (d *Dashboard) serveEvents(w http.ResponseWriter, r *http.Request) {
	s := d.hub.open()
	if s == nil {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(time.Second, d.cfg.Interval).Seconds())))
		http.Error(w, "dashboard: too many streams open", http.StatusServiceUnavailable)
		return
	}
	timedOut := false
	defer func() { d.hub.close(s, timedOut) }()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(w)
	// A write may take at most as long as the buffer lasts (and a second
	// at least): a client that stops reading is let go.
	writeTimeout := max(time.Second, time.Duration(d.cfg.StreamBuffer)*d.cfg.Interval)
	write := func(msg []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // not every writer supports it
		_, err := w.Write(msg)
		if err == nil {
			err = rc.Flush()
		}
		timedOut = errors.Is(err, os.ErrDeadlineExceeded)
		return err == nil
	}
	// The browser reconnects after this long if the stream ends.
	retry := "retry: " + strconv.FormatInt(max(time.Second, d.cfg.Interval).Milliseconds(), 10) + "\n\n"
	if !write([]byte(retry)) || !write(event(d.encode(time.Now(), d.cfg.MaxTiles, false))) {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.dropped: // too slow, or CloseStreams
			return
		case msg := <-s.msgs:
			if !write(msg) {
				return
			}
		}
	}
}

// event frames msg, JSON with no newline, as one server-sent event.
func event(msg []byte) []byte {
	b := make([]byte, 0, len(msg)+8)
	b = append(b, "data: "...)
	b = append(b, msg...)
	return append(b, "\n\n"...)
}
