package otelx

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/admit"
)

// scope is the instrumentation scope of the instruments.
const scope = "github.com/go-resilience/resilience/otelx"

// meters are the instruments, and the attribute sets of each (policy,
// key) pair, made once per pair so that recording allocates nothing of
// its own.
type meters struct {
	breakerState     metric.Int64UpDownCounter
	transitions      metric.Int64Counter
	calls            metric.Int64Counter
	callDuration     metric.Float64Histogram
	rejections       metric.Int64Counter
	timeouts         metric.Int64Counter
	abandoned        metric.Int64UpDownCounter
	bulkheadActive   metric.Int64UpDownCounter
	bulkheadWait     metric.Float64Histogram
	fallbacks        metric.Int64Counter
	injectedFaults   metric.Int64Counter
	injectedErrors   metric.Int64Counter
	injectedDelay    metric.Float64Counter
	bulkheadCapacity metric.Int64ObservableGauge
	bulkheadWaiting  metric.Int64ObservableGauge
	adaptiveLimit    metric.Int64Gauge
	serverAdmitted   metric.Int64Counter
	serverShed       metric.Int64Counter
	serverWait       metric.Float64Histogram
	retries          metric.Int64Counter
	retryRefusals    metric.Int64Counter
	retryGiveUps     metric.Int64Counter
	hedges           metric.Int64Counter
	hedgeWins        metric.Int64Counter
	hedgeRefusals    metric.Int64Counter
	fleetSyncs       metric.Int64Counter
	fleetSyncTime    metric.Float64Counter
	fleetSyncErrors  metric.Int64Counter
	meter            metric.Meter
	maxKeys          int
	pairs            atomic.Pointer[map[pair]*series]
	mu               sync.Mutex // held to add a pair
	npairs           int
}

type pair struct{ policy, key string }

// series holds the option slices of one pair.
type series struct {
	add      []metric.AddOption
	rec      []metric.RecordOption
	outcome  [3][]metric.AddOption // by Outcome: success, failure, ignored
	reason   [numReasons][]metric.AddOption
	state    [len(stateNames)][]metric.AddOption
	shed     [len(shedReasons)][]metric.AddOption
	seen     atomic.Bool // a breaker: its state series started
	mu       sync.Mutex
	transits map[[2]int][]metric.AddOption
}

func newMeters(cfg Config) (*meters, error) {
	m := &meters{meter: cfg.MeterProvider.Meter(scope), maxKeys: cfg.MaxKeys}
	mt := m.meter
	var errs [28]error
	m.breakerState, errs[0] = mt.Int64UpDownCounter("resilience.breaker.state",
		metric.WithDescription("1 for a breaker's current state, 0 for the others."), metric.WithUnit("{breaker}"))
	m.transitions, errs[1] = mt.Int64Counter("resilience.breaker.transitions",
		metric.WithDescription("Changes of a breaker's state."), metric.WithUnit("{transition}"))
	m.calls, errs[2] = mt.Int64Counter("resilience.calls",
		metric.WithDescription("Calls a breaker let through, by classified outcome."), metric.WithUnit("{call}"))
	m.callDuration, errs[3] = mt.Float64Histogram("resilience.call.duration",
		metric.WithDescription("How long calls that succeeded or failed ran."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(cfg.Buckets...))
	m.rejections, errs[4] = mt.Int64Counter("resilience.rejections",
		metric.WithDescription("Calls a policy refused, by reason (error.type)."), metric.WithUnit("{call}"))
	m.timeouts, errs[5] = mt.Int64Counter("resilience.timeouts",
		metric.WithDescription("Calls a timeout ended."), metric.WithUnit("{call}"))
	m.abandoned, errs[6] = mt.Int64UpDownCounter("resilience.abandoned.active",
		metric.WithDescription("Calls abandoned at their deadline that have not returned yet."), metric.WithUnit("{call}"))
	m.bulkheadActive, errs[7] = mt.Int64UpDownCounter("resilience.bulkhead.active",
		metric.WithDescription("Bulkhead slots taken."), metric.WithUnit("{call}"))
	m.bulkheadWait, errs[8] = mt.Float64Histogram("resilience.bulkhead.wait.duration",
		metric.WithDescription("How long callers waited for a bulkhead slot, and got it."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(cfg.WaitBuckets...))
	m.fallbacks, errs[9] = mt.Int64Counter("resilience.fallbacks",
		metric.WithDescription("Calls a fallback answered."), metric.WithUnit("{call}"))
	m.injectedFaults, errs[10] = mt.Int64Counter("resilience.injected.faults",
		metric.WithDescription("Faults injected on purpose."), metric.WithUnit("{fault}"))
	m.injectedErrors, errs[11] = mt.Int64Counter("resilience.injected.errors",
		metric.WithDescription("Injected faults that failed the call."), metric.WithUnit("{fault}"))
	m.injectedDelay, errs[12] = mt.Float64Counter("resilience.injected.delay",
		metric.WithDescription("Latency added on purpose."), metric.WithUnit("s"))
	m.bulkheadCapacity, errs[13] = mt.Int64ObservableGauge("resilience.bulkhead.capacity",
		metric.WithDescription("MaxConcurrent of watched bulkheads."), metric.WithUnit("{call}"))
	m.bulkheadWaiting, errs[14] = mt.Int64ObservableGauge("resilience.bulkhead.waiting",
		metric.WithDescription("Callers waiting for a slot of watched bulkheads."), metric.WithUnit("{call}"))
	m.adaptiveLimit, errs[15] = mt.Int64Gauge("resilience.adaptive.limit",
		metric.WithDescription("The concurrency limit an adaptive limiter allows now."), metric.WithUnit("{call}"))
	m.serverAdmitted, errs[16] = mt.Int64Counter("resilience.server.admitted",
		metric.WithDescription("Requests a server-side adapter let run."), metric.WithUnit("{request}"))
	m.serverShed, errs[17] = mt.Int64Counter("resilience.server.shed",
		metric.WithDescription("Requests a server-side adapter refused at once, by reason (error.type)."), metric.WithUnit("{request}"))
	m.serverWait, errs[18] = mt.Float64Histogram("resilience.server.queue.wait.duration",
		metric.WithDescription("How long admitted requests waited for the server's Policy."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(cfg.WaitBuckets...))
	m.retries, errs[19] = mt.Int64Counter("resilience.retries",
		metric.WithDescription("Attempts sent after a failed one."), metric.WithUnit("{attempt}"))
	m.retryRefusals, errs[20] = mt.Int64Counter("resilience.retry.budget.refusals",
		metric.WithDescription("Retries the retry budget refused."), metric.WithUnit("{attempt}"))
	m.retryGiveUps, errs[21] = mt.Int64Counter("resilience.retry.give_ups",
		metric.WithDescription("Calls that stopped retrying a retryable error."), metric.WithUnit("{call}"))
	m.hedges, errs[22] = mt.Int64Counter("resilience.hedges",
		metric.WithDescription("Extra attempts sent by a hedge."), metric.WithUnit("{attempt}"))
	m.hedgeWins, errs[23] = mt.Int64Counter("resilience.hedge.wins",
		metric.WithDescription("Calls a hedge answered first."), metric.WithUnit("{call}"))
	m.hedgeRefusals, errs[24] = mt.Int64Counter("resilience.hedge.budget.refusals",
		metric.WithDescription("Hedges the budget refused."), metric.WithUnit("{attempt}"))
	m.fleetSyncs, errs[25] = mt.Int64Counter("resilience.fleet.syncs",
		metric.WithDescription("Reads of a fleet's shared state from its store that succeeded."), metric.WithUnit("{read}"))
	m.fleetSyncTime, errs[26] = mt.Float64Counter("resilience.fleet.sync.time",
		metric.WithDescription("Time those reads took, in all."), metric.WithUnit("s"))
	m.fleetSyncErrors, errs[27] = mt.Int64Counter("resilience.fleet.sync.errors",
		metric.WithDescription("Operations of a fleet on its store that failed."), metric.WithUnit("{operation}"))
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	empty := map[pair]*series{}
	m.pairs.Store(&empty)
	return m, nil
}

// lookup returns the series of (policy, key), made at its first event.
func (m *meters) lookup(policy, key string) *series {
	if s := (*m.pairs.Load())[pair{policy, key}]; s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := *m.pairs.Load()
	if s := cur[pair{policy, key}]; s != nil {
		return s
	}
	if m.npairs >= m.maxKeys && key != otherKey {
		if s := cur[pair{policy, otherKey}]; s != nil {
			return s
		}
		key = otherKey
	}
	s := newSeries(policy, key)
	next := make(map[pair]*series, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[pair{policy, key}] = s
	m.npairs++
	m.pairs.Store(&next)
	return s
}

func newSeries(policy, key string) *series {
	base := []attribute.KeyValue{AttrPolicy.String(policy), AttrKey.String(key)}
	with := func(kv attribute.KeyValue) []metric.AddOption {
		return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(append(base[:2:2], kv)...))}
	}
	set := attribute.NewSet(base...)
	s := &series{
		add: []metric.AddOption{metric.WithAttributeSet(set)},
		rec: []metric.RecordOption{metric.WithAttributeSet(set)},
	}
	for i, o := range [...]string{"success", "failure", "ignored"} {
		s.outcome[i] = with(AttrOutcome.String(o))
	}
	for r := range numReasons {
		s.reason[r] = with(AttrErrorType.String(reasonNames[r]))
	}
	for i, st := range stateNames {
		s.state[i] = with(AttrState.String(st))
	}
	for i, r := range shedReasons {
		s.shed[i] = with(AttrErrorType.String(r))
	}
	return s
}

// transition returns the options of the transition from..to.
func (s *series) transition(policy, key string, from, to int) []metric.AddOption {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]int{from, to}
	if o, ok := s.transits[k]; ok {
		return o
	}
	if s.transits == nil {
		s.transits = map[[2]int][]metric.AddOption{}
	}
	o := []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(
		AttrPolicy.String(policy), AttrKey.String(key),
		AttrFrom.String(stateNames[from]), AttrTo.String(stateNames[to])))}
	s.transits[k] = o
	return o
}

// breakerSeen starts the state series of a breaker, in state closed.
func (m *meters) breakerSeen(ctx context.Context, s *series) {
	if !s.seen.Load() && s.seen.CompareAndSwap(false, true) {
		m.breakerState.Add(ctx, 1, s.state[0]...)
	}
}

// observe records ev in the instruments.
func (m *meters) observe(ev *resilience.Event) {
	switch ev.Kind {
	case resilience.EventCall, resilience.EventRejected, resilience.EventStateChange, resilience.EventTimeout,
		resilience.EventAcquire, resilience.EventRelease, resilience.EventWait, resilience.EventAbandon,
		resilience.EventAbandonDone, resilience.EventFallback, resilience.EventInjected,
		resilience.EventLimitChange, resilience.EventAdmitted, resilience.EventShed,
		resilience.EventRetry, resilience.EventRetryRefused, resilience.EventRetryGiveUp,
		resilience.EventHedgeSent, resilience.EventHedgeWon, resilience.EventHedgeRefused,
		resilience.EventSync, resilience.EventSyncError:
	default:
		return
	}
	ctx := ev.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	s := m.lookup(ev.Policy, ev.Key)
	switch ev.Kind {
	case resilience.EventCall:
		m.breakerSeen(ctx, s)
		if ev.Outcome > resilience.Ignored {
			return
		}
		m.calls.Add(ctx, 1, s.outcome[ev.Outcome]...)
		if ev.Outcome != resilience.Ignored {
			m.callDuration.Record(ctx, ev.Latency.Seconds(), s.rec...)
		}
	case resilience.EventRejected:
		m.rejections.Add(ctx, 1, s.reason[reasonOf(ev.Err)]...)
	case resilience.EventStateChange:
		m.breakerSeen(ctx, s)
		from, to := stateIndex(ev.From), stateIndex(ev.To)
		if from < 0 || to < 0 {
			return
		}
		m.transitions.Add(ctx, 1, s.transition(ev.Policy, ev.Key, from, to)...)
		m.breakerState.Add(ctx, -1, s.state[from]...)
		m.breakerState.Add(ctx, 1, s.state[to]...)
	case resilience.EventTimeout:
		m.timeouts.Add(ctx, 1, s.add...)
	case resilience.EventAcquire:
		m.bulkheadActive.Add(ctx, 1, s.add...)
	case resilience.EventRelease:
		m.bulkheadActive.Add(ctx, -1, s.add...)
	case resilience.EventWait:
		m.bulkheadWait.Record(ctx, ev.Latency.Seconds(), s.rec...)
	case resilience.EventAbandon:
		m.abandoned.Add(ctx, 1, s.add...)
	case resilience.EventAbandonDone:
		m.abandoned.Add(ctx, -1, s.add...)
	case resilience.EventFallback:
		m.fallbacks.Add(ctx, 1, s.add...)
	case resilience.EventInjected:
		m.injectedFaults.Add(ctx, 1, s.add...)
		if ev.Err != nil {
			m.injectedErrors.Add(ctx, 1, s.add...)
		}
		m.injectedDelay.Add(ctx, ev.Latency.Seconds(), s.add...)
	case resilience.EventLimitChange:
		m.adaptiveLimit.Record(ctx, int64(ev.Limit), s.rec...)
	case resilience.EventAdmitted:
		m.serverAdmitted.Add(ctx, 1, s.add...)
		m.serverWait.Record(ctx, ev.Latency.Seconds(), s.rec...)
	case resilience.EventShed:
		m.serverShed.Add(ctx, 1, s.shed[admit.ReasonOf(ev.Err)]...)
	case resilience.EventRetry:
		m.retries.Add(ctx, 1, s.add...)
	case resilience.EventRetryRefused:
		m.retryRefusals.Add(ctx, 1, s.add...)
	case resilience.EventRetryGiveUp:
		m.retryGiveUps.Add(ctx, 1, s.add...)
	case resilience.EventHedgeSent:
		m.hedges.Add(ctx, 1, s.add...)
	case resilience.EventHedgeWon:
		m.hedgeWins.Add(ctx, 1, s.add...)
	case resilience.EventHedgeRefused:
		m.hedgeRefusals.Add(ctx, 1, s.add...)
	case resilience.EventSync:
		m.fleetSyncs.Add(ctx, 1, s.add...)
		m.fleetSyncTime.Add(ctx, ev.Latency.Seconds(), s.add...)
	case resilience.EventSyncError:
		m.fleetSyncErrors.Add(ctx, 1, s.add...)
	}
}
