package fleet

import (
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// A record is the fleet's shared state of one breaker, as kept in Redis:
// "1 o <until, Unix ms> <generation>" for open, "1 c 0 <generation>" for
// closed. The leading 1 is the format's version. The generation grows with
// every write (it is the Redis server's clock in microseconds, or one more
// than the last), so a replica applies each decision once and in order,
// even across a restart of Redis that lost the records.
type record struct {
	open  bool
	until time.Time
	gen   uint64
}

// parseRecord reads a record; ok is false for anything else (a value of
// another version, or garbage), which the fleet treats as no record.
func parseRecord(s string) (r record, ok bool) {
	f := strings.Fields(s)
	if len(f) != 4 || f[0] != "1" {
		return record{}, false
	}
	ms, err1 := strconv.ParseInt(f[2], 10, 64)
	gen, err2 := strconv.ParseUint(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return record{}, false
	}
	switch f[1] {
	case "o":
		return record{open: true, until: time.UnixMilli(ms), gen: gen}, true
	case "c":
		return record{gen: gen}, true
	}
	return record{}, false
}

// keys names a breaker's record and probe lease in Redis. The hash tag
// {namespace} puts every key of a fleet in one Cluster slot; the group's
// length keeps group "a:b", key "c" apart from group "a", key "b:c".
func (s *settings) recordKey(group, key string) string {
	return "{" + s.namespace + "}:b:" + strconv.Itoa(len(group)) + ":" + group + ":" + key
}

func (s *settings) leaseKey(group, key string) string {
	return "{" + s.namespace + "}:p:" + strconv.Itoa(len(group)) + ":" + group + ":" + key
}

func (s *settings) countKey(group, key string) string {
	return "{" + s.namespace + "}:f:" + strconv.Itoa(len(group)) + ":" + group + ":" + key
}

func (s *settings) channel() string { return "{" + s.namespace + "}:breakers" }

// message is what a script publishes: group, key and record, separated by
// NUL bytes (the key may hold anything but is found between the first and
// the last).
func parseMessage(payload string) (group, key string, r record, ok bool) {
	i := strings.IndexByte(payload, 0)
	j := strings.LastIndexByte(payload, 0)
	if i < 0 || j <= i {
		return "", "", record{}, false
	}
	r, ok = parseRecord(payload[j+1:])
	return payload[:i], payload[i+1 : j], r, ok
}

// The scripts keep every decision atomic in Redis. KEYS[1] is the record,
// KEYS[2] the probe lease, KEYS[3] the pooled failure count.

// openScript records an open period ending at ARGV[1] (Unix ms) unless
// the record already holds one that ends after ARGV[2] (now): then that
// one is the fleet's, and is returned unchanged. Otherwise it writes the
// record with ARGV[3] ms to live, gives up the lease if ARGV[4] holds it,
// publishes ARGV[6] .. record on ARGV[5], and returns the record.
var openScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local gen = 0
if cur then
  local st, u, g = string.match(cur, '^1 (%a) (%d+) (%d+)$')
  if g then
    gen = tonumber(g)
    if st == 'o' and tonumber(u) > tonumber(ARGV[2]) then return cur end
  end
end
local t = redis.call('TIME')
gen = math.max(gen + 1, tonumber(t[1]) * 1000000 + tonumber(t[2]))
local val = '1 o ' .. ARGV[1] .. ' ' .. string.format('%.0f', gen)
redis.call('SET', KEYS[1], val, 'PX', ARGV[3])
redis.call('DEL', KEYS[3])
if redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
redis.call('PUBLISH', ARGV[5], ARGV[6] .. val)
return val
`)

// closeScript records that a probe closed the breaker, unless the record
// holds an open period that ends after ARGV[1] (now): a replica opened it
// again meanwhile, and that record is returned unchanged. Otherwise it
// writes the record with ARGV[2] ms to live, gives up the lease if ARGV[3]
// holds it, publishes, and returns the record.
var closeScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local gen = 0
if cur then
  local st, u, g = string.match(cur, '^1 (%a) (%d+) (%d+)$')
  if g then
    gen = tonumber(g)
    if st == 'c' then return cur end
    if st == 'o' and tonumber(u) > tonumber(ARGV[1]) then return cur end
  end
end
local t = redis.call('TIME')
gen = math.max(gen + 1, tonumber(t[1]) * 1000000 + tonumber(t[2]))
local val = '1 c 0 ' .. string.format('%.0f', gen)
redis.call('SET', KEYS[1], val, 'PX', ARGV[2])
redis.call('DEL', KEYS[3])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
redis.call('PUBLISH', ARGV[4], ARGV[5] .. val)
return val
`)

// leaseScript takes the probe lease (KEYS[2]) for ARGV[1] for ARGV[2] ms,
// or finds who holds it. It returns {1, ms left} when ARGV[1] holds it,
// {0, ms left} when another replica does.
var leaseScript = redis.NewScript(`
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, tonumber(ARGV[2])}
end
local left = redis.call('PTTL', KEYS[2])
if redis.call('GET', KEYS[2]) == ARGV[1] then return {1, left} end
return {0, left}
`)

// countScript adds ARGV[1] failures to the pooled count KEYS[3], which
// lives ARGV[2] ms from its first failure, and returns the count.
var countScript = redis.NewScript(`
local n = redis.call('INCRBY', KEYS[3], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[3], ARGV[2]) end
return n
`)
