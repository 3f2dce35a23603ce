package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
)

// The examples run in virtual time, on a fake clock that skips every pause
// at once, so that they finish at once and print the same every time.
// Production code leaves Policy.Clock and Policy.Observer nil: the system
// clock, and no observer.

// All the limits at once: the first attempt hangs and is cut off by its
// attempt timeout, the second fails with an error RetryIf retries, and the
// third succeeds. Each attempt's context has the attempt's deadline.
func ExampleDo() {
	clock := exampleClock() // production code leaves Clock and Observer nil
	start := clock.Now()

	p := backoff.Policy{
		AttemptTimeout: 2 * time.Second,                 // each attempt
		Deadline:       10 * time.Second,                // the whole call, pauses included
		Pause:          500 * time.Millisecond,          // between attempts
		MaxTries:       5,                               // attempts in all
		RetryIf:        backoff.On(io.ErrUnexpectedEOF), // attempt timeouts are always retried
		Clock:          clock,
		Observer:       skipPauses{clock},
	}

	attempt := 0
	fetchQuote := func(ctx context.Context) (string, error) {
		attempt++
		end, _ := ctx.Deadline()
		fmt.Printf("%v: attempt %d, to end by %v\n", clock.Since(start), attempt, end.Sub(start))
		switch attempt {
		case 1: // the server does not answer: the attempt is cut off at 2s
			return respond(ctx, clock, time.Minute, "", nil)
		case 2: // the connection drops after 300ms
			return respond(ctx, clock, 300*time.Millisecond, "", io.ErrUnexpectedEOF)
		}
		return respond(ctx, clock, 100*time.Millisecond, "Simple is better than complex.", nil)
	}

	quote, err := backoff.Do(context.Background(), p, fetchQuote)
	fmt.Printf("%v: %q, error %v\n", clock.Since(start), quote, err)
	// Output:
	// 0s: attempt 1, to end by 2s
	// 2.5s: attempt 2, to end by 4.5s
	// 3.3s: attempt 3, to end by 5.3s
	// 3.4s: "Simple is better than complex.", error <nil>
}

// Wrap is the decorator: the function it returns is loadConfig retried,
// as a function decorated with aiomisc's @asyncbackoff is. Each call of it
// has tries, a deadline and a last error of its own.
func ExampleWrap() {
	clock := exampleClock()
	errUnavailable := errors.New("service unavailable")

	calls := 0
	loadConfig := func(ctx context.Context) (string, error) {
		calls++
		if calls%3 != 0 { // the service fails two calls in three
			return "", errUnavailable
		}
		return fmt.Sprintf("config v%d", calls/3), nil
	}

	load := backoff.Wrap(backoff.Policy{
		AttemptTimeout: time.Second,
		Deadline:       5 * time.Second,
		Pause:          100 * time.Millisecond,
		MaxTries:       3,
		RetryIf:        backoff.On(errUnavailable),
		Clock:          clock,
		Observer:       skipPauses{clock},
	}, loadConfig)

	for range 2 {
		cfg, err := load(context.Background())
		fmt.Printf("%s, error %v (loadConfig called %d times)\n", cfg, err, calls)
	}
	// Output:
	// config v1, error <nil> (loadConfig called 3 times)
	// config v2, error <nil> (loadConfig called 6 times)
}

// One Policy serves any number of operations, of any result type, as one
// aiomisc Backoff does through Backoff.execute. A Policy is plain data that
// the library never modifies: share it between calls and goroutines.
func Example_sharedPolicy() {
	clock := exampleClock()
	errDeadlock := errors.New("deadlock detected")

	db := backoff.Policy{
		AttemptTimeout: 500 * time.Millisecond,
		Deadline:       2 * time.Second,
		Pause:          50 * time.Millisecond,
		MaxTries:       4,
		RetryIf:        backoff.On(errDeadlock),
		Clock:          clock,
		Observer:       skipPauses{clock},
	}

	deadlocks := map[string]int{"pear": 1, "plum": 9} // how often saving an item deadlocks
	save := func(ctx context.Context, item string) error {
		if deadlocks[item] > 0 {
			deadlocks[item]--
			return errDeadlock
		}
		return nil
	}
	count := func(ctx context.Context) (int, error) { return 3, nil }

	ctx := context.Background()
	for _, item := range []string{"apple", "pear", "plum"} {
		err := backoff.Run(ctx, db, func(ctx context.Context) error {
			return save(ctx, item)
		})
		fmt.Printf("save %s: error %v\n", item, err)
	}
	n, err := backoff.Do(ctx, db, count)
	fmt.Printf("count: %d, error %v\n", n, err)
	// Output:
	// save apple: error <nil>
	// save pear: error <nil>
	// save plum: error backoff: max tries reached after 4 attempts in 150ms: deadlock detected
	// count: 3, error <nil>
}

// On retries the errors that match one of its targets by errors.Is, so a
// wrapped error counts too. Any other error ends the call at once, with
// Reason ErrNotRetryable and that error as Last.
func ExampleOn() {
	errConnReset := errors.New("connection reset")
	p := backoff.Policy{
		MaxTries: 5,
		RetryIf:  backoff.On(io.ErrUnexpectedEOF, errConnReset),
		Clock:    exampleClock(),
	}

	results := []error{
		errConnReset,
		fmt.Errorf("read body: %w", io.ErrUnexpectedEOF),
		fs.ErrPermission,
		nil,
	}
	attempt := 0
	err := backoff.Run(context.Background(), p, func(ctx context.Context) error {
		err := results[attempt]
		attempt++
		fmt.Printf("attempt %d: %v\n", attempt, err)
		return err
	})
	fmt.Println(err)
	fmt.Println("not retryable:", errors.Is(err, backoff.ErrNotRetryable))
	fmt.Println("permission:", errors.Is(err, fs.ErrPermission))
	// Output:
	// attempt 1: connection reset
	// attempt 2: read body: unexpected EOF
	// attempt 3: permission denied
	// backoff: error not retryable after 3 attempts in 0s: permission denied
	// not retryable: true
	// permission: true
}

// OnType retries the errors of a type, found by errors.As: here every
// network error, since net.Error is the interface they all implement.
func ExampleOnType() {
	p := backoff.Policy{
		MaxTries: 5,
		RetryIf:  backoff.OnType[net.Error](),
	}

	results := []error{
		&net.DNSError{Name: "api.example.com", Err: "server misbehaving", IsTemporary: true},
		&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")},
		nil,
	}
	attempt := 0
	reply, err := backoff.Do(context.Background(), p, func(ctx context.Context) (string, error) {
		err := results[attempt]
		attempt++
		if err != nil {
			fmt.Printf("attempt %d: %v\n", attempt, err)
			return "", err
		}
		fmt.Printf("attempt %d: ok\n", attempt)
		return "pong", nil
	})
	fmt.Printf("%s, error %v\n", reply, err)
	// Output:
	// attempt 1: lookup api.example.com: server misbehaving
	// attempt 2: dial tcp: connection refused
	// attempt 3: ok
	// pong, error <nil>
}

// MaxTries counts attempts in all, the first one included. When the last
// one fails, the error says so (ErrMaxTries) and also carries what failed
// (the last error): errors.Is finds both.
func Example_maxTries() {
	clock := exampleClock()
	errBusy := errors.New("server busy")
	p := backoff.Policy{
		Pause:    100 * time.Millisecond,
		MaxTries: 3,
		RetryIf:  backoff.On(errBusy),
		Clock:    clock,
		Observer: skipPauses{clock},
	}

	attempt := 0
	err := backoff.Run(context.Background(), p, func(ctx context.Context) error {
		attempt++
		return fmt.Errorf("attempt %d: %w", attempt, errBusy)
	})
	fmt.Println(err)
	fmt.Println("max tries:", errors.Is(err, backoff.ErrMaxTries))
	fmt.Println("busy:", errors.Is(err, errBusy))
	if e, ok := errors.AsType[*backoff.Error](err); ok {
		fmt.Println("attempts:", e.Attempts)
	}
	// Output:
	// backoff: max tries reached after 3 attempts in 200ms: attempt 3: server busy
	// max tries: true
	// busy: true
	// attempts: 3
}

// HTTPError is a response with an error status.
type HTTPError struct{ Code int }

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d", e.Code) }

// RetryIf says which kinds of error are worth retrying; GiveUp, like
// aiomisc's giveup, looks at each retryable failure (but the last permitted
// one) and may end the call then, with Reason ErrGaveUp and that very
// failure as Last.
func Example_giveUp() {
	clock := exampleClock()
	p := backoff.Policy{
		Pause:    100 * time.Millisecond,
		MaxTries: 10,
		RetryIf:  backoff.OnType[*HTTPError](),
		GiveUp: func(err error) bool {
			// A client error will not go away, except "429 Too Many Requests".
			e, ok := errors.AsType[*HTTPError](err)
			return ok && e.Code >= 400 && e.Code < 500 && e.Code != 429
		},
		Clock:    clock,
		Observer: skipPauses{clock},
	}

	codes := []int{503, 429, 404, 200}
	attempt := 0
	err := backoff.Run(context.Background(), p, func(ctx context.Context) error {
		code := codes[attempt]
		attempt++
		fmt.Printf("attempt %d: HTTP %d\n", attempt, code)
		if code != 200 {
			return &HTTPError{Code: code}
		}
		return nil
	})
	fmt.Println(err)
	fmt.Println("gave up:", errors.Is(err, backoff.ErrGaveUp))
	// Output:
	// attempt 1: HTTP 503
	// attempt 2: HTTP 429
	// attempt 3: HTTP 404
	// backoff: gave up after 3 attempts in 200ms: HTTP 404
	// gave up: true
}

// Retry(n) is aiomisc's asyncretry(n): at most n attempts, every error
// retried, no pause and no time limit. Set more fields on the Policy it
// returns as needed.
func ExampleRetry() {
	attempt := 0
	n, err := backoff.Do(context.Background(), backoff.Retry(3), func(ctx context.Context) (int, error) {
		attempt++
		if attempt < 3 {
			fmt.Printf("attempt %d fails\n", attempt)
			return 0, errors.New("flaky")
		}
		fmt.Printf("attempt %d succeeds\n", attempt)
		return 42, nil
	})
	fmt.Println(n, err)
	// Output:
	// attempt 1 fails
	// attempt 2 fails
	// attempt 3 succeeds
	// 42 <nil>
}

// A call that fails returns an *Error: why it stopped (Reason), what failed
// last (Last), how many attempts it made and how long it took. Here the
// deadline ends the call: after the fourth failure, at 900ms, the next
// pause would end at 1.2s, past the deadline, so the call returns at once
// instead of sleeping into it.
func ExampleError() {
	clock := exampleClock()
	errBusy := errors.New("server busy")
	p := backoff.Policy{
		Deadline: time.Second,
		Pause:    300 * time.Millisecond,
		RetryIf:  backoff.On(errBusy),
		Clock:    clock,
		Observer: skipPauses{clock},
	}

	err := backoff.Run(context.Background(), p, func(ctx context.Context) error {
		return errBusy
	})
	var e *backoff.Error
	if errors.As(err, &e) {
		fmt.Println("reason:", e.Reason)
		fmt.Println("last:", e.Last)
		fmt.Println("attempts:", e.Attempts)
		fmt.Println("elapsed:", e.Elapsed)
	}
	fmt.Println("deadline:", errors.Is(err, backoff.ErrDeadline))
	fmt.Println("context.DeadlineExceeded:", errors.Is(err, context.DeadlineExceeded))
	// Output:
	// reason: backoff: deadline exceeded
	// last: server busy
	// attempts: 4
	// elapsed: 900ms
	// deadline: true
	// context.DeadlineExceeded: true
}

// Pauses that grow, capped, and jittered: the pause before jitter doubles
// from 100ms (100, 200, 400, 800ms), MaxPause caps it at 1s, and equal
// jitter picks each at random in the upper half of that, drawn here from a
// seeded source so the example prints the same every time (leave Rand nil
// in production: each call then draws from a stream of its own).
func Example_growthAndJitter() {
	clock := exampleClock()
	p := backoff.Policy{
		Pause:    100 * time.Millisecond,
		Growth:   2,
		MaxPause: time.Second,
		Jitter:   backoff.EqualJitter,
		Rand:     rand.NewPCG(1, 2),
		MaxTries: 6,
		RetryIf:  backoff.AnyError,
		Clock:    clock,
		Observer: backoff.ObserverFunc(func(e backoff.Event, a backoff.Action) {
			if a.Kind == backoff.ActionPause {
				fmt.Printf("after attempt %d: pause %v\n", a.Attempt-1, (a.Until - e.At).Round(time.Millisecond))
				clock.Advance(a.Until - e.At)
			}
		}),
	}
	_, err := backoff.Do(context.Background(), p, func(context.Context) (int, error) {
		return 0, errors.New("busy")
	})
	fmt.Println(err)
	// Output:
	// after attempt 1: pause 88ms
	// after attempt 2: pause 162ms
	// after attempt 3: pause 357ms
	// after attempt 4: pause 719ms
	// after attempt 5: pause 617ms
	// backoff: max tries reached after 6 attempts in 1.94s: busy
}

// A server that says when to come back: the error carries a delay hint
// (backoff.RetryAfter here; backoffhttp reads the Retry-After header), and
// the pause is at least that long. A hint that would reach the deadline
// ends the call at once, rather than sleeping into it.
func ExampleRetryAfter() {
	clock := exampleClock()
	start := clock.Now()
	p := backoff.Policy{Pause: 100 * time.Millisecond, Deadline: 5 * time.Second, RetryIf: backoff.AnyError,
		Clock: clock, Observer: skipPauses{clock}}
	errBusy := errors.New("rate limited")
	attempt := 0
	_, err := backoff.Do(context.Background(), p, func(context.Context) (int, error) {
		attempt++
		fmt.Printf("%v: attempt %d\n", clock.Since(start), attempt)
		if attempt == 1 {
			return 0, backoff.RetryAfter(errBusy, 2*time.Second) // come back in 2s
		}
		return 0, backoff.RetryAfter(errBusy, time.Minute) // come back in a minute
	})
	fmt.Println(err)
	// Output:
	// 0s: attempt 1
	// 2s: attempt 2
	// backoff: deadline exceeded: the next pause (1m0s) would pass the policy's deadline (5s), after 2 attempts in 2s: rate limited
}

// A retry budget shared by many calls: while a dependency is down, 20
// calls of up to 5 tries each would make 100 attempts. The budget allows
// 2 retries at once and one more for every 10 calls, so they make 23, and
// each call it refuses ends at once, keeping its last error.
func ExampleBudget() {
	budget := &backoff.Budget{Ratio: 0.1, Burst: 2}
	p := backoff.Policy{MaxTries: 5, RetryIf: backoff.AnyError, Budget: budget}
	errDown := errors.New("connection refused")
	attempts, refused := 0, 0
	for range 20 {
		err := backoff.Run(context.Background(), p, func(context.Context) error {
			attempts++
			return errDown
		})
		if errors.Is(err, backoff.ErrBudgetExhausted) {
			refused++
		}
	}
	fmt.Printf("20 calls: %d attempts; %d calls ended by the budget\n", attempts, refused)
	// Output:
	// 20 calls: 23 attempts; 20 calls ended by the budget
}

// exampleClock returns a fake clock, set to a fixed date.
func exampleClock() *clockwork.FakeClock {
	return clockwork.NewFakeClockAt(time.Date(2026, time.January, 1, 9, 0, 0, 0, time.UTC))
}

// skipPauses is an Observer that moves its fake clock over each pause. The
// executor calls it once the pause's timer is armed and before it waits,
// so the timer fires in Advance, and the executor finds it fired.
type skipPauses struct{ clock *clockwork.FakeClock }

func (s skipPauses) Begin(context.Context, backoff.Call) backoff.CallObserver { return s }

func (s skipPauses) Observe(e backoff.Event, a backoff.Action) {
	if a.Kind == backoff.ActionPause {
		s.clock.Advance(a.Until - e.At) // e.At is now, as a time since the call began
	}
}

// respond stands for a remote call that takes d on the fake clock and then
// returns v and err: it moves the clock on by d and returns them, unless
// ctx's deadline comes first. Then, like a call that heeds its context, it
// stops there and returns ctx's error.
func respond[T any](ctx context.Context, clock *clockwork.FakeClock, d time.Duration, v T, err error) (T, error) {
	if end, ok := ctx.Deadline(); ok && !clock.Now().Add(d).Before(end) {
		clock.Advance(end.Sub(clock.Now()))
		<-ctx.Done() // the attempt's timer has fired: its context is done soon
		var zero T
		return zero, ctx.Err()
	}
	clock.Advance(d)
	return v, err
}
