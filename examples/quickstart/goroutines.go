package main

import (
	"bufio"
	"bytes"
	"runtime/pprof"
	"strconv"
	"strings"
)

// goroutinesByClient counts the live goroutines of each value of the pprof
// label "client". Every goroutine a client starts (its requests, and the
// connection goroutines its transport starts for them) inherits the label
// of the driver that started it, so the counts tell the two clients apart
// in one process. Goroutines without the label are counted under "".
func goroutinesByClient() map[string]int {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return nil
	}
	// The debug=1 format groups goroutines by stack and labels:
	//	3 @ 0x47d92e 0x480b25 ...
	//	# labels: {"client":"protected"}
	counts := map[string]int{}
	pending, label := 0, ""
	flush := func() {
		counts[label] += pending
		pending, label = 0, ""
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if n, _, found := strings.Cut(line, " @ "); found {
			flush()
			pending, _ = strconv.Atoi(n)
			continue
		}
		if rest, found := strings.CutPrefix(line, "# labels: "); found {
			if _, v, found := strings.Cut(rest, `"client":"`); found {
				label, _, _ = strings.Cut(v, `"`)
			}
		}
	}
	flush()
	return counts
}
