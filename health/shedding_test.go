package health_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/health"
	"github.com/go-resilience/resilience/httpx"
)

// The server-side adapters are Shedders as they are.
var (
	_ health.Shedder = (*httpx.Server)(nil)
	_ health.Shedder = (*grpcx.Server)(nil)
)

type fakeShedder struct {
	name  string
	since time.Time // zero: not shedding
}

func (f *fakeShedder) Name() string { return f.name }

func (f *fakeShedder) Shedding() (time.Time, bool) { return f.since, !f.since.IsZero() }

func TestSheddingServerIsReportedWithItsStartAndDegradesTheStatus(t *testing.T) {
	since := time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		shedding    bool
		unavailable bool // Config.UnavailableWhenShedding
		status      health.Status
		code        int
	}{
		{"not shedding: ok, nothing listed", false, false, health.OK, http.StatusOK},
		{"shedding: degraded, still ready", true, false, health.Degraded, http.StatusOK},
		{"shedding, unavailable when shedding: down", true, true, health.Down, http.StatusServiceUnavailable},
		{"not shedding, unavailable when shedding: ok", false, true, health.OK, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeShedder{name: "api"}
			if tc.shedding {
				api.since = since
			}
			c := newChecker(t, health.Config{Shedders: []health.Shedder{&fakeShedder{name: "idle"}, api}, UnavailableWhenShedding: tc.unavailable})
			rep := c.Report()
			assert.Equal(t, tc.status, rep.Status)
			w := httptest.NewRecorder()
			c.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ready", nil))
			assert.Equal(t, tc.code, w.Code)
			var body map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
			if !tc.shedding {
				assert.NotContains(t, body, "shedding")
				return
			}
			assert.Equal(t, []health.SheddingReport{{Name: "api", Since: since}}, rep.Shedding)
			assert.Equal(t, []any{map[string]any{"name": "api", "since": "2026-11-30T23:00:00Z"}}, body["shedding"])
		})
	}
}

func TestNewRejectsANilShedder(t *testing.T) {
	_, err := health.New(health.Config{Shedders: []health.Shedder{nil}})
	assert.ErrorContains(t, err, "health: Config.Shedders[0] is nil")
}
