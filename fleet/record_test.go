package fleet

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseRecordReadsOnlyVersionOneRecords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want record
		ok   bool
	}{
		{"1 o 1700000000000 17", record{open: true, until: time.UnixMilli(1700000000000), gen: 17}, true},
		{"1 c 0 18", record{gen: 18}, true},
		{"2 o 1700000000000 17", record{}, false},
		{"1 x 0 1", record{}, false},
		{"1 o soon 1", record{}, false},
		{"1 o 1 -1", record{}, false},
		{"1 o 1", record{}, false},
		{"", record{}, false},
	} {
		got, ok := parseRecord(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

// FuzzParseMessage checks that the message parser never panics, and that
// a message made the way the scripts make it reads back as it was.
func FuzzParseMessage(f *testing.F) {
	f.Add("upstream", "api.example.com", int64(1700000000000), uint64(1), true)
	f.Add("g", "a\x00b", int64(0), uint64(2), false)
	f.Add("", "", int64(-1), uint64(0), true)
	f.Fuzz(func(t *testing.T, group, key string, ms int64, gen uint64, open bool) {
		_, _, _, _ = parseMessage(group + key) // anything at all
		if group == "" || containsNUL(group) || ms < 0 {
			return
		}
		rec := "1 c 0 " + strconv.FormatUint(gen, 10)
		if open {
			rec = "1 o " + strconv.FormatInt(ms, 10) + " " + strconv.FormatUint(gen, 10)
		}
		g, k, r, ok := parseMessage(group + "\x00" + key + "\x00" + rec)
		if !ok || g != group || k != key || r.gen != gen || r.open != open || (open && r.until.UnixMilli() != ms) {
			t.Fatalf("parseMessage(%q, %q, %q) = %q, %q, %+v, %v", group, key, rec, g, k, r, ok)
		}
	})
}

func containsNUL(s string) bool {
	for i := range len(s) {
		if s[i] == 0 {
			return true
		}
	}
	return false
}
