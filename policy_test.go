package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/internal/drive"
)

func TestPolicy_Validate(t *testing.T) {
	if err := (backoff.Policy{}).Validate(); err != nil {
		t.Fatalf("zero Policy: %v", err)
	}
	for _, tc := range []struct {
		p    backoff.Policy
		want []string // every fragment must be in the message
	}{
		{backoff.Policy{AttemptTimeout: -time.Second}, []string{"AttemptTimeout is -1s"}},
		{backoff.Policy{Deadline: -1}, []string{"Deadline is -1ns"}},
		{backoff.Policy{Pause: -100 * time.Millisecond}, []string{"Pause is -100ms"}},
		{backoff.Policy{MaxTries: -3}, []string{"MaxTries is -3"}},
		{backoff.Policy{Pause: -1, MaxTries: -1}, []string{"Pause is -1ns", "MaxTries is -1"}},
	} {
		err := tc.p.Validate()
		if !errors.Is(err, backoff.ErrInvalidPolicy) {
			t.Errorf("%+v: Validate() = %v, want ErrInvalidPolicy", tc.p, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %q does not say %q", tc.p, err, w)
			}
		}
		if !strings.HasPrefix(err.Error(), "backoff: invalid policy: ") {
			t.Errorf("%q lacks the package prefix", err)
		}
	}
}

// TestPolicy_Validate_cannotWork: a policy whose GiveUp is never asked,
// or that would retry at once without end, is refused with a message that
// says what to do; its neighbours that can work are accepted.
func TestPolicy_Validate_cannotWork(t *testing.T) {
	notFound := errors.New("not found")
	const (
		giveUp = "backoff: invalid policy: GiveUp is set but RetryIf is nil and there is no AttemptTimeout: nothing is retried, " +
			"so GiveUp is never asked (it sees only what is retried; an error RetryIf does not retry ends the call with ErrNotRetryable); set a RetryIf"
		runaway = "backoff: invalid policy: RetryIf is set but no Pause, MaxTries, Deadline or Budget bounds the retries: " +
			"a failing operation would be called again at once, without end; bound the retries with MaxTries, Pause or Deadline"
	)
	for _, tc := range []struct {
		name string
		p    backoff.Policy
		want string
	}{
		{"GiveUp with nothing retried", backoff.Policy{GiveUp: backoff.On(notFound), MaxTries: 3}, giveUp},
		{"Retry(0)", backoff.Retry(0), runaway},
		{"RetryIf alone", backoff.Policy{RetryIf: backoff.AnyError}, runaway},
		{"RetryIf with an attempt timeout only", backoff.Policy{RetryIf: backoff.AnyError, AttemptTimeout: time.Second}, runaway},
		{"both", backoff.Policy{RetryIf: nil, GiveUp: backoff.AnyError, Jitter: backoff.FullJitter},
			"backoff: invalid policy: Jitter is FullJitter but Pause is 0s: there is no pause to spread; set a Pause\n" + giveUp},
	} {
		err := tc.p.Validate()
		if !errors.Is(err, backoff.ErrInvalidPolicy) || err.Error() != tc.want {
			t.Errorf("%s: Validate() = %v\nwant %s", tc.name, err, tc.want)
		}
		if _, err := backoff.Do(context.Background(), tc.p, func(context.Context) (int, error) {
			t.Fatalf("%s: Do called the operation", tc.name)
			return 0, nil
		}); !errors.Is(err, backoff.ErrInvalidPolicy) {
			t.Errorf("%s: Do = %v, want ErrInvalidPolicy", tc.name, err)
		}
	}
	for _, p := range []backoff.Policy{
		{GiveUp: backoff.On(notFound), AttemptTimeout: time.Second}, // GiveUp sees the attempt timeouts
		{GiveUp: backoff.On(notFound), RetryIf: backoff.AnyError, MaxTries: 3},
		{RetryIf: backoff.AnyError, MaxTries: 3},
		{RetryIf: backoff.AnyError, Pause: time.Millisecond},
		{RetryIf: backoff.AnyError, Deadline: time.Second},
		{RetryIf: backoff.AnyError, Budget: &backoff.Budget{Burst: 10}},
		{AttemptTimeout: time.Second}, // retries timeouts only, each after a second
		backoff.Retry(3),
	} {
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", p, err)
		}
	}
}

func TestDo_invalidPolicy(t *testing.T) {
	called := false
	_, err := backoff.Do(context.Background(), backoff.Policy{MaxTries: -1}, func(context.Context) (int, error) {
		called = true
		return 0, nil
	})
	if !errors.Is(err, backoff.ErrInvalidPolicy) || called {
		t.Fatalf("err %v, called %v; want ErrInvalidPolicy before fn is called", err, called)
	}
	if x, err := backoff.NewExecution(backoff.Policy{Pause: -1}); !errors.Is(err, backoff.ErrInvalidPolicy) || x != nil {
		t.Errorf("NewExecution of an invalid policy: %v, %v", x, err)
	}
}

func TestDo_nilFunc(t *testing.T) {
	if _, err := backoff.Do[int](context.Background(), backoff.Policy{}, nil); err == nil || !strings.Contains(err.Error(), "nil func") {
		t.Errorf("Do(nil) = %v", err)
	}
	if err := backoff.Run(context.Background(), backoff.Policy{}, nil); err == nil || !strings.Contains(err.Error(), "nil func") {
		t.Errorf("Run(nil) = %v", err)
	}
	if _, err := backoff.Wrap[int](backoff.Policy{}, nil)(context.Background()); err == nil {
		t.Error("Wrap(nil)() = nil error")
	}
}

func TestDo_zeroPolicy(t *testing.T) {
	n := 0
	_, err := backoff.Do(context.Background(), backoff.Policy{}, func(context.Context) (int, error) { n++; return 0, io.EOF })
	if !errors.Is(err, backoff.ErrNotRetryable) || !errors.Is(err, io.EOF) || n != 1 {
		t.Fatalf("zero Policy: %v after %d calls; want one call, ErrNotRetryable and io.EOF", err, n)
	}
	v, err := backoff.Do(context.Background(), backoff.Policy{}, func(context.Context) (string, error) { return "ok", nil })
	if v != "ok" || err != nil {
		t.Fatalf("zero Policy: %q, %v", v, err)
	}
}

func TestRun(t *testing.T) {
	n := 0
	err := backoff.Run(context.Background(), backoff.Retry(3), func(context.Context) error { n++; return io.EOF })
	var e *backoff.Error
	if !errors.As(err, &e) || e.Reason != backoff.ErrMaxTries || e.Last != io.EOF || n != 3 {
		t.Fatalf("Run: %v after %d calls", err, n)
	}
	if err := backoff.Run(context.Background(), backoff.Policy{}, func(context.Context) error { return nil }); err != nil {
		t.Fatalf("Run success: %v", err)
	}
}

func TestRetry(t *testing.T) {
	p := backoff.Retry(5)
	if p.MaxTries != 5 || p.RetryIf == nil || !p.RetryIf(errors.New("any")) || p.AttemptTimeout != 0 || p.Deadline != 0 || p.Pause != 0 {
		t.Errorf("Retry(5) = %+v", p)
	}
}

func TestOn(t *testing.T) {
	wrapped := &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}
	on := backoff.On(io.EOF, fs.ErrNotExist)
	if !on(io.EOF) || !on(wrapped) || on(io.ErrUnexpectedEOF) {
		t.Error("On(io.EOF, fs.ErrNotExist) matches wrongly")
	}
	if backoff.On()(io.EOF) {
		t.Error("On() must match nothing")
	}
	onType := backoff.OnType[*fs.PathError]()
	if !onType(wrapped) || !onType(errors.Join(io.EOF, wrapped)) || onType(io.EOF) {
		t.Error("OnType[*fs.PathError] matches wrongly")
	}
	if !backoff.AnyError(nil) || !backoff.AnyError(io.EOF) {
		t.Error("AnyError must always be true")
	}
}

// The pure core, driven by hand: each case is a list of (event, action).

type stepCase struct {
	e    backoff.Event
	want backoff.Action
}

func runSteps(t *testing.T, p backoff.Policy, steps []stepCase) {
	t.Helper()
	x, err := backoff.NewExecution(p)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		got := x.Step(s.e)
		got.Since = 0 // TestExecution_Step_since checks it
		if !drive.SameAction(got, s.want) {
			t.Fatalf("step %d: Step(%+v)\n = %+v\nwant %+v", i, s.e, got, s.want)
		}
	}
}

// fail is the Finish action of a call that failed; a cancel during a pause
// has no outcome, an attempt's end has one (see with).
func fail(reason, last error, attempts int, elapsed time.Duration) action {
	return action{Kind: backoff.ActionFinish, Err: &backoff.Error{Reason: reason, Last: last, Attempts: attempts, Elapsed: elapsed}}
}

type action backoff.Action

func (a action) with(o backoff.Outcome) backoff.Action {
	a.Outcome = o
	return backoff.Action(a)
}

func TestExecution_Step(t *testing.T) {
	cause := errors.New("stop")
	wait := backoff.Action{}
	t.Run("stale and out-of-order events are ignored", func(t *testing.T) {
		runSteps(t, backoff.Policy{AttemptTimeout: 100 * ms, Pause: 10 * ms, RetryIf: backoff.AnyError}, []stepCase{
			{backoff.Event{Kind: backoff.EventEnded, Attempt: 1}, wait}, // before Began
			{backoff.Event{Kind: backoff.EventBegan}, backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: 100 * ms, Cut: backoff.ErrAttemptTimeout}},
			{backoff.Event{Kind: backoff.EventBegan, At: ms}, wait},
			{backoff.Event{Kind: backoff.EventEnded, At: 2 * ms, Attempt: 2, Err: errFatal}, wait}, // not running
			{backoff.Event{Kind: backoff.EventFired, At: 3 * ms, Attempt: 1}, wait},                // cooperative: the attempt ends when fn returns
			{backoff.Event{Kind: backoff.EventEnded, At: 50 * ms, Attempt: 1, Err: errRetry}, backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 60 * ms, Outcome: backoff.OutcomeFailed}},
			{backoff.Event{Kind: backoff.EventEnded, At: 55 * ms, Attempt: 1, Err: nil}, wait}, // a late success of attempt 1
			{backoff.Event{Kind: backoff.EventFired, At: 56 * ms, Attempt: 1}, wait},           // a stale timer
			{backoff.Event{Kind: backoff.EventFired, At: 60 * ms, Attempt: 2}, backoff.Action{Kind: backoff.ActionStart, Attempt: 2, Until: 160 * ms, Cut: backoff.ErrAttemptTimeout}},
			{backoff.Event{Kind: backoff.EventEnded, At: 70 * ms, Attempt: 2}, backoff.Action{Kind: backoff.ActionFinish, Outcome: backoff.OutcomeSucceeded}},
			{backoff.Event{Kind: backoff.EventBegan, At: 80 * ms}, wait}, // finished: everything is ignored
			{backoff.Event{Kind: backoff.EventCanceled, At: 80 * ms, Cause: cause}, wait},
		})
	})
	t.Run("time never goes back", func(t *testing.T) {
		runSteps(t, backoff.Policy{Pause: 10 * ms, RetryIf: backoff.AnyError, MaxTries: 2}, []stepCase{
			{backoff.Event{Kind: backoff.EventBegan}, backoff.Action{Kind: backoff.ActionStart, Attempt: 1}},
			{backoff.Event{Kind: backoff.EventEnded, At: 50 * ms, Attempt: 1, Err: errRetry}, backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 60 * ms, Outcome: backoff.OutcomeFailed}},
			{backoff.Event{Kind: backoff.EventFired, At: 40 * ms, Attempt: 2}, backoff.Action{Kind: backoff.ActionStart, Attempt: 2}},
			{backoff.Event{Kind: backoff.EventEnded, At: 45 * ms, Attempt: 2, Err: errRetry}, fail(backoff.ErrMaxTries, errRetry, 2, 50*ms).with(backoff.OutcomeFailed)},
		})
	})
	t.Run("a timer or a cancel during an attempt does not end it", func(t *testing.T) {
		runSteps(t, backoff.Policy{AttemptTimeout: 100 * ms, Deadline: 250 * ms}, []stepCase{
			{backoff.Event{Kind: backoff.EventBegan}, backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: 100 * ms, Cut: backoff.ErrAttemptTimeout}},
			{backoff.Event{Kind: backoff.EventFired, At: 100 * ms, Attempt: 1}, wait}, // only the attempt's end ends it
			{backoff.Event{Kind: backoff.EventEnded, At: 100 * ms, Attempt: 1, Err: context.DeadlineExceeded}, backoff.Action{Kind: backoff.ActionStart, Attempt: 2, Until: 200 * ms, Cut: backoff.ErrAttemptTimeout, Outcome: backoff.OutcomeFailed}},
			{backoff.Event{Kind: backoff.EventEnded, At: 150 * ms, Attempt: 1, Err: nil}, wait}, // attempt 1 is over
			{backoff.Event{Kind: backoff.EventEnded, At: 200 * ms, Attempt: 2, Err: context.DeadlineExceeded}, backoff.Action{Kind: backoff.ActionStart, Attempt: 3, Until: 250 * ms, Cut: backoff.ErrDeadline, Outcome: backoff.OutcomeFailed}},
			{backoff.Event{Kind: backoff.EventEnded, At: 250 * ms, Attempt: 3, Err: context.DeadlineExceeded}, fail(backoff.ErrDeadline, backoff.ErrAttemptTimeout, 3, 250*ms).with(backoff.OutcomeCut)},
		})
	})
	t.Run("a cancel during a cooperative attempt waits for it", func(t *testing.T) {
		runSteps(t, backoff.Policy{RetryIf: backoff.AnyError, MaxTries: 3}, []stepCase{
			{backoff.Event{Kind: backoff.EventBegan}, backoff.Action{Kind: backoff.ActionStart, Attempt: 1}},
			{backoff.Event{Kind: backoff.EventCanceled, At: 5 * ms, Cause: cause}, wait},
			{backoff.Event{Kind: backoff.EventEnded, At: 9 * ms, Attempt: 1, Err: errRetry}, fail(cause, nil, 1, 9*ms).with(backoff.OutcomeCut)},
		})
	})
	t.Run("a success after a cancel is a success", func(t *testing.T) {
		runSteps(t, backoff.Policy{}, []stepCase{
			{backoff.Event{Kind: backoff.EventBegan}, backoff.Action{Kind: backoff.ActionStart, Attempt: 1}},
			{backoff.Event{Kind: backoff.EventEnded, At: 9 * ms, Attempt: 1, Cause: cause}, backoff.Action{Kind: backoff.ActionFinish, Outcome: backoff.OutcomeSucceeded}},
		})
	})
	t.Run("a cancel during a pause ends the call at once", func(t *testing.T) {
		runSteps(t, backoff.Policy{Pause: time.Second, RetryIf: backoff.AnyError}, []stepCase{
			{backoff.Event{Kind: backoff.EventBegan}, backoff.Action{Kind: backoff.ActionStart, Attempt: 1}},
			{backoff.Event{Kind: backoff.EventEnded, At: ms, Attempt: 1, Err: errRetry}, backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: ms + time.Second, Outcome: backoff.OutcomeFailed}},
			{backoff.Event{Kind: backoff.EventCanceled, At: 2 * ms, Cause: cause}, fail(cause, errRetry, 1, 2*ms).with(backoff.OutcomeNone)},
		})
	})
	t.Run("a cause at the end of a pause wins over starting", func(t *testing.T) {
		runSteps(t, backoff.Policy{Pause: ms, RetryIf: backoff.AnyError}, []stepCase{
			{backoff.Event{Kind: backoff.EventBegan}, backoff.Action{Kind: backoff.ActionStart, Attempt: 1}},
			{backoff.Event{Kind: backoff.EventEnded, Attempt: 1, Err: errRetry}, backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: ms, Outcome: backoff.OutcomeFailed}},
			{backoff.Event{Kind: backoff.EventFired, At: ms, Attempt: 2, Cause: cause}, fail(cause, errRetry, 1, ms).with(backoff.OutcomeNone)},
		})
	})
	t.Run("a pause's timer that fires late, at or after a deadline, ends the call", func(t *testing.T) {
		p := backoff.Policy{Deadline: 100 * ms, Pause: 50 * ms, RetryIf: backoff.AnyError}
		runSteps(t, p, []stepCase{
			{backoff.Event{Kind: backoff.EventBegan}, backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: 100 * ms, Cut: backoff.ErrDeadline}},
			{backoff.Event{Kind: backoff.EventEnded, At: 40 * ms, Attempt: 1, Err: errRetry}, backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 90 * ms, Outcome: backoff.OutcomeFailed}},
			{backoff.Event{Kind: backoff.EventFired, At: 100 * ms, Attempt: 2}, fail(backoff.ErrDeadline, errRetry, 1, 100*ms).with(backoff.OutcomeNone)},
		})
		p.Deadline = 0
		runSteps(t, p, []stepCase{
			{backoff.Event{Kind: backoff.EventBegan, CallerDeadline: 100 * ms}, backoff.Action{Kind: backoff.ActionStart, Attempt: 1}},
			{backoff.Event{Kind: backoff.EventEnded, At: 40 * ms, Attempt: 1, Err: errRetry}, backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 90 * ms, Outcome: backoff.OutcomeFailed}},
			{backoff.Event{Kind: backoff.EventFired, At: 101 * ms, Attempt: 2}, fail(context.DeadlineExceeded, errRetry, 1, 101*ms).with(backoff.OutcomeNone)},
		})
		// Late, but before the deadline: the attempt starts, cut by it.
		p.Deadline = 100 * ms
		runSteps(t, p, []stepCase{
			{backoff.Event{Kind: backoff.EventBegan}, backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: 100 * ms, Cut: backoff.ErrDeadline}},
			{backoff.Event{Kind: backoff.EventEnded, At: 40 * ms, Attempt: 1, Err: errRetry}, backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 90 * ms, Outcome: backoff.OutcomeFailed}},
			{backoff.Event{Kind: backoff.EventFired, At: 99 * ms, Attempt: 2}, backoff.Action{Kind: backoff.ActionStart, Attempt: 2, Until: 100 * ms, Cut: backoff.ErrDeadline}},
		})
	})
	t.Run("no overflow near the largest duration", func(t *testing.T) {
		const huge = time.Duration(math.MaxInt64)
		runSteps(t, backoff.Policy{AttemptTimeout: huge, Pause: huge, RetryIf: backoff.AnyError}, []stepCase{
			{backoff.Event{Kind: backoff.EventBegan}, backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: huge, Cut: backoff.ErrAttemptTimeout}},
			{backoff.Event{Kind: backoff.EventEnded, At: time.Hour, Attempt: 1, Err: errRetry}, backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: huge, Outcome: backoff.OutcomeFailed}},
		})
	})
}

func TestExecution_Step_since(t *testing.T) {
	x, _ := backoff.NewExecution(backoff.Policy{AttemptTimeout: 100 * ms, Pause: 30 * ms, MaxTries: 3, RetryIf: backoff.AnyError})
	for i, s := range []struct {
		e     backoff.Event
		since time.Duration
	}{
		{backoff.Event{Kind: backoff.EventBegan}, 0},
		{backoff.Event{Kind: backoff.EventEnded, At: 40 * ms, Attempt: 1, Err: errRetry}, 0},        // attempt 1: 0-40ms
		{backoff.Event{Kind: backoff.EventEnded, At: 50 * ms, Attempt: 1, Err: errRetry}, 0},        // stale: Wait
		{backoff.Event{Kind: backoff.EventFired, At: 70 * ms, Attempt: 2}, 40 * ms},                 // pause: 40-70ms
		{backoff.Event{Kind: backoff.EventEnded, At: 170 * ms, Attempt: 2, Err: errRetry}, 70 * ms}, // attempt 2 cut at its timeout
		{backoff.Event{Kind: backoff.EventCanceled, At: 180 * ms, Cause: errFatal}, 170 * ms},       // cancelled during the pause
	} {
		if a := x.Step(s.e); a.Since != s.since {
			t.Errorf("step %d: %v answered %v with Since %v, want %v", i, s.e.Kind, a.Kind, a.Since, s.since)
		}
	}
}

func TestExecution_Step_allocs(t *testing.T) {
	p := backoff.Policy{AttemptTimeout: time.Second, Deadline: time.Minute, RetryIf: backoff.AnyError, MaxTries: 4}
	x0, err := backoff.NewExecution(p)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		x := *x0 // a call not begun
		x.Step(backoff.Event{Kind: backoff.EventBegan})
		x.Step(backoff.Event{Kind: backoff.EventEnded, At: ms, Attempt: 1, Err: errRetry})
		x.Step(backoff.Event{Kind: backoff.EventEnded, At: 2 * ms, Attempt: 2, Err: errRetry})
		x.Step(backoff.Event{Kind: backoff.EventEnded, At: 3 * ms, Attempt: 3})
	})
	if allocs != 0 {
		t.Errorf("a call with retries that succeeds allocates %v times in the core, want 0", allocs)
	}
}

// TestDo_allocs: the operation a user passes is a closure made at the call
// that captures locals; it stays on the caller's stack (Do does not let it
// escape), so a call allocates nothing, through every entry point, on
// success at once or after retries with no pause.
func TestDo_allocs(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		p    backoff.Policy
	}{{"no limit", backoff.Policy{}}, {"retries, zero pause", backoff.Retry(4)}} {
		tries := max(tc.p.MaxTries, 1)
		for _, entry := range []struct {
			name string
			call func()
		}{
			{"Do", func() {
				n, key := 0, "k"
				v, err := backoff.Do(ctx, tc.p, func(context.Context) (string, error) {
					if n++; n < tries {
						return "", errRetry
					}
					return key, nil
				})
				if err != nil || v != key {
					t.Fatal(v, err)
				}
			}},
			{"Run", func() {
				n := 0
				if err := backoff.Run(ctx, tc.p, func(context.Context) error {
					if n++; n < tries {
						return errRetry
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}},
			{"Wrap", func() {
				n := 0
				get := backoff.Wrap(tc.p, func(context.Context) (int, error) {
					if n++; n < tries {
						return 0, errRetry
					}
					return n, nil
				})
				if _, err := get(ctx); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			if a := testing.AllocsPerRun(100, entry.call); a != 0 {
				t.Errorf("%s, %s: a call with a capturing closure allocates %v times, want 0", tc.name, entry.name, a)
			}
		}
	}
}

func TestOr(t *testing.T) {
	pe := &fs.PathError{Op: "open", Path: "x", Err: fs.ErrPermission}
	retry := backoff.Or(backoff.On(io.EOF), nil, backoff.OnType[*fs.PathError]())
	if !retry(io.EOF) || !retry(fmt.Errorf("read: %w", pe)) || retry(io.ErrUnexpectedEOF) {
		t.Error("Or(On(io.EOF), OnType[*fs.PathError]) matches wrongly")
	}
	if backoff.Or()(io.EOF) || backoff.Or(nil)(io.EOF) {
		t.Error("Or() must match nothing")
	}
	asked := 0
	count := func(error) bool { asked++; return true }
	backoff.Or(count, count)(io.EOF)
	if asked != 1 {
		t.Errorf("Or asked %d predicates after the first said true, want 1", asked-1)
	}
}
