package health

import (
	"cmp"
	"iter"
	"slices"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
)

// A Source is a group of breakers and bulkheads that grows as calls need
// them, one per key (a host, a gRPC method). *httpx.Transport and
// *grpcx.Interceptors are Sources: give them to Config.Sources as they are.
//
// A Checker calls both methods at each report, so what the Source made
// since is reported too. They must be safe for concurrent use with the
// calls the Source guards.
type Source interface {
	// Breakers returns the set of breakers, one per key; nil for none.
	Breakers() *breaker.Set
	// Bulkheads yields each bulkhead with its key ("" for one shared by
	// every key), in any order.
	Bulkheads() iter.Seq2[string, *bulkhead.Bulkhead]
}

// appendSource appends the reports of src's bulkheads, sorted by key.
func appendSource(rs []BulkheadReport, src Source) []BulkheadReport {
	start := len(rs)
	for key, b := range src.Bulkheads() {
		if b != nil {
			rs = append(rs, bulkheadReport(key, b))
		}
	}
	slices.SortStableFunc(rs[start:], func(a, b BulkheadReport) int { return cmp.Compare(a.Key, b.Key) })
	return rs
}
