// Package fleet makes the breakers of a service's replicas act as one,
// through Redis, without Redis ever being on a call's path.
//
// Each replica's breaker learns of an outage on its own: with 50 replicas
// and a threshold of 5 failures, a sick dependency takes 250 failing calls
// before the service stops calling it, and then 50 probes at once at the
// end of every open period. Joined to a Fleet, a breaker that opens opens
// the same breaker on every replica, until one shared time, and the probes
// that follow are taken by one replica at a time:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	fl, err := fleet.New(fleet.Config{Client: rdb, Namespace: "checkout"})
//	...
//	defer fl.Close()
//	hosts, err := breaker.NewSet(...)
//	...
//	err = fl.JoinSet("upstream-hosts", hosts)
//
// Calls go through the set as before (hosts.Execute, httpx, grpcx); the
// fleet only watches the breakers' changes of state and makes them follow
// the other replicas'.
//
// # Never on the call's path
//
// A call through a joined breaker reads local memory only, and costs what
// a call through a breaker on its own costs. A change of state (a
// breaker opening, or closing after its probes) hands a small value to the
// fleet's goroutine without waiting; every Redis operation runs there, one
// at a time, each bounded by Config.Timeout. When Redis is slow, paused,
// down or unreachable, the breakers go on with their own rules, each
// replica for itself, as without a fleet; the fleet counts the errors (see
// Health) and catches up when Redis is back.
//
// # What is shared
//
// Each breaker of a joined set has one record in Redis, under the group
// name the set was joined with and the breaker's key: open until a time,
// or closed, with a generation that grows with every write. Small scripts
// keep every decision atomic:
//
//   - A breaker that opens on its own failures writes the record, unless
//     the record is open already: then it takes the fleet's end of the
//     open period as its own. Either way the open period ends at one time,
//     the same on every replica.
//   - The write is published; every replica that keeps a breaker for that
//     key opens it until that time (breaker.Breaker.Follow). A replica that
//     missed the push (it was starting, or disconnected) reads the record
//     at its next backstop read, every Config.SyncInterval.
//   - Two sync intervals before the open period ends, each replica whose
//     breaker is open asks for the key's probe lease, a Redis key with a
//     TTL (Config.ProbeLease). The one that gets it lets its breaker probe as
//     usual, up to the breaker's HalfOpenProbes; the others keep theirs
//     open until two sync intervals past the lease's expiry, asking again
//     once it has expired. When the prober's breaker closes, the record
//     says closed and every replica closes; when a probe fails, the prober
//     opens again and that new period is the fleet's. A prober that
//     dies holds nothing: its lease expires, and another replica probes.
//     No lock is ever held across a call.
//
// With Config.PooledFailures set, the failures of a key's breakers are
// also counted together in Redis (each failure of a closed breaker is
// handed to the fleet's goroutine, as changes are; successes cost
// nothing): when the fleet's count reaches it within Config.PooledWindow,
// the replica that sees it trips its breaker, and that trip is shared as
// any other. The fleet then stops calling a failing dependency after
// about that many failing calls in all, not that many per replica.
//
// The record of a closed breaker expires after Config.RecordTTL; that of an
// open one, RecordTTL after its open period ends. Forced breakers
// (ForceOpen, ForceClosed) do not follow the fleet and are not shared.
//
// # Faults
//
// A push that fails, or a change that finds the fleet's queue full, is not
// lost: the backstop read finds the breaker open while the record is not,
// and writes it. So after Redis restarts empty, the fleet converges again
// within about two sync intervals. A replica that cannot take a probe
// lease (Redis is down) probes on its own.
//
// # Rate limits
//
// Fleet.NewLimiter makes a rate limit the whole service keeps (a partner
// allows the service 1,000 calls a second, not each replica): a GCRA
// bucket in Redis from which each replica leases tokens in batches in the
// background, so that a call spends a local token (one atomic operation)
// and Redis sees about one command per batch. Without Redis a replica
// allows its configured local share of the rate.
//
// # Health
//
// Health reports whether the fleet is subscribed, when it last read the
// shared state, how stale its view may be (Lag), and how many Redis
// operations failed. Config.Observer is told of every read
// (resilience.EventSync) and every error (resilience.EventSyncError); a
// metrics.Collector as the Observer exports them as fleet_syncs_total,
// fleet_sync_seconds_total and fleet_sync_errors_total. A *Fleet is a
// health.Link (Name and LinkHealth): given to health.Config.Links, a
// broken link to Redis (not subscribed, or no read for three sync
// intervals) makes the readiness report Degraded, never Down, since every
// replica goes on with its local state.
//
// # Goroutines and Close
//
// New starts two goroutines; Close stops them and waits. The fleet never
// closes the Redis client, which the caller owns and closes after the
// fleet.
package fleet
