//go:build race

package hedge_test

// raceEnabled: under the race detector sync.Pool drops some of what it is
// given, so a pooled timer is sometimes made afresh.
const raceEnabled = true
