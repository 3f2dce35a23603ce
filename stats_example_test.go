package backoff_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/timebound/backoff"
)

// One Stats observes every call of the policies that name it as their
// Observer. (The operations here fail or succeed at once, with no pause,
// so the example prints only counts: the times depend on the machine.)
func ExampleStats() {
	var stats backoff.Stats
	p := backoff.Policy{
		MaxTries: 3,
		RetryIf:  backoff.On(errTemporary),
		Observer: &stats,
	}
	ctx := context.Background()

	// Fails twice, then succeeds: 3 attempts, 2 errors, 1 success.
	n := 0
	backoff.Do(ctx, p, func(context.Context) (string, error) {
		if n++; n < 3 {
			return "", errTemporary
		}
		return "ok", nil
	})
	// Always fails: 3 attempts, 3 errors, then ErrMaxTries.
	backoff.Do(ctx, p, func(context.Context) (string, error) { return "", errTemporary })
	// An error RetryIf does not retry: 1 attempt, rejected.
	backoff.Do(ctx, p, func(context.Context) (string, error) { return "", errors.New("bad request") })

	s := stats.Snapshot()
	fmt.Printf("calls %d: %d succeeded, %d failed\n", s.Calls, s.Successes, s.Failures)
	fmt.Printf("attempts %d, done %d: %d errors, %d rejected, %d cancels\n",
		s.Attempts, s.Done, s.Errors, s.Rejected, s.Cancels)
	// Output:
	// calls 3: 1 succeeded, 2 failed
	// attempts 7, done 7: 5 errors, 1 rejected, 0 cancels
}

var errTemporary = errors.New("temporary")
