package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// A result is every sample of one library in one scenario.
type result struct {
	lib    string
	ns     []float64 // ns/op, one per run
	bytes  []float64 // B/op
	allocs []float64 // allocs/op
}

// A scenario is one benchmark, such as BreakerSuccess, and its libraries in
// the order they first appear.
type scenario struct {
	name string
	libs []*result
}

// lib returns the scenario's result for name, or nil.
func (s *scenario) lib(name string) *result {
	for _, r := range s.libs {
		if r.lib == name {
			return r
		}
	}
	return nil
}

// procsSuffix is the -GOMAXPROCS suffix go test appends to a benchmark name.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads `go test -bench` output and returns its scenarios in the
// order they first appear. It keeps the result lines named
// Benchmark<scenario>/lib=<lib> (the lib name may not contain a slash) and
// ignores every other line. A result line it cannot read is an error that
// names the line.
func parse(r io.Reader) ([]*scenario, error) {
	var out []*scenario
	byName := map[string]*scenario{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := procsSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"), "")
		scen, lib, ok := strings.Cut(name, "/lib=")
		if !ok || scen == "" || lib == "" || strings.Contains(lib, "/") {
			continue
		}
		if len(fields) < 4 {
			continue // a benchmark that failed or was skipped prints its name alone
		}
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			continue // the benchmark printed on its own result line
		}
		if len(fields)%2 != 0 {
			return nil, fmt.Errorf("line %d: want name, iterations and value-unit pairs: %q", n, line)
		}
		s := byName[scen]
		if s == nil {
			s = &scenario{name: scen}
			byName[scen] = s
			out = append(out, s)
		}
		res := s.lib(lib)
		if res == nil {
			res = &result{lib: lib}
			s.libs = append(s.libs, res)
		}
		var sawNs bool
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value %q: %v", n, fields[i], err)
			}
			switch fields[i+1] {
			case "ns/op":
				res.ns = append(res.ns, v)
				sawNs = true
			case "B/op":
				res.bytes = append(res.bytes, v)
			case "allocs/op":
				res.allocs = append(res.allocs, v)
			}
		}
		if !sawNs {
			return nil, fmt.Errorf("line %d: no ns/op: %q", n, line)
		}
	}
	return out, sc.Err()
}
