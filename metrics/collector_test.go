package metrics_test

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newCollector(t testing.TB, cfg metrics.Config) *metrics.Collector {
	t.Helper()
	c, err := metrics.New(cfg)
	require.NoError(t, err)
	return c
}

// compare checks that the named metrics of c are exactly want (text
// exposition format, HELP and TYPE lines included).
func compare(t *testing.T, c prometheus.Collector, want string, names ...string) {
	t.Helper()
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), names...))
}

func TestNewValidatesConfigNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  metrics.Config
		want string
	}{
		{"namespace with a dash", metrics.Config{Namespace: "my-app"}, "Config.Namespace"},
		{"namespace starting with a digit", metrics.Config{Namespace: "9lives"}, "Config.Namespace"},
		{"buckets not increasing", metrics.Config{Buckets: []float64{1, 1}}, "Config.Buckets must be strictly increasing"},
		{"buckets with NaN", metrics.Config{Buckets: []float64{nanValue()}}, "Config.Buckets must be finite"},
		{"wait buckets decreasing", metrics.Config{WaitBuckets: []float64{2, 1}}, "Config.WaitBuckets must be strictly increasing"},
		{"const label with invalid name", metrics.Config{ConstLabels: prometheus.Labels{"a-b": "x"}}, "Config.ConstLabels"},
		{"const label reserved by the collector", metrics.Config{ConstLabels: prometheus.Labels{"policy": "x"}}, `"policy" is a label the collector sets itself`},
		{"const label with double underscore", metrics.Config{ConstLabels: prometheus.Labels{"__name": "x"}}, "Config.ConstLabels"},
		{"const label value not UTF-8", metrics.Config{ConstLabels: prometheus.Labels{"svc": "\xff"}}, "not valid UTF-8"},
		{"negative MaxKeys", metrics.Config{MaxKeys: -1}, "Config.MaxKeys must not be negative, got -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := metrics.New(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "metrics: "), err.Error())
		})
	}
}

func nanValue() float64 { zero := 0.0; return zero / zero }

func TestNewAcceptsTheZeroConfigAndRegistersNothingGlobally(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	c.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: "t"})
	// The default registry does not know the collector: registering it
	// there would succeed, and unregistering it again must too.
	require.NoError(t, prometheus.DefaultRegisterer.Register(c))
	assert.True(t, prometheus.DefaultRegisterer.Unregister(c))
}

func TestEachEventKindRecordsItsSeries(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name   string
		events []resilience.Event
		want   string
		names  []string
	}{
		{
			name: "calls by outcome, timed when answered",
			events: []resilience.Event{
				{Kind: resilience.EventCall, Policy: "db", Outcome: resilience.Success, Latency: 20 * time.Millisecond},
				{Kind: resilience.EventCall, Policy: "db", Outcome: resilience.Failure, Latency: 2 * time.Second, Err: boom},
				{Kind: resilience.EventCall, Policy: "db", Outcome: resilience.Ignored, Latency: time.Millisecond},
			},
			names: []string{"resilience_calls_total", "resilience_call_duration_seconds"},
			want: `
# HELP resilience_call_duration_seconds Duration of calls a breaker let through that the dependency answered (success or failure).
# TYPE resilience_call_duration_seconds histogram
resilience_call_duration_seconds_bucket{key="",policy="db",le="0.005"} 0
resilience_call_duration_seconds_bucket{key="",policy="db",le="0.01"} 0
resilience_call_duration_seconds_bucket{key="",policy="db",le="0.025"} 1
resilience_call_duration_seconds_bucket{key="",policy="db",le="0.05"} 1
resilience_call_duration_seconds_bucket{key="",policy="db",le="0.1"} 1
resilience_call_duration_seconds_bucket{key="",policy="db",le="0.25"} 1
resilience_call_duration_seconds_bucket{key="",policy="db",le="0.5"} 1
resilience_call_duration_seconds_bucket{key="",policy="db",le="1"} 1
resilience_call_duration_seconds_bucket{key="",policy="db",le="2.5"} 2
resilience_call_duration_seconds_bucket{key="",policy="db",le="5"} 2
resilience_call_duration_seconds_bucket{key="",policy="db",le="10"} 2
resilience_call_duration_seconds_bucket{key="",policy="db",le="+Inf"} 2
resilience_call_duration_seconds_sum{key="",policy="db"} 2.02
resilience_call_duration_seconds_count{key="",policy="db"} 2
# HELP resilience_calls_total Calls a breaker let through, by classified outcome (success, failure, ignored).
# TYPE resilience_calls_total counter
resilience_calls_total{key="",outcome="failure",policy="db"} 1
resilience_calls_total{key="",outcome="ignored",policy="db"} 1
resilience_calls_total{key="",outcome="success",policy="db"} 1
`,
		},
		{
			name: "all outcomes start at zero with the first call",
			events: []resilience.Event{
				{Kind: resilience.EventCall, Policy: "db", Key: "h1", Outcome: resilience.Success},
			},
			names: []string{"resilience_calls_total"},
			want: `
# HELP resilience_calls_total Calls a breaker let through, by classified outcome (success, failure, ignored).
# TYPE resilience_calls_total counter
resilience_calls_total{key="h1",outcome="failure",policy="db"} 0
resilience_calls_total{key="h1",outcome="ignored",policy="db"} 0
resilience_calls_total{key="h1",outcome="success",policy="db"} 1
`,
		},
		{
			name: "a breaker's state starts closed and follows transitions",
			events: []resilience.Event{
				{Kind: resilience.EventCall, Policy: "a", Outcome: resilience.Failure},
				{Kind: resilience.EventCall, Policy: "b", Outcome: resilience.Success},
				{Kind: resilience.EventStateChange, Policy: "a", From: "closed", To: "open"},
				{Kind: resilience.EventStateChange, Policy: "a", From: "open", To: "half-open"},
				{Kind: resilience.EventStateChange, Policy: "a", From: "half-open", To: "open"},
				{Kind: resilience.EventStateChange, Policy: "a", From: "open", To: "forced-closed"},
			},
			names: []string{"resilience_breaker_state", "resilience_breaker_transitions_total"},
			want: `
# HELP resilience_breaker_state Breaker state: 1 for the state the breaker is in, 0 for the others.
# TYPE resilience_breaker_state gauge
resilience_breaker_state{key="",policy="a",state="closed"} 0
resilience_breaker_state{key="",policy="a",state="forced-closed"} 1
resilience_breaker_state{key="",policy="a",state="forced-open"} 0
resilience_breaker_state{key="",policy="a",state="half-open"} 0
resilience_breaker_state{key="",policy="a",state="open"} 0
resilience_breaker_state{key="",policy="b",state="closed"} 1
resilience_breaker_state{key="",policy="b",state="forced-closed"} 0
resilience_breaker_state{key="",policy="b",state="forced-open"} 0
resilience_breaker_state{key="",policy="b",state="half-open"} 0
resilience_breaker_state{key="",policy="b",state="open"} 0
# HELP resilience_breaker_transitions_total Breaker state changes, forced ones included.
# TYPE resilience_breaker_transitions_total counter
resilience_breaker_transitions_total{from="closed",key="",policy="a",to="open"} 1
resilience_breaker_transitions_total{from="half-open",key="",policy="a",to="open"} 1
resilience_breaker_transitions_total{from="open",key="",policy="a",to="forced-closed"} 1
resilience_breaker_transitions_total{from="open",key="",policy="a",to="half-open"} 1
`,
		},
		{
			name: "refusals of no known policy are counted as other",
			events: []resilience.Event{
				{Kind: resilience.EventRejected, Policy: "x", Err: resilience.ErrRejected},
				{Kind: resilience.EventRejected, Policy: "x", Err: boom},
			},
			names: []string{"resilience_rejections_total"},
			want: `
# HELP resilience_rejections_total Calls refused without being started, by reason (breaker_open, probe_limit, bulkhead_full, abandon_limit, adaptive_limit, throttled, rate_limited, other).
# TYPE resilience_rejections_total counter
resilience_rejections_total{key="",policy="x",reason="other"} 2
`,
		},
		{
			name: "timeouts, abandoned calls and fallbacks",
			events: []resilience.Event{
				{Kind: resilience.EventTimeout, Policy: "t"},
				{Kind: resilience.EventTimeout, Policy: "t"},
				{Kind: resilience.EventAbandon, Policy: "t"},
				{Kind: resilience.EventAbandon, Policy: "t"},
				{Kind: resilience.EventAbandonDone, Policy: "t"},
				{Kind: resilience.EventFallback, Policy: "fb", Err: boom},
			},
			names: []string{"resilience_timeouts_total", "resilience_abandoned_in_flight", "resilience_fallbacks_total"},
			want: `
# HELP resilience_abandoned_in_flight Calls a timeout abandoned past its deadline that have not returned yet.
# TYPE resilience_abandoned_in_flight gauge
resilience_abandoned_in_flight{key="",policy="t"} 1
# HELP resilience_fallbacks_total Errors a fallback answered with a substitute.
# TYPE resilience_fallbacks_total counter
resilience_fallbacks_total{key="",policy="fb"} 1
# HELP resilience_timeouts_total Calls whose timeout policy's own deadline passed.
# TYPE resilience_timeouts_total counter
resilience_timeouts_total{key="",policy="t"} 2
`,
		},
		{
			name: "bulkhead slots and waits",
			events: []resilience.Event{
				{Kind: resilience.EventAcquire, Policy: "pool"},
				{Kind: resilience.EventAcquire, Policy: "pool"},
				{Kind: resilience.EventWait, Policy: "pool", Latency: 3 * time.Millisecond},
				{Kind: resilience.EventAcquire, Policy: "pool"},
				{Kind: resilience.EventRelease, Policy: "pool"},
			},
			names: []string{"resilience_bulkhead_in_flight", "resilience_bulkhead_wait_seconds"},
			want: `
# HELP resilience_bulkhead_in_flight Calls holding a bulkhead slot.
# TYPE resilience_bulkhead_in_flight gauge
resilience_bulkhead_in_flight{key="",policy="pool"} 2
# HELP resilience_bulkhead_wait_seconds Time callers waited for a bulkhead slot, for callers that waited and got one.
# TYPE resilience_bulkhead_wait_seconds histogram
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.0001"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.0002"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.0004"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.0008"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.0016"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.0032"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.0064"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.0128"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.0256"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.0512"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.1024"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.2048"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.4096"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="0.8192"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="1.6384"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="pool",le="+Inf"} 1
resilience_bulkhead_wait_seconds_sum{key="",policy="pool"} 0.003
resilience_bulkhead_wait_seconds_count{key="",policy="pool"} 1
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector(t, metrics.Config{})
			for _, ev := range tc.events {
				c.Observe(ev)
			}
			compare(t, c, tc.want, tc.names...)
		})
	}
}

func TestAPolicyShowsOnlyTheSeriesItReports(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	c.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: "t"})
	assert.Equal(t, 1, testutil.CollectAndCount(c), "a timeout policy that timed out once has one series")
}

func TestEventsOfUnknownKindAreIgnored(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	c.Observe(resilience.Event{Policy: "zero kind"})
	c.Observe(resilience.Event{Kind: resilience.EventKind(255), Policy: "future kind"})
	assert.Zero(t, testutil.CollectAndCount(c))
}

func TestNilCollectorDoesNothing(t *testing.T) {
	var c *metrics.Collector
	assert.NotPanics(t, func() {
		c.Observe(resilience.Event{Kind: resilience.EventCall, Policy: "p"})
		c.Forget("p", "")
		c.Describe(make(chan *prometheus.Desc, 1))
		c.Collect(make(chan prometheus.Metric, 1))
	})
}

func TestNamespaceAndConstLabelsApplyToEverySeries(t *testing.T) {
	c := newCollector(t, metrics.Config{Namespace: "shop", ConstLabels: prometheus.Labels{"service": "checkout"}})
	c.Observe(resilience.Event{Kind: resilience.EventAcquire, Policy: "pool"})
	c.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: "t"})
	compare(t, c, `
# HELP shop_bulkhead_in_flight Calls holding a bulkhead slot.
# TYPE shop_bulkhead_in_flight gauge
shop_bulkhead_in_flight{key="",policy="pool",service="checkout"} 1
# HELP shop_timeouts_total Calls whose timeout policy's own deadline passed.
# TYPE shop_timeouts_total counter
shop_timeouts_total{key="",policy="t",service="checkout"} 1
`, "shop_bulkhead_in_flight", "shop_timeouts_total")
}

func TestCustomBucketsAreUsed(t *testing.T) {
	c := newCollector(t, metrics.Config{Buckets: []float64{0.1, 1}})
	c.Observe(resilience.Event{Kind: resilience.EventCall, Policy: "p", Outcome: resilience.Success, Latency: 500 * time.Millisecond})
	compare(t, c, `
# HELP resilience_call_duration_seconds Duration of calls a breaker let through that the dependency answered (success or failure).
# TYPE resilience_call_duration_seconds histogram
resilience_call_duration_seconds_bucket{key="",policy="p",le="0.1"} 0
resilience_call_duration_seconds_bucket{key="",policy="p",le="1"} 1
resilience_call_duration_seconds_bucket{key="",policy="p",le="+Inf"} 1
resilience_call_duration_seconds_sum{key="",policy="p"} 0.5
resilience_call_duration_seconds_count{key="",policy="p"} 1
`, "resilience_call_duration_seconds")
}

func TestKeysBeyondMaxKeysAreCountedUnderOther(t *testing.T) {
	c := newCollector(t, metrics.Config{MaxKeys: 2})
	for _, key := range []string{"a", "b", "c", "d", "a"} {
		c.Observe(resilience.Event{Kind: resilience.EventCall, Policy: "set", Key: key, Outcome: resilience.Success})
		c.Observe(resilience.Event{Kind: resilience.EventStateChange, Policy: "set", Key: key, From: "closed", To: "open"})
	}
	compare(t, c, `
# HELP resilience_calls_total Calls a breaker let through, by classified outcome (success, failure, ignored).
# TYPE resilience_calls_total counter
resilience_calls_total{key="_other",outcome="failure",policy="set"} 0
resilience_calls_total{key="_other",outcome="ignored",policy="set"} 0
resilience_calls_total{key="_other",outcome="success",policy="set"} 2
resilience_calls_total{key="a",outcome="failure",policy="set"} 0
resilience_calls_total{key="a",outcome="ignored",policy="set"} 0
resilience_calls_total{key="a",outcome="success",policy="set"} 2
resilience_calls_total{key="b",outcome="failure",policy="set"} 0
resilience_calls_total{key="b",outcome="ignored",policy="set"} 0
resilience_calls_total{key="b",outcome="success",policy="set"} 1
`, "resilience_calls_total")
	// The overflow series has no state: it is not one breaker.
	assert.Equal(t, 10, testutil.CollectAndCount(c, "resilience_breaker_state"))

	c.Forget("set", "a")
	c.Observe(resilience.Event{Kind: resilience.EventCall, Policy: "set", Key: "e", Outcome: resilience.Failure})
	compare(t, c, `
# HELP resilience_calls_total Calls a breaker let through, by classified outcome (success, failure, ignored).
# TYPE resilience_calls_total counter
resilience_calls_total{key="_other",outcome="failure",policy="set"} 0
resilience_calls_total{key="_other",outcome="ignored",policy="set"} 0
resilience_calls_total{key="_other",outcome="success",policy="set"} 2
resilience_calls_total{key="b",outcome="failure",policy="set"} 0
resilience_calls_total{key="b",outcome="ignored",policy="set"} 0
resilience_calls_total{key="b",outcome="success",policy="set"} 1
resilience_calls_total{key="e",outcome="failure",policy="set"} 1
resilience_calls_total{key="e",outcome="ignored",policy="set"} 0
resilience_calls_total{key="e",outcome="success",policy="set"} 0
`, "resilience_calls_total")
}

func TestForgetDeletesEverySeriesOfThePair(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	for _, key := range []string{"gone", "kept"} {
		c.Observe(resilience.Event{Kind: resilience.EventCall, Policy: "p", Key: key, Outcome: resilience.Failure})
		c.Observe(resilience.Event{Kind: resilience.EventStateChange, Policy: "p", Key: key, From: "closed", To: "open"})
		c.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: "p", Key: key, Err: resilience.ErrRejected})
	}
	c.Forget("p", "gone")
	c.Forget("p", "never seen")
	compare(t, c, `
# HELP resilience_rejections_total Calls refused without being started, by reason (breaker_open, probe_limit, bulkhead_full, abandon_limit, adaptive_limit, throttled, rate_limited, other).
# TYPE resilience_rejections_total counter
resilience_rejections_total{key="kept",policy="p",reason="other"} 1
`, "resilience_rejections_total")
	for _, name := range familyNames(t, c) {
		assert.Equal(t, 0, testutil.CollectAndCount(c, name)-countKey(t, c, name, "kept"), name)
	}
}

// countKey counts the series of family name whose key label is key.
func countKey(t *testing.T, c prometheus.Collector, name, key string) int {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	n := 0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "key" && l.GetValue() == key {
					n++
				}
			}
		}
	}
	return n
}

func TestLabelValuesThatAreNotUTF8AreMadeValid(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	c.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: "p", Key: "a\xffb"})
	c.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: "p", Key: "a\xfeb"})
	compare(t, c, `
# HELP resilience_timeouts_total Calls whose timeout policy's own deadline passed.
# TYPE resilience_timeouts_total counter
resilience_timeouts_total{key="a`+"\uFFFD"+`b",policy="p"} 2
`, "resilience_timeouts_total")
}

func TestCollectAndLintReportsNoProblems(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	for _, ev := range []resilience.Event{
		{Kind: resilience.EventCall, Policy: "b", Outcome: resilience.Success},
		{Kind: resilience.EventStateChange, Policy: "b", From: "closed", To: "open"},
		{Kind: resilience.EventRejected, Policy: "b", Err: resilience.ErrRejected},
		{Kind: resilience.EventTimeout, Policy: "t"},
		{Kind: resilience.EventAbandon, Policy: "t"},
		{Kind: resilience.EventAcquire, Policy: "k"},
		{Kind: resilience.EventWait, Policy: "k", Latency: time.Millisecond},
		{Kind: resilience.EventFallback, Policy: "f"},
	} {
		c.Observe(ev)
	}
	assert.Equal(t, 10, len(familyNames(t, c)), "every metric family is present")
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func familyNames(t *testing.T, c prometheus.Collector) []string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	return names
}

func TestObservingASeenPairAllocatesNothing(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	events := []resilience.Event{
		{Kind: resilience.EventCall, Policy: "b", Key: "k", Outcome: resilience.Success, Latency: time.Millisecond},
		{Kind: resilience.EventAcquire, Policy: "k"},
		{Kind: resilience.EventRelease, Policy: "k"},
		{Kind: resilience.EventWait, Policy: "k", Latency: time.Millisecond},
		{Kind: resilience.EventRejected, Policy: "b", Key: "k", Err: resilience.ErrRejected},
		{Kind: resilience.EventTimeout, Policy: "t"},
		{Kind: resilience.EventAbandon, Policy: "t"},
		{Kind: resilience.EventAbandonDone, Policy: "t"},
		{Kind: resilience.EventFallback, Policy: "f"},
	}
	for _, ev := range events {
		c.Observe(ev)
	}
	for _, ev := range events {
		assert.Zero(t, testing.AllocsPerRun(100, func() { c.Observe(ev) }), ev.Kind.String())
	}
}

func TestConcurrentObserveForgetAndCollect(t *testing.T) {
	c := newCollector(t, metrics.Config{MaxKeys: 8})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	var wg sync.WaitGroup
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				key := keys[(g+i)%len(keys)]
				c.Observe(resilience.Event{Kind: resilience.EventCall, Policy: "p", Key: key, Outcome: resilience.Success})
				c.Observe(resilience.Event{Kind: resilience.EventAcquire, Policy: "p", Key: key})
				c.Observe(resilience.Event{Kind: resilience.EventRelease, Policy: "p", Key: key})
				if i%100 == 0 {
					c.Forget("p", key)
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			_, err := reg.Gather()
			assert.NoError(t, err)
		}
	})
	wg.Wait()
	_, err := reg.Gather()
	require.NoError(t, err)
}

func TestHistogramBoundsOutsideDurationsRangeAndSumsAcrossCollections(t *testing.T) {
	c := newCollector(t, metrics.Config{Buckets: []float64{-1, 0, 1e300}})
	call := func(d time.Duration) {
		c.Observe(resilience.Event{Kind: resilience.EventCall, Policy: "p", Outcome: resilience.Success, Latency: d})
	}
	want := func(n int, sum string) string {
		return `
# HELP resilience_call_duration_seconds Duration of calls a breaker let through that the dependency answered (success or failure).
# TYPE resilience_call_duration_seconds histogram
resilience_call_duration_seconds_bucket{key="",policy="p",le="-1"} 0
resilience_call_duration_seconds_bucket{key="",policy="p",le="0"} 1
resilience_call_duration_seconds_bucket{key="",policy="p",le="1e+300"} ` + strconv.Itoa(n) + `
resilience_call_duration_seconds_bucket{key="",policy="p",le="+Inf"} ` + strconv.Itoa(n) + `
resilience_call_duration_seconds_sum{key="",policy="p"} ` + sum + `
resilience_call_duration_seconds_count{key="",policy="p"} ` + strconv.Itoa(n) + `
`
	}
	call(0)
	call(1500 * time.Millisecond)
	compare(t, c, want(2, "1.5"), "resilience_call_duration_seconds")
	call(time.Duration(1<<62) + 1) // far beyond any real call: still in a bucket
	call(250 * time.Millisecond)
	compare(t, c, want(4, "4.611686020177388e+09"), "resilience_call_duration_seconds")
}

func TestManyPoliciesAreEachCountedAfterForget(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	names := make([]string, 12) // more than are scanned before the map
	for i := range names {
		names[i] = "p" + strconv.Itoa(i)
	}
	for i, name := range names {
		for range i + 1 {
			c.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: name})
		}
	}
	c.Forget("p1", "")
	c.Forget("p9", "")
	for _, name := range names {
		c.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: name})
	}
	var b strings.Builder
	b.WriteString("# HELP resilience_timeouts_total Calls whose timeout policy's own deadline passed.\n# TYPE resilience_timeouts_total counter\n")
	for i, name := range names {
		n := i + 2
		if name == "p1" || name == "p9" {
			n = 1
		}
		b.WriteString(`resilience_timeouts_total{key="",policy="` + name + `"} ` + strconv.Itoa(n) + "\n")
	}
	compare(t, c, b.String())
}
