package httpx_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/httpx"
)

func TestResponseNamesTheRequestTheCallerSent(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			srv := newServer(t, p.h2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
			}))
			for _, cfg := range []httpx.Config{{Base: srv.base}, {Base: srv.base, Timeout: time.Minute}} {
				tr := newTransport(t, cfg)
				req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
				require.NoError(t, err)
				resp, err := tr.RoundTrip(req)
				require.NoError(t, err)
				assert.Same(t, req, resp.Request, "Timeout %v", cfg.Timeout)
				resp.Body.Close()
			}
		})
	}
}
