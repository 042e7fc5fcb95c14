package inject

import "errors"

// ErrInjected is an error ready to use as Config.Err: a failure made on
// purpose. It does not match resilience.ErrRejected, so a breaker counts
// it as the failure of a dependency, which is the point.
var ErrInjected = errors.New("inject: injected fault")
