package resilience_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/go-resilience/resilience"
)

type hinted time.Duration

func (h hinted) Error() string             { return "hinted" }
func (h hinted) RetryAfter() time.Duration { return time.Duration(h) }

func TestRetryAfterFindsTheHintAnywhereInTheErrorTree(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   time.Duration
		wantOK bool
	}{
		{"nil error", nil, 0, false},
		{"error without a hint", errors.New("plain"), 0, false},
		{"hint on the error itself", hinted(time.Second), time.Second, true},
		{"hint wrapped by fmt.Errorf", fmt.Errorf("call: %w", hinted(2*time.Second)), 2 * time.Second, true},
		{"hint inside errors.Join", errors.Join(errors.New("a"), hinted(3*time.Second)), 3 * time.Second, true},
		{"zero hint is no hint", hinted(0), 0, false},
		{"negative hint means do not retry", hinted(-time.Millisecond), -time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := resilience.RetryAfter(tt.err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantOK, ok)
		})
	}
}

func TestRetryAfterAllocatesNothing(t *testing.T) {
	err := fmt.Errorf("call: %w", hinted(time.Second))
	allocs := testing.AllocsPerRun(100, func() { _, _ = resilience.RetryAfter(err) })
	assert.Zero(t, allocs)
}
