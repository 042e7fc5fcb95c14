#!/usr/bin/env bash
# Renders the limit over time from the adaptive simulation
# (TestLimitSettlesNearCapacityAndFollowsItUp, TestTextbookAIMDSwingsWhereOursSettles)
# as a text chart: one row per sample, the limit as a bar, the capacity as '|'.
#
#   adaptive/testdata/plot.sh            # runs the tests and plots every series
#   adaptive/testdata/plot.sh log.txt    # plots a saved `go test -v` log
#
# Every EVERY-th sample is drawn (default 2); the tests sample every 100 ms
# (20 ms for the textbook comparison).
set -euo pipefail
cd "$(dirname "$0")/../.."
EVERY=${EVERY:-2}
if [ $# -gt 0 ]; then
	cat "$1"
else
	go test -count=1 -v -run 'TestLimitSettlesNearCapacityAndFollowsItUp|TestTextbookAIMDSwingsWhereOursSettles' ./adaptive/
fi | awk -v every="$EVERY" '
	/# t_ms capacity limit inflight/ { next }
	/^[[:space:]]*# / { sub(/^[[:space:]]*# /, ""); printf "\n%s (limit over time; | marks the capacity, one # per 2)\n", $0; printf "%8s %4s %5s\n", "t", "cap", "limit"; n = 0; next }
	/^[[:space:]]*[0-9]+ [0-9]+ [0-9]+ [0-9]+[[:space:]]*$/ {
		if (n++ % every) next
		t = $1; cap = $2; lim = $3
		bar = ""
		for (i = 0; i < lim / 2; i++) bar = bar "#"
		while (length(bar) < cap / 2) bar = bar " "
		bar = substr(bar, 1, cap / 2) "|" substr(bar, cap / 2 + 1)
		printf "%7.1fs %4d %5d %s\n", t / 1000, cap, lim, bar
	}
	/limit in \[/ { sub(/^[[:space:]]*simulation_test.go:[0-9]+: /, ""); print "  " $0 }
'
