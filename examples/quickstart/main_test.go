package main

import (
	"strings"
	"testing"
)

// want is what `go run ./examples/quickstart` prints. The call runs in
// virtual time, so it is the same on every run.
const want = `Policy: attempt timeout 200ms, pause 100ms, deadline 800ms, max tries 5, retry "server busy".
The server hangs on attempts 1 and 4, and says "server busy" after 50ms and 150ms on attempts 2 and 3.

   0s  attempt 1 starts (cut off at 200ms: attempt timeout)
200ms  attempt 1 times out; pause until 300ms
300ms  attempt 2 starts (cut off at 500ms: attempt timeout)
350ms  attempt 2 fails: server busy; pause until 450ms
450ms  attempt 3 starts (cut off at 650ms: attempt timeout)
600ms  attempt 3 fails: server busy; pause until 700ms
700ms  attempt 4 starts (cut off at 800ms: deadline)
800ms  attempt 4 is cut off by the deadline; the call ends
800ms  Do returns the error "backoff: deadline exceeded: the policy's deadline (800ms) passed after 4 attempts in 800ms: server busy"
       errors.Is(err, backoff.ErrDeadline): true, errors.Is(err, errBusy): true
`

func TestQuickstart(t *testing.T) {
	var b strings.Builder
	run(&b)
	if got := b.String(); got != want {
		t.Errorf("the quickstart printed:\n%s\nwant:\n%s", got, want)
	}
}
