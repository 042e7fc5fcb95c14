package health

import (
	"encoding/json"
	"net/http"
)

// ServeHTTP answers GET and HEAD with the Report as JSON: status 200 OK
// when the report's Status is OK or Degraded, 503 Service Unavailable when
// it is Down (or Degraded, with Config.UnavailableWhenDegraded). The
// response is never cached. Other methods get 405 Method Not Allowed.
//
// Serve it where the readiness probe looks, e.g.
//
//	mux.Handle("GET /readyz", checker)
func (c *Checker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	rep := c.Report()
	body, err := json.Marshal(rep)
	if err != nil {
		// Unreachable: every field of a Report encodes.
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(c.code(rep.Status))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// code is the HTTP status the handler answers st with.
func (c *Checker) code(st Status) int {
	switch {
	case st == Down, st == Degraded && c != nil && c.cfg.UnavailableWhenDegraded:
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}
