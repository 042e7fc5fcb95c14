package retry_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/require"
)

// errDown is a failure of the dependency.
var errDown = errors.New("dependency down")

// hinted is a failure that carries a retry-after hint.
type hinted struct{ d time.Duration }

func (h hinted) Error() string             { return "hinted " + h.d.String() }
func (h hinted) RetryAfter() time.Duration { return h.d }

// roomy is a budget that never refuses in these tests' volumes.
func roomy(t *testing.T) *retry.Budget {
	t.Helper()
	b, err := retry.NewBudget(retry.BudgetConfig{MinConcurrent: 1 << 20, MinPerSecond: 1e9})
	require.NoError(t, err)
	return b
}

// attempts records when each attempt of a call began, in fake time since
// start.
type attempts struct {
	mu    sync.Mutex
	start time.Time
	at    []time.Duration
}

func newAttempts() *attempts { return &attempts{start: time.Now()} }

// call fails with err (or takes took and then fails).
func (a *attempts) call(err error, took time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		a.mu.Lock()
		a.at = append(a.at, time.Since(a.start))
		a.mu.Unlock()
		if took > 0 {
			select {
			case <-time.After(took):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return err
	}
}

func (a *attempts) times() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Duration(nil), a.at...)
}
