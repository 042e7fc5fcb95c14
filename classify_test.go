package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	boom := errors.New("boom")
	live := context.Background()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired := lateTimer{context.Background(), time.Now().Add(-time.Millisecond)}
	future, cancelFuture := context.WithTimeout(context.Background(), time.Hour)
	defer cancelFuture()
	alwaysFailure := resilience.Classifier(func(error) resilience.Outcome { return resilience.Failure })
	alwaysSuccess := resilience.Classifier(func(error) resilience.Outcome { return resilience.Success })

	for _, tc := range []struct {
		name string
		c    resilience.Classifier
		ctx  context.Context
		err  error
		want resilience.Outcome
	}{
		{"nil error is a success", nil, live, nil, resilience.Success},
		{"any other error is a failure", nil, live, boom, resilience.Failure},
		{"a wrapped error is a failure", nil, live, fmt.Errorf("get: %w", boom), resilience.Failure},
		{"a deadline inside the call is a failure", nil, live, context.DeadlineExceeded, resilience.Failure},
		{"a cancellation inside the call is ignored", nil, live, context.Canceled, resilience.Ignored},
		{"the caller's own cancellation is ignored", nil, cancelled, boom, resilience.Ignored},
		{"the caller's cancellation beats a classifier", alwaysFailure, cancelled, boom, resilience.Ignored},
		{"a refusal of the library is ignored", nil, live, fmt.Errorf("x: %w", resilience.ErrRejected), resilience.Ignored},
		{"a refusal beats a classifier", alwaysFailure, live, resilience.ErrRejected, resilience.Ignored},
		{"a classifier decides the rest", alwaysSuccess, live, boom, resilience.Success},
		{"a classifier sees nil too", alwaysFailure, live, nil, resilience.Failure},
		{"a cancelled caller whose call succeeded is a success", nil, cancelled, nil, resilience.Success},
		{"the caller's deadline passed before its timer fired is ignored", alwaysFailure, expired, context.DeadlineExceeded, resilience.Ignored},
		{"a caller deadline still ahead does not hide a failure", nil, future, boom, resilience.Failure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.c.Classify(tc.ctx, tc.err))
		})
	}
}

func TestNamesOfOutcomesAndEvents(t *testing.T) {
	assert.Equal(t, "success", resilience.Success.String())
	assert.Equal(t, "failure", resilience.Failure.String())
	assert.Equal(t, "ignored", resilience.Ignored.String())
	assert.Equal(t, "outcome(9)", resilience.Outcome(9).String())
	assert.Equal(t, "state_change", resilience.EventStateChange.String())
	assert.Equal(t, "fallback", resilience.EventFallback.String())
	assert.Equal(t, "event(0)", resilience.EventKind(0).String())
	assert.Equal(t, "event(200)", resilience.EventKind(200).String())
}

func FuzzClassifyNeverPanics(f *testing.F) {
	f.Add("boom", false, uint8(0))
	f.Add("", true, uint8(1))
	f.Fuzz(func(t *testing.T, msg string, cancelled bool, wrap uint8) {
		ctx := context.Background()
		if cancelled {
			c, cancel := context.WithCancel(ctx)
			cancel()
			ctx = c
		}
		var err error
		switch wrap % 4 {
		case 1:
			err = errors.New(msg)
		case 2:
			err = fmt.Errorf("%s: %w", msg, resilience.ErrRejected)
		case 3:
			err = fmt.Errorf("%s: %w", msg, context.Canceled)
		}
		o := resilience.Classifier(nil).Classify(ctx, err)
		// Reference: the rules in the doc, written out plainly.
		want := resilience.Failure
		switch {
		case err == nil:
			want = resilience.Success
		case cancelled, wrap%4 == 2, wrap%4 == 3:
			want = resilience.Ignored
		}
		if o != want {
			t.Fatalf("Classify(%v, cancelled=%v) = %v, want %v", err, cancelled, o, want)
		}
	})
}

// lateTimer is a context whose deadline has passed but whose timer has not
// fired yet, as happens on a loaded machine.
type lateTimer struct {
	context.Context
	deadline time.Time
}

func (c lateTimer) Deadline() (time.Time, bool) { return c.deadline, true }
