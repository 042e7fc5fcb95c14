package bench

import (
	"context"
	"testing"
)

// Bare scenario: the guarded call alone, with no policy, the floor of
// every other scenario.
func BenchmarkBare(b *testing.B) {
	run(b, context.Background(), []lib{{name: "bare", op: work}})
}

func BenchmarkBareParallel(b *testing.B) {
	runParallel(b, context.Background(), []lib{{name: "bare", op: work}})
}
