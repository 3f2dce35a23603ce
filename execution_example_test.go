package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/timebound/backoff"
)

// A complete driver of the decision core, as a job queue would write one:
// it keeps the time itself, runs each attempt when told to, and waits out
// each pause (a queue would store "attempt n at Until" and come back then).
// Here an attempt takes 100ms, and the time is a number the driver moves.
func ExampleExecution() {
	p := backoff.Policy{Pause: time.Second, Growth: 2, MaxTries: 4, RetryIf: backoff.AnyError}
	x, err := backoff.NewExecution(p)
	if err != nil {
		panic(err)
	}
	busy := errors.New("busy")
	returns := []error{busy, busy, nil} // what attempts 1, 2 and 3 return

	var now time.Duration // since the call began
	a := x.Step(backoff.Event{Kind: backoff.EventBegan})
	for a.Kind != backoff.ActionFinish {
		switch a.Kind {
		case backoff.ActionStart:
			now += 100 * time.Millisecond
			err := returns[a.Attempt-1]
			fmt.Printf("%6v  attempt %d returned %v\n", now, a.Attempt, err)
			a = x.Step(backoff.Event{Kind: backoff.EventEnded, At: now, Attempt: a.Attempt, Err: err})
		case backoff.ActionPause:
			fmt.Printf("%6v  pause until %v\n", now, a.Until)
			now = a.Until
			a = x.Step(backoff.Event{Kind: backoff.EventFired, At: now, Attempt: a.Attempt})
		}
	}
	fmt.Printf("%6v  finished: %v\n", now, a.Err)
	// Output:
	//  100ms  attempt 1 returned busy
	//  100ms  pause until 1.1s
	//   1.2s  attempt 2 returned busy
	//   1.2s  pause until 3.2s
	//   3.3s  attempt 3 returned <nil>
	//   3.3s  finished: <nil>
}

// Abandon bounds an operation that ignores its context: the attempt ends
// when its time is up, and its late result is discarded.
func ExampleAbandon() {
	p := backoff.Policy{AttemptTimeout: 50 * time.Millisecond, MaxTries: 2}
	stuck := make(chan struct{}) // never closed: the operation never returns by itself
	defer close(stuck)
	_, err := backoff.Do(context.Background(), p, backoff.Abandon(func(context.Context) (int, error) {
		<-stuck // ignores its context
		return 1, nil
	}))
	fmt.Println(errors.Is(err, backoff.ErrMaxTries), errors.Is(err, backoff.ErrAttemptTimeout))
	// Output:
	// true true
}
