package metrics

import "github.com/go-resilience/resilience/internal/refusal"

// A reason is why a call was refused: the value of the reason label of
// rejections_total (shared with otelx through internal/refusal).
type reason = refusal.Reason

const numReasons = refusal.Count

var reasonNames = refusal.Names

// reasonOf returns the reason of a refusal error, "other" for an error of
// no policy of this module.
func reasonOf(err error) reason { return refusal.Of(err) }
