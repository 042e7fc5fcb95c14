package health

import (
	"fmt"
	"strconv"
)

// A Status sums up the health of what a Checker watches. The zero value is
// OK.
type Status uint8

const (
	// OK: every breaker is closed (or forced closed), or there is none.
	OK Status = iota
	// Degraded: some breakers are open, forced open or half-open, and not
	// all are open.
	Degraded
	// Down: every breaker is open or forced open, and none of them is
	// covered by a fallback (Config.Covered); calls to every watched
	// dependency are refused.
	Down
)

var statusNames = [...]string{OK: "ok", Degraded: "degraded", Down: "down"}

// String returns "ok", "degraded" or "down".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText encodes s as its String, so that it appears as "ok",
// "degraded" or "down" in JSON.
func (s Status) MarshalText() ([]byte, error) {
	if int(s) >= len(statusNames) {
		return nil, fmt.Errorf("health: invalid Status %d", uint8(s))
	}
	return []byte(statusNames[s]), nil
}

// UnmarshalText decodes "ok", "degraded" or "down", for clients that read
// a Report back.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if string(b) == n {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("health: unknown status %q", b)
}
