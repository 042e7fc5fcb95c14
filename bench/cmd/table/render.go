package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// writeTables writes one Markdown table per scenario.
func writeTables(w io.Writer, scens []*scenario, ours string) {
	runs := 0
	for _, s := range scens {
		for _, r := range s.libs {
			runs = max(runs, len(r.ns))
		}
	}
	fmt.Fprintf(w, "Medians of %d runs. ± is the farthest a run lay from the median. "+
		"%[2]s ÷ lib is %[2]s's ns/op over the library's, the median of the ratios within each run: "+
		"below 1 %[2]s is faster.\n", runs, ours)
	for _, s := range scens {
		fmt.Fprintf(w, "\n### %s\n\n", s.name)
		fmt.Fprintf(w, "| lib | ns/op | ± | B/op | allocs/op | %s ÷ lib |\n", ours)
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|")
		o := s.lib(ours)
		for _, r := range rows(s.libs, ours) {
			rel := "—"
			if o != nil && r != o {
				rel = fmtRatio(ratio(o, r))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n",
				r.lib, fmtNs(median(r.ns)), fmtPct(spread(r.ns)),
				fmtCount(math.Round(median(r.bytes))), fmtCount(median(r.allocs)), rel)
		}
	}
}

// rows returns libs in the order a table shows them, whatever order the
// runs took them in: ours, our variants, the baselines, then the peers,
// each group by name.
func rows(libs []*result, ours string) []*result {
	group := func(lib string) int {
		switch {
		case lib == ours:
			return 0
		case strings.HasPrefix(lib, ours+"-"):
			return 1
		case baselines[lib]:
			return 2
		}
		return 3
	}
	out := slices.Clone(libs)
	slices.SortStableFunc(out, func(a, b *result) int {
		if c := cmp.Compare(group(a.lib), group(b.lib)); c != 0 {
			return c
		}
		return strings.Compare(a.lib, b.lib)
	})
	return out
}

// writeGoals writes the verdicts as a Markdown list.
func writeGoals(w io.Writer, vs []verdict) {
	fmt.Fprintf(w, "\n### Goals\n\n")
	for _, v := range vs {
		fmt.Fprintf(w, "- **%s** %s: %s\n", v.status(), v.goal, v.detail)
	}
}

func fmtNs(ns float64) string {
	switch {
	case math.IsNaN(ns):
		return "—"
	case ns < 10:
		return fmt.Sprintf("%.2f", ns)
	case ns < 100:
		return fmt.Sprintf("%.1f", ns)
	}
	return thousands(fmt.Sprintf("%.0f", ns))
}

// thousands puts commas between groups of three digits of an integer.
func thousands(digits string) string {
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtCount(n float64) string {
	if math.IsNaN(n) {
		return "—"
	}
	if n == math.Trunc(n) {
		return thousands(fmt.Sprintf("%.0f", n))
	}
	return fmt.Sprintf("%.1f", n)
}

func fmtPct(f float64) string {
	if math.IsNaN(f) {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

func fmtRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	if r < 0.1 {
		return fmt.Sprintf("%.3f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}
