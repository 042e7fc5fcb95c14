package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// Some peers leave goroutines behind by design, for the life of the
// process: hystrix-go's metrics per command, go-resiliency's breaker
// sleeping out its open timeout, rubyist's event forwarding for each
// subscription and each breaker in an HTTPClient's panel.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/afex/hystrix-go/hystrix.(*metricExchange).Monitor"),
		goleak.IgnoreAnyFunction("github.com/afex/hystrix-go/hystrix.(*poolMetrics).Monitor"),
		goleak.IgnoreAnyFunction("github.com/eapache/go-resiliency/breaker.(*Breaker).timer"),
		goleak.IgnoreAnyFunction("github.com/rubyist/circuitbreaker.(*Breaker).Subscribe.func1"),
		goleak.IgnoreAnyFunction("github.com/rubyist/circuitbreaker.(*Panel).Add.func1"),
		goleak.IgnoreAnyFunction("github.com/rubyist/circuitbreaker.NewHTTPClientWithBreaker.func2"),
	)
}
