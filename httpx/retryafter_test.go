package httpx

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

var raNow = time.Date(2025, 11, 25, 9, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return raNow }

func TestParseRetryAfter(t *testing.T) {
	const limit = 5 * time.Minute
	date := func(d time.Duration) string { return raNow.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name string
		in   string
		want time.Duration
		ok   bool
	}{
		{"delta seconds", "120", 2 * time.Minute, true},
		{"zero seconds", "0", 0, true},
		{"leading zeros", "007", 7 * time.Second, true},
		{"spaces and tabs around", " \t30\t ", 30 * time.Second, true},
		{"delta over the cap is capped", "86400", limit, true},
		{"delta too large for a Duration is capped", "99999999999999999999999", limit, true},
		{"HTTP-date in the future", date(90 * time.Second), 90 * time.Second, true},
		{"HTTP-date over the cap is capped", date(48 * time.Hour), limit, true},
		{"HTTP-date in the past is zero", date(-time.Hour), 0, true},
		{"RFC 850 date", raNow.Add(time.Minute).Format(time.RFC850), time.Minute, true},
		{"ANSI C date", raNow.Add(time.Minute).Format(time.ANSIC), time.Minute, true},
		{"empty", "", 0, false},
		{"blank", "  ", 0, false},
		{"negative", "-5", 0, false},
		{"plus sign", "+5", 0, false},
		{"fraction", "1.5", 0, false},
		{"units", "10s", 0, false},
		{"space inside", "1 0", 0, false},
		{"not a date", "tomorrow", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, fixedNow, limit)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseRetryAfterReadsNoClockForSeconds(t *testing.T) {
	_, ok := parseRetryAfter("5", func() time.Time { panic("clock read") }, time.Minute)
	assert.True(t, ok)
}

// refRetryAfter is the obvious reading of RFC 9110's Retry-After, written
// with the standard library's parsers.
func refRetryAfter(v string, now time.Time, limit time.Duration) (time.Duration, bool) {
	v = strings.Trim(v, " \t")
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > math.MaxInt64/uint64(time.Second) {
			return limit, true // out of range: as long as allowed
		}
		return min(time.Duration(n)*time.Second, limit), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, min(t.Sub(now), limit)), true
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{
		"0", "1", "120", " 5 ", "\t7", "-1", "+1", "1.5", "", "1e3",
		"9223372036", "9223372037", "99999999999999999999",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994", "Fri, 31 Dec 9999 23:59:59 GMT",
	} {
		f.Add(s, int64(time.Minute))
	}
	f.Fuzz(func(t *testing.T, v string, limit int64) {
		lim := time.Duration(limit)
		if lim <= 0 {
			lim = defaultMaxRetryAfter
		}
		got, ok := parseRetryAfter(v, fixedNow, lim)
		want, wantOK := refRetryAfter(v, raNow, lim)
		if ok != wantOK || got != want {
			t.Fatalf("parseRetryAfter(%q, %v) = %v, %v; reference says %v, %v", v, lim, got, ok, want, wantOK)
		}
		if got < 0 || got > lim {
			t.Fatalf("parseRetryAfter(%q, %v) = %v, outside [0, %v]", v, lim, got, lim)
		}
	})
}

func TestSplitPort(t *testing.T) {
	tests := []struct {
		in, host string
		hasPort  bool
	}{
		{"example.com", "example.com", false},
		{"example.com:8080", "example.com:8080", true},
		{"example.com:", "example.com", false},
		{"127.0.0.1:80", "127.0.0.1:80", true},
		{"[::1]", "[::1]", false},
		{"[::1]:443", "[::1]:443", true},
		{"[::1]:", "[::1]", false},
		{"", "", false},
	}
	for _, tt := range tests {
		host, ok := splitPort(tt.in)
		assert.Equal(t, tt.host, host, tt.in)
		assert.Equal(t, tt.hasPort, ok, tt.in)
	}
}
