package backoff_test

// Tests of Logger. The calls run the executor on the system clock inside a
// testing/synctest bubble, so every instant a record shows is exact, and
// the records are compared line by line with slog's text handler's output
// (the time left out).

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
)

var (
	errLogBusy  = errors.New("busy")
	errLogFatal = errors.New("bad request")
	errLogQuit  = errors.New("user quit")
)

// textLogger returns a logger that writes the records of level and above
// to w with slog's text handler, without their time.
func textLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if (a.Key == slog.TimeKey || a.Key == "call") && len(groups) == 0 {
				return slog.Attr{} // TestLogger_call checks the call's number
			}
			return a
		},
	}))
}

// wantLines fails t unless out is the lines want, each ended by a newline.
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" {
		got = nil
	}
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	var b strings.Builder
	for i := range max(len(got), len(want)) {
		g, w := "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		mark := " "
		if g != w {
			mark = "!"
		}
		b.WriteString("\n" + mark + " got:  " + g + "\n" + mark + " want: " + w)
	}
	t.Errorf("the records differ (! marks a difference):%s", b.String())
}

func TestLogger_scenarios(t *testing.T) {
	const ms = time.Millisecond
	const (
		timedOut = `cut="backoff: attempt timed out"`
		deadline = `cut="backoff: deadline exceeded"`
	)
	for _, tc := range []struct {
		name         string
		p            backoff.Policy
		steps        []step
		cancelAt     time.Duration // > 0: the caller cancels then
		cancelBefore bool          // the caller's context is done before the call
		abandon      bool          // the operation is wrapped in backoff.Abandon
		cause        error         // the caller's cancel cause; nil: context.Canceled
		want         []string
	}{{
		name:  "success at the first try",
		steps: []step{{d: 10 * ms}},
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s`,
			`level=DEBUG msg="backoff: call succeeded" attempts=1 elapsed=10ms`,
		},
	}, {
		name: "retries with pauses and an attempt timeout, then MaxTries (the doc's example)",
		p: backoff.Policy{AttemptTimeout: 50 * ms, Pause: 100 * ms, MaxTries: 3,
			RetryIf: backoff.On(errLogBusy)},
		steps: []step{{d: 10 * ms, err: errLogBusy}, {d: time.Hour}, {d: 20 * ms, err: errLogBusy}},
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s until=50ms ` + timedOut,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=10ms err=busy pause=100ms until=110ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=2 at=110ms until=160ms ` + timedOut,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=2 at=160ms err="context deadline exceeded" pause=100ms until=260ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=3 at=260ms until=310ms ` + timedOut,
			`level=WARN msg="backoff: call failed" outcome=failed err=busy reason="backoff: max tries reached" last=busy attempts=3 elapsed=280ms`,
		},
	}, {
		name:  "retries with no pause, then success",
		p:     backoff.Retry(5),
		steps: []step{{d: 5 * ms, err: errLogBusy}, {d: 5 * ms, err: errLogBusy}, {d: 5 * ms}},
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s`,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=5ms err=busy pause=0s until=5ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=2 at=5ms`,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=2 at=10ms err=busy pause=0s until=10ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=3 at=10ms`,
			`level=DEBUG msg="backoff: call succeeded" attempts=3 elapsed=15ms`,
		},
	}, {
		name:  "a non-retryable error",
		p:     backoff.Policy{Pause: 10 * ms, MaxTries: 5, RetryIf: backoff.On(errLogBusy)},
		steps: []step{{d: 5 * ms, err: errLogBusy}, {d: 7 * ms, err: errLogFatal}},
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s`,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=5ms err=busy pause=10ms until=15ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=2 at=15ms`,
			`level=WARN msg="backoff: call failed" outcome=rejected err="bad request" reason="backoff: error not retryable" last="bad request" attempts=2 elapsed=22ms`,
		},
	}, {
		name:  "GiveUp",
		p:     backoff.Policy{Pause: 10 * ms, RetryIf: backoff.AnyError, GiveUp: backoff.On(errLogFatal)},
		steps: []step{{d: 5 * ms, err: errLogBusy}, {d: 5 * ms, err: errLogFatal}},
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s`,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=5ms err=busy pause=10ms until=15ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=2 at=15ms`,
			`level=WARN msg="backoff: call failed" outcome=failed err="bad request" reason="backoff: gave up" last="bad request" attempts=2 elapsed=20ms`,
		},
	}, {
		name: "the deadline cuts an attempt",
		p: backoff.Policy{AttemptTimeout: 100 * ms, Deadline: 250 * ms, Pause: 20 * ms,
			RetryIf: backoff.AnyError},
		steps: []step{{d: time.Hour}},
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s until=100ms ` + timedOut,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=100ms err="context deadline exceeded" pause=20ms until=120ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=2 at=120ms until=220ms ` + timedOut,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=2 at=220ms err="context deadline exceeded" pause=20ms until=240ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=3 at=240ms until=250ms ` + deadline,
			`level=WARN msg="backoff: call failed" outcome=cut err="context deadline exceeded" reason="backoff: deadline exceeded" last="backoff: attempt timed out" attempts=3 elapsed=250ms`,
		},
	}, {
		name:  "no sleeping into the deadline",
		p:     backoff.Policy{Deadline: 100 * ms, Pause: 80 * ms, RetryIf: backoff.AnyError},
		steps: []step{{d: 30 * ms, err: errLogBusy}},
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s until=100ms ` + deadline,
			`level=WARN msg="backoff: call failed" outcome=failed err=busy reason="backoff: deadline exceeded" last=busy attempts=1 elapsed=30ms`,
		},
	}, {
		name:     "the caller cancels during a pause",
		p:        backoff.Policy{Pause: 100 * ms, RetryIf: backoff.AnyError},
		steps:    []step{{d: 20 * ms, err: errLogBusy}},
		cancelAt: 50 * ms,
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s`,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=20ms err=busy pause=100ms until=120ms`,
			`level=INFO msg="backoff: call canceled" reason="context canceled" last=busy attempts=1 elapsed=50ms`,
		},
	}, {
		name:     "the caller cancels during an attempt, which returns late, with a cause",
		p:        backoff.Policy{Pause: 10 * ms, RetryIf: backoff.AnyError},
		steps:    []step{{d: 20 * ms, err: errLogBusy}, {d: time.Hour, late: 5 * ms}},
		cancelAt: 50 * ms,
		cause:    errLogQuit,
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s`,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=20ms err=busy pause=10ms until=30ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=2 at=30ms`,
			`level=INFO msg="backoff: call canceled" outcome=cut err="context canceled" reason="user quit" last=busy attempts=2 elapsed=55ms`,
		},
	}, {
		name:         "the caller's context is done before the call",
		p:            backoff.Retry(3),
		steps:        []step{{}},
		cancelBefore: true,
		want: []string{
			`level=INFO msg="backoff: call canceled" reason="context canceled" attempts=0 elapsed=0s`,
		},
	}, {
		name:    "Abandon at attempt timeouts",
		abandon: true,
		p:       backoff.Policy{AttemptTimeout: 50 * ms, Pause: 10 * ms, MaxTries: 2},
		steps:   []step{{d: time.Second, err: errLogBusy, ignore: true}},
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s until=50ms ` + timedOut,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=50ms err="context deadline exceeded" pause=10ms until=60ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=2 at=60ms until=110ms ` + timedOut,
			`level=WARN msg="backoff: call failed" outcome=failed err="context deadline exceeded" reason="backoff: max tries reached" last="backoff: attempt timed out" attempts=2 elapsed=110ms`,
		},
	}, {
		name:    "Abandon at the deadline",
		abandon: true,
		p: backoff.Policy{AttemptTimeout: 40 * ms, Deadline: 70 * ms,
			RetryIf: backoff.AnyError},
		steps: []step{{d: time.Second, ignore: true}},
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s until=40ms ` + timedOut,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=40ms err="context deadline exceeded" pause=0s until=40ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=2 at=40ms until=70ms ` + deadline,
			`level=WARN msg="backoff: call failed" outcome=cut err="context deadline exceeded" reason="backoff: deadline exceeded" last="backoff: attempt timed out" attempts=2 elapsed=70ms`,
		},
	}, {
		name:     "Abandon: the caller cancels during an attempt",
		abandon:  true,
		p:        backoff.Policy{Pause: 10 * ms, RetryIf: backoff.AnyError},
		steps:    []step{{d: 20 * ms, err: errLogBusy}, {d: time.Second, ignore: true}},
		cancelAt: 50 * ms,
		want: []string{
			`level=DEBUG msg="backoff: attempt started" attempt=1 at=0s`,
			`level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=20ms err=busy pause=10ms until=30ms`,
			`level=DEBUG msg="backoff: attempt started" attempt=2 at=30ms`,
			`level=INFO msg="backoff: call canceled" outcome=cut err="context canceled" reason="context canceled" last=busy attempts=2 elapsed=50ms`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancelCause(t.Context())
				defer cancel(nil)
				if tc.cancelBefore {
					cancel(tc.cause)
				} else if tc.cancelAt > 0 {
					time.AfterFunc(tc.cancelAt, func() { cancel(tc.cause) })
				}
				var out bytes.Buffer
				p := tc.p
				p.Observer = backoff.Logger{Logger: textLogger(&out, slog.LevelDebug)}
				backoff.Do(ctx, p, newOp(tc.steps...).fn(tc.abandon))
				wantLines(t, out.String(), tc.want...)

				// Abandoned attempts end later: they log nothing.
				n := out.Len()
				time.Sleep(2 * time.Second)
				synctest.Wait()
				if out.Len() != n {
					t.Errorf("records after Do returned: %q", out.String()[n:])
				}
			})
		})
	}
}

// logSteps returns the steps of a call that fails once with errLogBusy
// after 10ms, pauses 100ms, and then is cut by its deadline at 150ms.
func logSteps(t *testing.T) (actions []backoff.Action, events []backoff.Event) {
	t.Helper()
	p := backoff.Policy{Deadline: 150 * time.Millisecond, Pause: 100 * time.Millisecond, RetryIf: backoff.AnyError}
	return recordSteps(t, p, newOp(step{d: 10 * time.Millisecond, err: errLogBusy}, step{d: time.Hour}).call)
}

// TestLogger_levels: each kind of record has the level its field says,
// read at each step (a *slog.LevelVar can change it between steps), and
// only the records of enabled levels are logged.
func TestLogger_levels(t *testing.T) {
	const (
		start   = `msg="backoff: attempt started" attempt=1 at=0s until=150ms cut="backoff: deadline exceeded"`
		retry   = `msg="backoff: attempt failed; retrying" attempt=1 at=10ms err=busy pause=100ms until=110ms`
		start2  = `msg="backoff: attempt started" attempt=2 at=110ms until=150ms cut="backoff: deadline exceeded"`
		failure = `msg="backoff: call failed" outcome=cut err="context deadline exceeded" reason="backoff: deadline exceeded" last=busy attempts=2 elapsed=150ms`
	)
	actions, events := logSteps(t)
	var retryLevel slog.LevelVar
	for _, tc := range []struct {
		name  string
		min   slog.Level // the handler's minimum level
		l     backoff.Logger
		retry slog.Level // retryLevel's value
		want  []string
	}{{
		name: "defaults, all enabled",
		min:  slog.LevelDebug,
		want: []string{"level=DEBUG " + start, "level=INFO " + retry, "level=DEBUG " + start2, "level=WARN " + failure},
	}, {
		name: "defaults at Info",
		min:  slog.LevelInfo,
		want: []string{"level=INFO " + retry, "level=WARN " + failure},
	}, {
		name: "defaults at Warn",
		min:  slog.LevelWarn,
		want: []string{"level=WARN " + failure},
	}, {
		name: "defaults at Error",
		min:  slog.LevelError,
	}, {
		name:  "levels picked, a LevelVar among them",
		min:   slog.LevelInfo,
		l:     backoff.Logger{Start: slog.LevelInfo, Retry: &retryLevel, Failure: slog.LevelError},
		retry: slog.LevelWarn,
		want:  []string{"level=INFO " + start, "level=WARN " + retry, "level=INFO " + start2, "level=ERROR " + failure},
	}, {
		name:  "the LevelVar set below the minimum",
		min:   slog.LevelInfo,
		l:     backoff.Logger{Start: slog.LevelInfo, Retry: &retryLevel, Failure: slog.LevelError},
		retry: slog.LevelDebug,
		want:  []string{"level=INFO " + start, "level=INFO " + start2, "level=ERROR " + failure},
	}, {
		name: "custom levels",
		min:  slog.LevelDebug,
		l:    backoff.Logger{Start: slog.Level(-8), Failure: slog.LevelError + 4},
		want: []string{"level=INFO " + retry, "level=ERROR+4 " + failure},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			l := tc.l
			l.Logger = textLogger(&out, tc.min)
			retryLevel.Set(tc.retry)
			co := l.Begin(context.Background(), backoff.Call{ID: 1})
			for i := range actions {
				co.Observe(events[i], actions[i])
			}
			wantLines(t, out.String(), tc.want...)
		})
	}

	// Success and Canceled.
	var out bytes.Buffer
	l := backoff.Logger{Logger: textLogger(&out, slog.LevelDebug), Success: slog.LevelWarn, Canceled: slog.LevelError}
	l.Begin(context.Background(), backoff.Call{ID: 1}).Observe(backoff.Event{Kind: backoff.EventEnded, At: time.Second, Attempt: 2},
		backoff.Action{Kind: backoff.ActionFinish, Outcome: backoff.OutcomeSucceeded, Since: time.Second / 2})
	l.Begin(context.Background(), backoff.Call{ID: 2}).Observe(backoff.Event{Kind: backoff.EventCanceled, At: time.Second, Cause: context.Canceled},
		backoff.Action{Kind: backoff.ActionFinish, Err: &backoff.Error{Reason: context.Canceled, Attempts: 2, Elapsed: time.Second}})
	wantLines(t, out.String(),
		`level=WARN msg="backoff: call succeeded" attempts=2 elapsed=1s`,
		`level=ERROR msg="backoff: call canceled" reason="context canceled" attempts=2 elapsed=1s`)
}

// TestLogger_default: the zero Logger logs to slog.Default(), as it is at
// each step.
func TestLogger_default(t *testing.T) {
	var before, after bytes.Buffer
	defer func(l *slog.Logger, w io.Writer, flags int) {
		// SetDefault sends package log's output to the new handler too.
		slog.SetDefault(l)
		log.SetOutput(w)
		log.SetFlags(flags)
	}(slog.Default(), log.Writer(), log.Flags())

	var l backoff.Logger
	e := backoff.Event{Kind: backoff.EventEnded, At: time.Second, Attempt: 1, Err: errLogBusy}
	a := backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 3 * time.Second, Outcome: backoff.OutcomeFailed}
	co := l.Begin(context.Background(), backoff.Call{ID: 1})
	slog.SetDefault(textLogger(&before, slog.LevelDebug))
	co.Observe(e, a)
	slog.SetDefault(textLogger(&after, slog.LevelDebug))
	co.Observe(e, a)
	const want = `level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=1s err=busy pause=2s until=3s`
	wantLines(t, before.String(), want)
	wantLines(t, after.String(), want)
}

// TestLogger_wait: a Wait step (the core's answer to a stale event, which
// Do never reports but another driver may) logs nothing.
func TestLogger_wait(t *testing.T) {
	var out bytes.Buffer
	l := backoff.Logger{Logger: textLogger(&out, slog.LevelDebug)}
	co := l.Begin(context.Background(), backoff.Call{ID: 1})
	co.Observe(backoff.Event{Kind: backoff.EventFired, At: time.Second, Attempt: 7}, backoff.Action{})
	co.Observe(backoff.Event{Kind: backoff.EventEnded, At: time.Second, Attempt: 7, Err: errLogBusy}, backoff.Action{})
	co.Observe(backoff.Event{Kind: backoff.EventCanceled, At: time.Second, Cause: context.Canceled}, backoff.Action{})
	wantLines(t, out.String())
}

// TestLogger_allocs: a record whose level is not enabled allocates
// nothing, whatever the step; nor does Do with such a Logger, or with the
// zero Logger and slog's default logger (which leaves Debug out), for a
// call that succeeds at once.
func TestLogger_allocs(t *testing.T) {
	const ms = time.Millisecond
	quiet := backoff.Logger{Logger: textLogger(io.Discard, slog.LevelError+1)}
	var o backoff.Observer = quiet
	wantObserveAllocFree(t, o)
	canceled := backoff.Event{Kind: backoff.EventCanceled, At: ms, Cause: context.Canceled}
	gone := backoff.Action{Kind: backoff.ActionFinish, Err: &backoff.Error{Reason: context.Canceled, Elapsed: ms}}
	if a := testing.AllocsPerRun(100, func() { o.Begin(context.Background(), backoff.Call{ID: 1}).Observe(canceled, gone) }); a != 0 {
		t.Errorf("canceled: Observe allocates %v times per call, want 0", a)
	}

	n := 0
	retrying := func(context.Context) (int, error) {
		if n++; n%4 != 0 {
			return 0, errLogBusy
		}
		return 1, nil
	}
	p := backoff.Retry(4)
	p.Observer = quiet
	if a := testing.AllocsPerRun(100, func() { backoff.Do(context.Background(), p, retrying) }); a != 0 {
		t.Errorf("Do with a Logger that logs nothing allocates %v times per call, want 0", a)
	}

	if slog.Default().Enabled(context.Background(), slog.LevelDebug) {
		t.Skip("slog's default logger logs Debug records")
	}
	p = backoff.Policy{Observer: backoff.Logger{}}
	ok := func(context.Context) (int, error) { return 1, nil }
	if a := testing.AllocsPerRun(100, func() { backoff.Do(context.Background(), p, ok) }); a != 0 {
		t.Errorf("Do with the zero Logger, at once successful, allocates %v times per call, want 0", a)
	}
}

// TestLogger_concurrentCalls: one Logger shared by many concurrent calls
// (its Retry level a LevelVar that changes meanwhile) logs every record of
// every call, whole.
func TestLogger_concurrentCalls(t *testing.T) {
	const (
		ms         = time.Millisecond
		goroutines = 16
		calls      = 20 // per goroutine
		n          = goroutines * calls
	)
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer // the handler writes under its own lock
		var retry slog.LevelVar
		l := backoff.Logger{Logger: textLogger(&out, slog.LevelDebug), Retry: &retry}
		p := backoff.Policy{Pause: 2 * ms, MaxTries: 3, RetryIf: backoff.AnyError, Observer: l}
		i := 0
		concurrently(t, p, goroutines, calls, errLogBusy, func() {
			retry.Set(slog.Level(i % 2 * 4)) // Info, Warn: both enabled
			i++
		})

		count := map[string]int{}
		for line := range strings.Lines(out.String()) {
			switch {
			case strings.Contains(line, `msg="backoff: attempt started" attempt=1 at=0s`+"\n"),
				strings.Contains(line, `msg="backoff: attempt started" attempt=2 at=3ms`+"\n"),
				strings.Contains(line, `msg="backoff: attempt failed; retrying" attempt=1 at=1ms err=busy pause=2ms until=3ms`+"\n"),
				strings.Contains(line, `msg="backoff: call succeeded" attempts=2 elapsed=6ms`+"\n"):
				count[line[strings.Index(line, "msg="):]]++
			default:
				t.Errorf("unexpected record %q", line)
			}
		}
		if len(count) != 4 {
			t.Errorf("%d kinds of record, want 4: %v", len(count), count)
		}
		for line, k := range count {
			if k != n {
				t.Errorf("%d records %q, want %d", k, line, n)
			}
		}
	})
}
