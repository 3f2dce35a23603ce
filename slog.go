package backoff

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Logger is an [Observer] that logs the steps of the calls it observes
// with log/slog, one record for each thing that happens, at a level chosen
// per kind of record:
//
//	kind      message                              default level
//	Start     "backoff: attempt started"           Debug
//	Retry     "backoff: attempt failed; retrying"  Info
//	Success   "backoff: call succeeded"            Debug
//	Failure   "backoff: call failed"               Warn
//	Canceled  "backoff: call canceled"             Info
//
// So with slog's usual minimum level, Info, a call that succeeds at once
// logs nothing, each retry logs a line, and a call that fails logs a
// warning (a retried call that logs no failure succeeded). A call that
// fails is not an Error by default: the caller gets its error too, and
// decides whether the program failed; set Failure to slog.LevelError to
// make it one. A call ended by the caller's context (Canceled) is the
// caller's own doing, so it is not a warning either.
//
// A call under a policy with AttemptTimeout 50ms, Pause 100ms, MaxTries 3
// and RetryIf retrying "busy" logs, at level Debug, with slog's text
// handler (the time left out):
//
//	level=DEBUG msg="backoff: attempt started" call=1 attempt=1 at=0s until=50ms cut="backoff: attempt timed out"
//	level=INFO msg="backoff: attempt failed; retrying" call=1 attempt=1 at=10ms err=busy pause=100ms until=110ms
//	level=DEBUG msg="backoff: attempt started" call=1 attempt=2 at=110ms until=160ms cut="backoff: attempt timed out"
//	level=INFO msg="backoff: attempt failed; retrying" call=1 attempt=2 at=160ms err="context deadline exceeded" pause=100ms until=260ms
//	level=DEBUG msg="backoff: attempt started" call=1 attempt=3 at=260ms until=310ms cut="backoff: attempt timed out"
//	level=WARN msg="backoff: call failed" call=1 outcome=failed err=busy reason="backoff: max tries reached" last=busy attempts=3 elapsed=280ms
//
// The attributes, in this order, after call, the call's number
// (Call.ID: the same in every record of one call, and in no record of
// another call of the program, so it tells the records of concurrent
// calls apart):
//
//   - Start: attempt, the attempt's number (from 1); at, when it starts;
//     and, if the attempt has a time limit, until, when its time is up,
//     and cut, the limit (ErrAttemptTimeout or ErrDeadline).
//   - Retry: attempt, the attempt that failed; at, when; err, what the
//     operation returned (an attempt timeout shows what it returned once
//     its context was done: with [Abandon], the context's error at its
//     cut); pause, how long the call pauses, and until, when the pause
//     ends (pause=0s and until=at: the next attempt starts at once; its
//     Start record follows).
//   - Success: attempts, the attempts made; elapsed, the call's time.
//   - Failure and Canceled: if the step ended an attempt, outcome (what
//     the decision core made of it, an [Outcome]: failed, rejected or cut)
//     and err as for Retry; then the fields of the call's [Error]:
//     reason, last (left out if nil), attempts and elapsed.
//
// Every time (at, until, elapsed) is a duration since the call began, on
// the policy's clock, as in the steps themselves; pause is a length. The
// record's own time is slog's (the time of day the record is made, as for
// any record). With slog.JSONHandler a duration is a number of
// nanoseconds.
//
// A failed call is Canceled, rather than a Failure, when the event that
// ended it carries a Cause: the caller's context was done, and the call's
// Reason is context.Cause of it (Do and package sim always report the
// cause with that event). That includes a call whose context was done
// before it began, which logs that one record, with attempts=0.
//
// Each record is made with the caller's context (slog.Logger.LogAttrs), so
// a handler that reads a trace or request ID from the context puts it on
// the records of the call.
//
// Like [Stats], a Logger reads nothing but the steps it is told: it takes
// every fact from the event and the action, and decides no rule itself.
// So the steps of a call that package sim simulates, fed to the
// CallObserver that Begin returns, log as those of the same call made by
// [Do]. A step the core answers with
// Wait (a stale event, which Do never reports) changes nothing and is not
// logged. A step may make two records: a failed attempt followed at once
// by the next one (no pause) logs Retry, then Start.
//
// The zero Logger is ready to use: it logs to slog.Default() at the
// default levels. A Logger is safe for concurrent use: it only reads its
// fields, and a *slog.Logger and a *slog.LevelVar are safe for concurrent
// use. To change a level while calls run, set it to a *slog.LevelVar. Use
// slog.Logger.WithGroup to put the attributes in a group.
//
// A record whose level the logger does not enable costs a call of its
// handler's Enabled method. A call allocates nothing: the state of each
// call (its context and number) is kept in a pool, and goes back to it
// with the call's last step.
type Logger struct {
	// Logger receives the records. Nil: slog.Default(), looked up at each
	// step, so that a later slog.SetDefault takes effect.
	Logger *slog.Logger

	// Start is the level of the record of an attempt that starts.
	// Nil: slog.LevelDebug.
	Start slog.Leveler

	// Retry is the level of the record of an attempt that failed when the
	// call goes on: it pauses, or starts the next attempt at once.
	// Nil: slog.LevelInfo.
	Retry slog.Leveler

	// Success is the level of the record of a call that succeeded.
	// Nil: slog.LevelDebug.
	Success slog.Leveler

	// Failure is the level of the record of a call that failed, unless it
	// is Canceled. Nil: slog.LevelWarn.
	Failure slog.Leveler

	// Canceled is the level of the record of a call that failed because
	// the caller's context was done. Nil: slog.LevelInfo.
	Canceled slog.Leveler
}

// The messages of the records a Logger makes.
const (
	msgStart    = "backoff: attempt started"
	msgRetry    = "backoff: attempt failed; retrying"
	msgSuccess  = "backoff: call succeeded"
	msgFailure  = "backoff: call failed"
	msgCanceled = "backoff: call canceled"
)

// Begin returns the CallObserver that logs the steps of the call c, with
// the caller's context ctx and c.ID. It is what makes a Logger
// an [Observer]. The CallObserver must not be used after the call's last
// step (its ActionFinish), when it goes back to a pool for the next call.
func (l Logger) Begin(ctx context.Context, c Call) CallObserver {
	cl := callLogs.Get().(*callLog)
	cl.l, cl.ctx, cl.call = l, ctx, c.ID
	return cl
}

// callLog is the state of one call a Logger logs.
type callLog struct {
	l    Logger
	ctx  context.Context
	call uint64
}

var callLogs = sync.Pool{New: func() any { return new(callLog) }}

// Observe logs one step of the call.
func (c *callLog) Observe(e Event, a Action) {
	if a.Kind == ActionWait {
		return // nothing happened
	}
	l, ctx := &c.l, c.ctx
	lg := l.Logger
	if lg == nil {
		lg = slog.Default()
	}
	call := slog.Uint64("call", c.call)
	switch a.Kind {
	case ActionStart:
		if a.Outcome != OutcomeNone {
			// A failed attempt, and the next one starts at once.
			l.retry(ctx, lg, call, e, 0, e.At)
		}
		lv := levelOf(l.Start, slog.LevelDebug)
		if !lg.Enabled(ctx, lv) {
			return
		}
		attrs := [5]slog.Attr{call, slog.Int("attempt", a.Attempt), slog.Duration("at", e.At)}
		n := 3
		if a.Cut != nil {
			attrs[3], attrs[4] = slog.Duration("until", a.Until), slog.Any("cut", a.Cut)
			n = 5
		}
		lg.LogAttrs(ctx, lv, msgStart, attrs[:n]...)
	case ActionPause:
		l.retry(ctx, lg, call, e, a.Until-e.At, a.Until)
	case ActionFinish:
		l.finish(ctx, lg, call, e, a)
		*c = callLog{} // drop what it refers to
		callLogs.Put(c)
	}
}

// finish logs the record of the end of a call: the step e, a.
func (l *Logger) finish(ctx context.Context, lg *slog.Logger, call slog.Attr, e Event, a Action) {
	if a.Err == nil {
		lv := levelOf(l.Success, slog.LevelDebug)
		if lg.Enabled(ctx, lv) {
			lg.LogAttrs(ctx, lv, msgSuccess, call, slog.Int("attempts", e.Attempt), slog.Duration("elapsed", e.At))
		}
		return
	}
	msg, lv := msgFailure, levelOf(l.Failure, slog.LevelWarn)
	if e.Cause != nil {
		msg, lv = msgCanceled, levelOf(l.Canceled, slog.LevelInfo)
	}
	if !lg.Enabled(ctx, lv) {
		return
	}
	var attrs [7]slog.Attr
	attrs[0] = call
	n := 1
	if a.Outcome != OutcomeNone {
		attrs[1], attrs[2] = slog.String("outcome", a.Outcome.String()), slog.Any("err", e.Err)
		n = 3
	}
	x, ok := a.Err.(*Error)
	if !ok { // not from this package's core: log it as it is
		attrs[n] = slog.Any("err", a.Err)
		lg.LogAttrs(ctx, lv, msg, attrs[:n+1]...)
		return
	}
	attrs[n] = slog.Any("reason", x.Reason)
	n++
	if x.Last != nil {
		attrs[n] = slog.Any("last", x.Last)
		n++
	}
	attrs[n], attrs[n+1] = slog.Int("attempts", x.Attempts), slog.Duration("elapsed", x.Elapsed)
	lg.LogAttrs(ctx, lv, msg, attrs[:n+2]...)
}

// retry logs the Retry record of the attempt e ended, which a pause of
// length pause, ending at until, follows.
func (l *Logger) retry(ctx context.Context, lg *slog.Logger, call slog.Attr, e Event, pause, until time.Duration) {
	lv := levelOf(l.Retry, slog.LevelInfo)
	if !lg.Enabled(ctx, lv) {
		return
	}
	lg.LogAttrs(ctx, lv, msgRetry,
		call,
		slog.Int("attempt", e.Attempt),
		slog.Duration("at", e.At),
		slog.Any("err", e.Err),
		slog.Duration("pause", pause),
		slog.Duration("until", until),
	)
}

// levelOf returns l's level, or def if l is nil.
func levelOf(l slog.Leveler, def slog.Level) slog.Level {
	if l == nil {
		return def
	}
	return l.Level()
}
