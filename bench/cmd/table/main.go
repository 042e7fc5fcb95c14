// Command table reads the output of `go test -bench` for the bench module
// and prints, as Markdown, one table per scenario (library, ns/op, B/op,
// allocs/op, and the ratio of our ns/op to each library's), then whether
// each performance goal is met.
//
// Usage:
//
//	go test -run '^$' -bench . -benchmem -count 6 | go run ./cmd/table
//	go run ./cmd/table results/bench.txt
//
// Benchmarks must be named Benchmark<Scenario>/lib=<library>. Several runs
// of one benchmark (-count) are summarised by their median.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	ours := flag.String("ours", "resilience", "the library the ratios and goals are about")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: table [-ours lib] [go-test-bench-output ...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(os.Stdout, os.Stdin, flag.Args(), *ours); err != nil {
		fmt.Fprintln(os.Stderr, "table:", err)
		os.Exit(1)
	}
}

// run reads the files named by paths (stdin when there are none) and
// writes the tables and goals to w.
func run(w io.Writer, stdin io.Reader, paths []string, ours string) error {
	var readers []io.Reader
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		readers = append(readers, f)
	}
	if len(readers) == 0 {
		readers = append(readers, stdin)
	}
	scens, err := parse(io.MultiReader(readers...))
	if err != nil {
		return err
	}
	if len(scens) == 0 {
		return fmt.Errorf("no benchmark results named Benchmark<Scenario>/lib=<library> in the input")
	}
	writeTables(w, scens, ours)
	writeGoals(w, evaluate(scens, ours))
	return nil
}
