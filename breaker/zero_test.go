package breaker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
)

// A nil or zero Breaker or Set (not made by New or NewSet) is a
// programming error: its calls fail with ErrMisuse, and every other method
// answers as a breaker without state, instead of panicking.
func TestNilAndZeroValuesAnswerWithoutPanicking(t *testing.T) {
	call := func(context.Context) error { return nil }
	for name, b := range map[string]*breaker.Breaker{"nil Breaker": nil, "zero Breaker": {}} {
		t.Run(name, func(t *testing.T) {
			assert.NotPanics(t, func() {
				assert.ErrorIs(t, b.Execute(context.Background(), call), resilience.ErrMisuse)
				_, err := b.Allow(context.Background())
				assert.ErrorIs(t, err, resilience.ErrMisuse)
				assert.Empty(t, b.Name())
				assert.Empty(t, b.Key())
				assert.Equal(t, breaker.Closed, b.State())
				assert.Equal(t, breaker.Counts{}, b.Counts())
				st, until := b.Period()
				assert.Equal(t, breaker.Closed, st)
				assert.True(t, until.IsZero())
				b.ForceOpen()
				b.ForceClosed()
				b.Unforce()
				b.Watch(func(breaker.Change) {})
				b.WatchFailures(func(*breaker.Breaker) {})
				assert.False(t, b.Trip())
				assert.False(t, b.Follow(breaker.Open, time.Now().Add(time.Hour)))
				assert.Equal(t, breaker.Closed, b.State(), "still no state")
			})
		})
	}
	for name, s := range map[string]*breaker.Set{"nil Set": nil, "zero Set": {}} {
		t.Run(name, func(t *testing.T) {
			assert.NotPanics(t, func() {
				err := s.Execute(context.Background(), "k", call)
				assert.ErrorIs(t, err, resilience.ErrMisuse)
				assert.True(t, errors.Is(err, resilience.ErrNilPolicy))
				assert.Nil(t, s.Get("k"))
				assert.ErrorIs(t, s.Get("k").Execute(context.Background(), call), resilience.ErrMisuse)
				b, ok := s.Lookup("k")
				assert.Nil(t, b)
				assert.False(t, ok)
				assert.Zero(t, s.Len())
				s.Range(func(string, *breaker.Breaker) bool { t.Error("Range called f"); return true })
				s.Watch(func(breaker.Change) {})
				s.WatchFailures(func(*breaker.Breaker) {})
			})
		})
	}
}
