package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience/httpx"
)

// FuzzServerTimeoutHeader sends any header value: the middleware never
// panics, and it refuses or sets a deadline exactly as a reference parse
// (1 to 9 ASCII digits between blanks, in milliseconds) says.
func FuzzServerTimeoutHeader(f *testing.F) {
	for _, v := range []string{"", "0", "49", "50", "1000", " 7 ", "-5", "+5", "1e3", "5s", "999999999", "1000000000",
		"99999999999999999999", "\t12\t", "١٢", "0x10", "1_000", "12 34"} {
		f.Add(v)
	}
	srv, err := httpx.NewServer(httpx.ServerConfig{TimeoutHeader: "X-Timeout-Ms", MinDeadline: 50 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	var deadline time.Time
	var has bool
	h := srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline, has = r.Context().Deadline()
	}))
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["X-Timeout-Ms"] = []string{v}
		has = false
		w := httptest.NewRecorder()
		before := time.Now()
		h.ServeHTTP(w, r)

		ms, ok := reference(v)
		switch {
		case !ok:
			if w.Code != http.StatusOK || has {
				t.Fatalf("%q: ignored header got status %d, deadline %v", v, w.Code, has)
			}
		case ms < 50:
			if w.Code != http.StatusServiceUnavailable {
				t.Fatalf("%q: %dms got status %d, want 503", v, ms, w.Code)
			}
		default:
			want := before.Add(time.Duration(ms) * time.Millisecond)
			if w.Code != http.StatusOK || !has || deadline.Before(want) || deadline.After(want.Add(time.Minute)) {
				t.Fatalf("%q: %dms got status %d, deadline %v (%v), want about %v", v, ms, w.Code, has, deadline, want)
			}
		}
	})
}

func reference(v string) (int64, bool) {
	v = strings.Trim(v, " \t")
	if len(v) == 0 || len(v) > 9 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}
