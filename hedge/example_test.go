package hedge_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience/hedge"
)

// A replica that is slow for the first request only: the hedge, sent after
// 20ms, answers first, and the slow attempt is cancelled.
func Example() {
	h, err := hedge.New(hedge.Config{Name: "catalog", Delay: 20 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	var n atomic.Int32
	fetch := func(ctx context.Context) (string, error) {
		if n.Add(1) == 1 { // the first attempt hits a slow replica
			select {
			case <-time.After(5 * time.Second):
				return "slow answer", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		return "fast answer", nil
	}
	v, err := hedge.Do(context.Background(), h, nil, fetch)
	fmt.Println(v, err, n.Load(), "attempts")
	// Output: fast answer <nil> 2 attempts
}
