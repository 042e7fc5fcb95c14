package httpx

import (
	"net/http"
	"time"
)

// defaultMaxRetryAfter is the cap on a Retry-After hint when
// Config.MaxRetryAfter is zero.
const defaultMaxRetryAfter = 5 * time.Minute

// parseRetryAfter reads a Retry-After header value (RFC 9110, section
// 10.2.3): delta-seconds (one or more ASCII digits) or an HTTP-date, with
// optional surrounding spaces and tabs. It returns how long to wait from now,
// at most limit, and whether v was valid. A date in the past is valid and
// gives zero; so does "0". A delta too large for a Duration gives limit.
//
// now is called only for the date form, so the common delta form takes no
// clock reading.
func parseRetryAfter(v string, now func() time.Time, limit time.Duration) (time.Duration, bool) {
	v = trimOWS(v)
	if v == "" {
		return 0, false
	}
	if isDigit(v[0]) {
		return parseDelta(v, limit)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now())
	if d < 0 {
		return 0, true
	}
	return min(d, limit), true
}

// parseDelta parses 1*DIGIT as seconds, saturating at limit.
func parseDelta(v string, limit time.Duration) (time.Duration, bool) {
	const maxSeconds = int64(1<<63-1) / int64(time.Second)
	var n int64
	saturated := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isDigit(c) {
			return 0, false
		}
		if saturated {
			continue
		}
		n = n*10 + int64(c-'0')
		if n > maxSeconds {
			saturated = true
		}
	}
	if saturated {
		return limit, true
	}
	return min(time.Duration(n)*time.Second, limit), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// trimOWS removes the optional white space (spaces and horizontal tabs)
// that HTTP allows around a field value.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
