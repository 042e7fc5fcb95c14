package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/fleet"
	"github.com/redis/go-redis/v9"
)

// A replica joins its set of breakers to the fleet; calls go through the
// set as before. Had Redis been up, the breaker that opens here would
// have opened on every replica; it is down (nothing listens on the
// address), and the replica goes on with its own breakers: calls neither
// wait nor fail because of it.
func Example() {
	rdb := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:1", // no Redis here
		ContextTimeoutEnabled: true,          // so that fleet.Config.Timeout bounds each command
		MaxRetries:            -1,
	})
	defer func() { _ = rdb.Close() }()
	fl, err := fleet.New(fleet.Config{Client: rdb, Namespace: "checkout", SyncInterval: 100 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer func() { _ = fl.Close() }() // before rdb.Close: the fleet stops using the client first

	hosts, err := breaker.NewSet(breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 2}})
	if err != nil {
		panic(err)
	}
	if err := fl.JoinSet("payment-hosts", hosts); err != nil {
		panic(err)
	}

	ctx := context.Background()
	down := errors.New("connection refused")
	for range 2 {
		_ = hosts.Execute(ctx, "pay.example.com", func(context.Context) error { return down })
	}
	err = hosts.Execute(ctx, "pay.example.com", func(context.Context) error { return nil })
	fmt.Println(err)
	fmt.Println(hosts.Get("pay.example.com").State())
	// Output:
	// breaker: open (key "pay.example.com")
	// open
}
