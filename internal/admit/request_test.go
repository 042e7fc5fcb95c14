package admit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// served records how a Request was served.
type served struct {
	Request
	calls   int
	ctx     context.Context
	derived bool
}

func (s *served) Serve(ctx context.Context, derived bool) error {
	s.calls++
	s.ctx, s.derived = ctx, derived
	return nil
}

type ctxKey struct{}

func TestRequestThroughAPolicy(t *testing.T) {
	base := context.WithValue(context.Background(), ctxKey{}, "request")
	errNo := errors.New("no")
	for _, tc := range []struct {
		name                   string
		policy                 resilience.PolicyFunc
		refused, keep, derived bool
		calls                  int
		err                    error
	}{
		{
			name:   "served with the request's own context, reusable",
			policy: func(ctx context.Context, call func(context.Context) error) error { return call(ctx) },
			calls:  1,
		},
		{
			name: "served with the Policy's deadline, kept",
			policy: func(ctx context.Context, call func(context.Context) error) error {
				ctx, cancel := context.WithTimeout(ctx, time.Hour)
				defer cancel()
				return call(ctx)
			},
			calls: 1, keep: true, derived: true,
		},
		{
			name:    "refused by the Policy",
			policy:  func(context.Context, func(context.Context) error) error { return errNo },
			refused: true, err: errNo,
		},
		{
			name:    "run with a context not derived from the request's: lost, not served",
			policy:  func(_ context.Context, call func(context.Context) error) error { return call(context.Background()) },
			refused: true, err: ErrLost,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := New(Config{})
			arrived, err := g.Enter(base, false)
			require.NoError(t, err)
			s := &served{}
			s.Start(base, g, s, "k", arrived)
			refused, err := g.Execute(tc.policy, &s.Request)
			assert.Equal(t, tc.refused, refused)
			assert.ErrorIs(t, err, tc.err)
			assert.Equal(t, tc.calls, s.calls)
			assert.Equal(t, tc.keep, s.Keep())
			assert.Equal(t, tc.derived, s.derived)
			if s.calls > 0 {
				assert.Equal(t, "request", s.ctx.Value(ctxKey{}), "the handler's context carries the request's values")
				if !tc.derived {
					assert.Equal(t, base, s.ctx, "the request's own context, not the pooled carrier")
				}
			}
			assert.Zero(t, g.Waiting(), "Begin or Leave ended the wait")
		})
	}
}
