package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/go-resilience/resilience/dashboard"
)

// Any path and query: an answer of 200, 400 or 404, never a panic.
func FuzzServeHTTP(f *testing.F) {
	for _, s := range [][2]string{
		{"/", "theme=dark"}, {"/", "theme=%zz"}, {"/snapshot.json", "limit=3&history=true"},
		{"/snapshot.json", "limit=-1"}, {"/snapshot.json", "limit=1&limit=1"}, {"/events", ""},
		{"/events", "x"}, {"/app.js", ""}, {"/style.css", "a=b"}, {"/a/b/c", ""}, {"", ";;;"},
	} {
		f.Add(s[0], s[1])
	}
	d, err := dashboard.New(dashboard.Config{MaxTiles: 10})
	if err != nil {
		f.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel() // a stream ends at once
	f.Fuzz(func(t *testing.T, path, query string) {
		r := httptest.NewRequestWithContext(done, "GET", "/", nil)
		r.URL = &url.URL{Path: path, RawQuery: query}
		w := httptest.NewRecorder()
		d.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound:
		default:
			t.Fatalf("%q %q: %d %s", path, query, w.Code, w.Body)
		}
	})
}
