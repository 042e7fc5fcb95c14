#!/usr/bin/env bash
# Runs the peer comparison in one go and prints one table per scenario:
# each library's ns/op, B/op and allocs/op, and our ns/op over theirs; then
# whether each performance goal is met.
#
#   bench/run.sh                       # 6 runs of every benchmark, 200ms each
#   COUNT=10 BENCHTIME=300ms bench/run.sh
#   BENCH='Chain' bench/run.sh         # only the scenarios matching a regexp
#
# Results go to bench/results/<UTC time>/ (bench.txt, the raw go test
# output; benchstat.txt; table.md), and bench/results/latest points there.
set -euo pipefail
cd "$(dirname "$0")"

COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-200ms}
BENCH=${BENCH:-.}
BENCHSTAT_VERSION=v0.0.0-20260908200009-22c9c6c9d4da # golang.org/x/perf

GOBIN="$(go env GOBIN)"
benchstat="${GOBIN:-$(go env GOPATH)/bin}/benchstat"
if ! go version -m "$benchstat" 2>/dev/null | grep -q "golang.org/x/perf[[:space:]]*$BENCHSTAT_VERSION"; then
	echo "installing benchstat $BENCHSTAT_VERSION" >&2
	go install "golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION"
fi

dir="results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$dir"
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime | sed 's/.*load average[s]*: //'; }
load_before=$(load)

echo "== checking that every scenario measures what it says" >&2
go test -count=1 -run 'Test' . >&2

# The test binary is built once and run COUNT times, each run taking every
# library of every scenario once, so that a burst of load from elsewhere on
# the machine lands on all libraries alike rather than on the few runs of
# one (go test -count N would run each benchmark N times in a row). Each run
# takes the libraries of every scenario in a different order (-order, a
# seed), so that none always pays for running first or after another.
go test -c -o "$dir/bench.test" .
echo "== $COUNT x bench.test -test.bench '$BENCH' -test.benchmem -test.benchtime $BENCHTIME ($dir/bench.txt)" >&2
: >"$dir/bench.txt"
for i in $(seq "$COUNT"); do
	echo "-- run $i of $COUNT" >&2
	"$dir/bench.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem -test.benchtime "$BENCHTIME" -test.timeout 30m -order "$i" |
		tee -a "$dir/bench.txt" | grep --line-buffered '^Benchmark' | cut -c1-110 >&2
done
rm -f "$dir/bench.test"

# One benchstat table per scenario, a column per library, the first (ours,
# where present) the base that the others are compared with.
"$benchstat" -table .name -col /lib "$dir/bench.txt" >"$dir/benchstat.txt"

{
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(go env GOVERSION), $(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc) CPUs," \
		"$(grep -m1 '^cpu:' "$dir/bench.txt" | sed 's/^cpu: *//;s/ *$//');" \
		"-count $COUNT -benchtime $BENCHTIME; load average before $load_before, after $(load)."
	echo
	go run ./cmd/table "$dir/bench.txt"
} | tee "$dir/table.md"
ln -sfn "$(basename "$dir")" results/latest
echo >&2
echo "raw: $dir/bench.txt  benchstat: $dir/benchstat.txt  table: $dir/table.md" >&2
