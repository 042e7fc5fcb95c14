package monitoring_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exported returns the name of every series a metrics.Collector exports
// once it has seen an Event of every kind.
func exported(t *testing.T) []string {
	t.Helper()
	c, err := metrics.New(metrics.Config{})
	require.NoError(t, err)
	for _, ev := range []resilience.Event{
		{Kind: resilience.EventCall, Policy: "b", Outcome: resilience.Success, Latency: time.Millisecond},
		{Kind: resilience.EventCall, Policy: "b", Outcome: resilience.Failure, Latency: time.Millisecond},
		{Kind: resilience.EventRejected, Policy: "b", Err: breaker.ErrOpen},
		{Kind: resilience.EventRejected, Policy: "h", Err: bulkhead.ErrFull},
		{Kind: resilience.EventStateChange, Policy: "b", From: "closed", To: "open"},
		{Kind: resilience.EventTimeout, Policy: "t"},
		{Kind: resilience.EventAcquire, Policy: "h"},
		{Kind: resilience.EventWait, Policy: "h", Latency: time.Millisecond},
		{Kind: resilience.EventAbandon, Policy: "t"},
		{Kind: resilience.EventFallback, Policy: "f"},
		{Kind: resilience.EventRetry, Policy: "r", Attempt: 2},
		{Kind: resilience.EventRetryRefused, Policy: "r", Attempt: 3},
		{Kind: resilience.EventRetryGiveUp, Policy: "r", Attempt: 3},
	} {
		c.Observe(ev)
	}
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
		if mf.GetType().String() == "HISTOGRAM" {
			names = append(names, mf.GetName()+"_bucket", mf.GetName()+"_sum", mf.GetName()+"_count")
		}
	}
	return names
}

var seriesName = regexp.MustCompile(`\bresilience_[a-z_]+\b`)

// dashboardExprs returns every query of the Grafana dashboard.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("grafana-dashboard.json")
	require.NoError(t, err)
	var d struct {
		UID    string
		Panels []struct {
			Title   string
			Type    string
			Targets []struct{ Expr string }
		}
		Templating struct{ List []struct{ Definition string } }
	}
	require.NoError(t, json.Unmarshal(b, &d))
	require.NotEmpty(t, d.UID)
	var exprs []string
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	return exprs
}

func TestEverySeriesNamedIsOneTheMetricsPackageExports(t *testing.T) {
	names := exported(t)
	rules, err := os.ReadFile("alerts.yml")
	require.NoError(t, err)
	used := map[string]bool{}
	for _, text := range append(dashboardExprs(t), string(rules)) {
		for _, n := range seriesName.FindAllString(text, -1) {
			used[n] = true
		}
	}
	require.NotEmpty(t, used)
	for n := range used {
		assert.Contains(t, names, n, "%s is named in monitoring/ but not exported by metrics", n)
	}
	// The dashboard shows every family the metrics package exports.
	for _, n := range names {
		if strings.HasSuffix(n, "_sum") || strings.HasSuffix(n, "_count") ||
			slices.Contains(names, n+"_bucket") {
			continue
		}
		assert.True(t, used[n], "%s is exported but not shown", n)
	}
}

// promtool returns the path of promtool, or skips the test without it
// (fails it in CI).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool is not installed, and CI=true: %v", err)
		}
		t.Skipf("promtool is not installed (apt-get install prometheus): %v", err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		require.Failf(t, "promtool failed", "%s %v:\n%s", name, args, out)
	}
	require.NoError(t, err)
}

func TestRulesPassTheirUnitTests(t *testing.T) {
	p := promtool(t)
	run(t, p, "check", "rules", "alerts.yml")
	run(t, p, "test", "rules", "alerts_test.yml")
}

func TestDashboardQueriesParse(t *testing.T) {
	p := promtool(t)
	// Each query, with Grafana's variables given values, as a recording
	// rule: promtool check rules parses it.
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	r := strings.NewReplacer("$__rate_interval", "5m", "$job", ".*", "$policy", ".*")
	for i, e := range dashboardExprs(t) {
		q, err := json.Marshal(r.Replace(e))
		require.NoError(t, err)
		fmt.Fprintf(&b, "      - record: dashboard:query%d\n        expr: %s\n", i, q)
	}
	file := filepath.Join(t.TempDir(), "queries.yml")
	require.NoError(t, os.WriteFile(file, []byte(b.String()), 0o644))
	run(t, p, "check", "rules", file)
}
