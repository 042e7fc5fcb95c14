package breaker_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSmokeTripsAndRefuses(t *testing.T) {
	b, err := breaker.New(breaker.Config{Name: "x"})
	require.NoError(t, err)
	boom := errors.New("boom")
	for range 5 {
		assert.ErrorIs(t, b.Execute(context.Background(), func(context.Context) error { return boom }), boom)
	}
	assert.Equal(t, breaker.Open, b.State())
	err = b.Execute(context.Background(), func(context.Context) error { return nil })
	assert.ErrorIs(t, err, breaker.ErrOpen)
	assert.ErrorIs(t, err, resilience.ErrRejected)
}
