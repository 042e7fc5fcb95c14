package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-resilience/resilience/dashboard"
	"github.com/stretchr/testify/require"
)

// msg is the streamed JSON, as another tool would read it.
type msg struct {
	Time           string     `json:"time"`
	Title          string     `json:"title"`
	IntervalMs     int64      `json:"interval_ms"`
	WindowMs       int64      `json:"window_ms"`
	Status         string     `json:"status"`
	Breakers       []tile     `json:"breakers"`
	BreakersMore   int        `json:"breakers_more"`
	Bulkheads      []bulkTile `json:"bulkheads"`
	BulkheadsMore  int        `json:"bulkheads_more"`
	Policies       []tile     `json:"policies"`
	PoliciesMore   int        `json:"policies_more"`
	Timeline       []change   `json:"timeline"`
	Streams        int        `json:"streams"`
	StreamsDropped uint64     `json:"streams_dropped"`
}

type figures struct {
	CallsPerSec    float64           `json:"calls_per_sec"`
	FailuresPerSec float64           `json:"failures_per_sec"`
	RejectedPerSec float64           `json:"rejected_per_sec"`
	Calls          uint64            `json:"calls"`
	Failures       uint64            `json:"failures"`
	Rejected       map[string]uint64 `json:"rejected"`
	Timeouts       uint64            `json:"timeouts"`
	Fallbacks      uint64            `json:"fallbacks"`
	P50Ms          float64           `json:"p50_ms"`
	P90Ms          float64           `json:"p90_ms"`
	P99Ms          float64           `json:"p99_ms"`
	History        [][3]float64      `json:"history"`
}

type tile struct {
	Name   string `json:"name"`
	Policy string `json:"policy"`
	Key    string `json:"key"`
	State  string `json:"state"`
	figures
}

type bulkTile struct {
	Name          string  `json:"name"`
	InFlight      int     `json:"in_flight"`
	MaxConcurrent int     `json:"max_concurrent"`
	Waiting       int     `json:"waiting"`
	Saturation    float64 `json:"saturation"`
	RejectedTotal uint64  `json:"rejected_total"`
	figures
}

type change struct {
	Time, Policy, Key, From, To string
}

func newDashboard(t testing.TB, cfg dashboard.Config) *dashboard.Dashboard {
	t.Helper()
	d, err := dashboard.New(cfg)
	require.NoError(t, err)
	return d
}

// snapshot returns snapshot.json?query served by h, with no network (for
// synctest bubbles).
func snapshot(t testing.TB, h http.Handler, query string) msg {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/resilience/snapshot.json"+query, nil))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var m msg
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m))
	return m
}

// policy returns the entry of (policy, key) among m's policies.
func policy(t testing.TB, m msg, name, key string) tile {
	t.Helper()
	for _, p := range m.Policies {
		if p.Policy == name && p.Key == key {
			return p
		}
	}
	require.Failf(t, "no such policy", "%q %q in %+v", name, key, m.Policies)
	return tile{}
}

var errDown = errors.New("dependency down")

func fail(context.Context) error    { return errDown }
func succeed(context.Context) error { return nil }
