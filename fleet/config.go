package fleet

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/redis/go-redis/v9"
)

// Config configures a Fleet. Only Client has no usable zero value.
type Config struct {
	// Client is the Redis client the fleet shares state through: a single
	// node, Sentinel or Cluster (every key the fleet writes has the same
	// hash tag, so scripts and multi-key reads work on a Cluster). The
	// fleet never closes it. Set its Options.ContextTimeoutEnabled so that
	// Timeout bounds every command; otherwise the client's own ReadTimeout
	// and WriteTimeout do. Required.
	Client redis.UniversalClient

	// Name names the fleet in the Events it reports (Event.Policy).
	// Zero: "".
	Name string

	// Namespace prefixes every key and the channel the fleet uses, so that
	// services sharing a Redis do not share state: the keys are
	// "{Namespace}:b:..." and "{Namespace}:p:...", the channel
	// "{Namespace}:breakers". Replicas of one service must use the same
	// Namespace. Zero: "resilience". It must not contain '{' or '}'.
	Namespace string

	// Replica names this replica in the probe leases it takes; replicas
	// must have distinct names. Zero: 16 random hex digits.
	Replica string

	// SyncInterval is how often the fleet reads the shared state of every
	// key it keeps from Redis, as the backstop to the pushed changes (a
	// replica that misses a push, or starts, catches up within it). Probe
	// leases are asked for from two intervals before an open period ends,
	// and a replica that finds the lease taken keeps its breaker open
	// until two intervals past the lease's expiry. Zero: 1s. Otherwise at
	// least 10ms.
	SyncInterval time.Duration

	// Timeout bounds each Redis operation (see Client). Zero:
	// SyncInterval, but at least 100ms.
	Timeout time.Duration

	// ProbeLease is how long the replica that wins the right to probe a
	// dependency after an open period holds it: the others keep their
	// breakers open meanwhile, until the prober reports (its breaker
	// closes or opens again) or the lease expires. It should cover a probe
	// call and a push, and the two sync intervals before the open period's
	// end from which the lease is asked for. Zero: 10 × SyncInterval.
	// Otherwise at least 2 × SyncInterval.
	ProbeLease time.Duration

	// RecordTTL is how long a record of a closed breaker, or of an open
	// one past its open period, stays in Redis. Every key the fleet writes
	// expires. Zero: 1 minute, but at least 10 × SyncInterval.
	RecordTTL time.Duration

	// PooledFailures opens every replica's breaker for a key once the
	// fleet's breakers for it have, while closed, failed this many times
	// in all within PooledWindow (counted in Redis): the fleet then stops
	// calling a failing dependency after about this many failing calls,
	// not this many per replica. Successes do not reset the count, so set
	// it above the failures a healthy fleet sees in a window. Each
	// breaker's own trip rules still apply. Zero: off.
	PooledFailures int

	// PooledWindow is the window of PooledFailures: a count starts at a
	// key's first failure and lasts this long (an open period started by
	// any replica starts it afresh). Zero: 1s.
	PooledWindow time.Duration

	// Observer is told of every backstop read (resilience.EventSync, with
	// Latency its round trip) and every failed Redis operation
	// (EventSyncError, with Err the error), with Policy set to Name.
	// Zero: nil, which costs nothing.
	Observer resilience.Observer
}

const (
	defaultNamespace    = "resilience"
	defaultSyncInterval = time.Second
	minSyncInterval     = 10 * time.Millisecond
	minTimeout          = 100 * time.Millisecond
	minRecordTTL        = time.Minute
)

// settings is a validated Config with its defaults applied.
type settings struct {
	client    redis.UniversalClient
	name      string
	namespace string
	replica   string
	interval  time.Duration
	timeout   time.Duration
	lease     time.Duration
	ttl       time.Duration
	pooled    int64
	window    time.Duration
	observer  resilience.Observer
}

func (cfg Config) validate() (*settings, error) {
	bad := func(field, rule string, got any) error {
		return fmt.Errorf("fleet: Config.%s must be %s, got %v", field, rule, got)
	}
	switch {
	case cfg.Client == nil:
		return nil, errors.New("fleet: Config.Client must be set, got nil")
	case strings.ContainsAny(cfg.Namespace, "{}"):
		return nil, bad("Namespace", "free of '{' and '}'", cfg.Namespace)
	case cfg.SyncInterval < 0 || (cfg.SyncInterval > 0 && cfg.SyncInterval < minSyncInterval):
		return nil, bad("SyncInterval", "at least 10ms (or zero: 1s)", cfg.SyncInterval)
	case cfg.Timeout < 0:
		return nil, bad("Timeout", "positive (or zero: SyncInterval)", cfg.Timeout)
	case cfg.ProbeLease < 0:
		return nil, bad("ProbeLease", "positive (or zero: 10 × SyncInterval)", cfg.ProbeLease)
	case cfg.ProbeLease > 0 && cfg.ProbeLease/2 < cmp.Or(cfg.SyncInterval, defaultSyncInterval):
		// A lease shorter than its lead (ahead) could expire before the
		// probe it is for.
		return nil, bad("ProbeLease", "at least 2 × SyncInterval (or zero: 10 × SyncInterval)", cfg.ProbeLease)
	case cfg.RecordTTL < 0:
		return nil, bad("RecordTTL", "positive (or zero: 1m)", cfg.RecordTTL)
	case cfg.PooledFailures < 0:
		return nil, bad("PooledFailures", "positive (or zero: off)", cfg.PooledFailures)
	case cfg.PooledWindow < 0:
		return nil, bad("PooledWindow", "positive (or zero: 1s)", cfg.PooledWindow)
	}
	s := &settings{
		client:    cfg.Client,
		name:      cfg.Name,
		namespace: cfg.Namespace,
		replica:   cfg.Replica,
		interval:  cfg.SyncInterval,
		timeout:   cfg.Timeout,
		lease:     cfg.ProbeLease,
		ttl:       cfg.RecordTTL,
		pooled:    int64(cfg.PooledFailures),
		window:    cfg.PooledWindow,
		observer:  cfg.Observer,
	}
	if s.namespace == "" {
		s.namespace = defaultNamespace
	}
	if s.replica == "" {
		var b [8]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		s.replica = hex.EncodeToString(b[:])
	}
	if s.interval == 0 {
		s.interval = defaultSyncInterval
	}
	if s.timeout == 0 {
		s.timeout = max(s.interval, minTimeout)
	}
	if s.lease == 0 {
		s.lease = 10 * s.interval
	}
	if s.window == 0 {
		s.window = time.Second
	}
	if s.ttl == 0 {
		s.ttl = max(minRecordTTL, 10*s.interval)
	}
	return s, nil
}

// ahead is how long before an open period ends a replica asks for the
// probe lease, and how long past a lease held by another replica it keeps
// its breaker open: four ticks of the fleet's goroutine (two sync
// intervals), so that the lease, not the replica's own clock, decides
// who probes even when that goroutine runs a tick or two late.
func (s *settings) ahead() time.Duration { return 2 * s.interval }
