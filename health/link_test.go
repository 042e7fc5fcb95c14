package health_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/health"
)

// A link whose state the test sets; the real one, *fleet.Fleet, is
// checked against a real Redis in the fleet package's tests.
type testLink struct {
	ok  bool
	lag time.Duration
	err error
}

func (l *testLink) Name() string { return "orders-fleet" }

func (l *testLink) LinkHealth() (bool, time.Duration, error) { return l.ok, l.lag, l.err }

func TestBrokenLinkDegradesTheReportButNeverTakesItDown(t *testing.T) {
	redisDown := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	for _, tc := range []struct {
		name    string
		link    testLink
		degrade bool // UnavailableWhenDegraded
		status  health.Status
		code    int
		json    string
	}{
		{"working link", testLink{ok: true, lag: 100 * time.Millisecond}, false, health.OK, http.StatusOK,
			`[{"name":"orders-fleet","ok":true,"lag_seconds":0.1}]`},
		{"broken link", testLink{lag: 5 * time.Second, err: redisDown}, false, health.Degraded, http.StatusOK,
			`[{"name":"orders-fleet","ok":false,"lag_seconds":5,"error":"dial tcp 127.0.0.1:6379: connect: connection refused"}]`},
		{"broken link, unavailable when degraded", testLink{lag: 5 * time.Second}, true, health.Degraded, http.StatusServiceUnavailable,
			`[{"name":"orders-fleet","ok":false,"lag_seconds":5}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			brk, err := breaker.New(breaker.Config{Name: "orders"})
			require.NoError(t, err)
			c, err := health.New(health.Config{Breakers: []*breaker.Breaker{brk}, Links: []health.Link{&tc.link}, UnavailableWhenDegraded: tc.degrade})
			require.NoError(t, err)
			r := c.Report()
			assert.Equal(t, tc.status, r.Status)
			require.Len(t, r.Links, 1)
			assert.Equal(t, tc.link.ok, r.Links[0].OK)

			rec := httptest.NewRecorder()
			c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
			assert.Equal(t, tc.code, rec.Code)
			var body struct {
				Links json.RawMessage `json:"links"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.JSONEq(t, tc.json, string(body.Links))
		})
	}
}

func TestNilLinkIsRefusedAtNew(t *testing.T) {
	_, err := health.New(health.Config{Links: []health.Link{nil}})
	assert.EqualError(t, err, "health: Config.Links[0] is nil")
}

func TestReportWithoutLinksLeavesThemOutOfTheJSON(t *testing.T) {
	c, err := health.New(health.Config{})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	assert.NotContains(t, rec.Body.String(), "links")
}
