// Package breaker is a circuit breaker for resilience: a Policy that stops
// calling a dependency that keeps failing, lets a few probe calls through
// after a while, and closes again when they succeed. It is built on
// github.com/sony/gobreaker/v2.
package breaker
