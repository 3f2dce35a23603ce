package backoff

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The sentinel errors. An [Error]'s Reason is one of ErrMaxTries,
// ErrNotRetryable, ErrGaveUp, ErrDeadline and ErrBudgetExhausted, or the
// cause of the caller's context (see [context.Cause]). Match them with
// [errors.Is].
var (
	// ErrAttemptTimeout is the failure of an attempt that ran past
	// Policy.AttemptTimeout (an Error's Last, never its Reason). It is
	// always retried (as aiomisc retries its TimeoutError) and it matches
	// context.DeadlineExceeded. It is also the cause (context.Cause) of an
	// attempt context that timed out.
	ErrAttemptTimeout error = &timeoutError{"backoff: attempt timed out"}

	// ErrDeadline is the Reason when Policy.Deadline ended the call: it
	// expired during an attempt, or the next pause would have reached it.
	// It matches context.DeadlineExceeded, and it is the cause of an
	// attempt context cut short by the deadline.
	ErrDeadline error = &timeoutError{"backoff: deadline exceeded"}

	// ErrMaxTries is the Reason when the last of Policy.MaxTries attempts failed.
	ErrMaxTries = errors.New("backoff: max tries reached")

	// ErrNotRetryable is the Reason when an attempt failed with an error
	// that Policy.RetryIf does not retry.
	ErrNotRetryable = errors.New("backoff: error not retryable")

	// ErrGaveUp is the Reason when Policy.GiveUp returned true.
	ErrGaveUp = errors.New("backoff: gave up")

	// ErrBudgetExhausted is the Reason when Policy.Budget refused a
	// retry: the calls that share it have spent their share of retries.
	// Error.Last is the failure that was not retried.
	ErrBudgetExhausted = errors.New("backoff: retry budget exhausted")

	// ErrInvalidPolicy is matched by every error of [Policy.Validate] (it
	// is returned before any attempt, never as an Error's Reason); the
	// error itself names the field and the value.
	ErrInvalidPolicy = errors.New("backoff: invalid policy")
)

// errNilFunc is returned when the operation is nil: a clear error instead
// of a nil-pointer panic deep in the retry loop.
var errNilFunc = errors.New("backoff: the operation is a nil func")

// timeoutError is a time limit that ran out. Like context.DeadlineExceeded
// it reports Timeout() == true, and it wraps DeadlineExceeded so that
// errors.Is(err, context.DeadlineExceeded) holds for it.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Unwrap() error   { return context.DeadlineExceeded }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// Error is the error [Do], [Run] and the functions made by [Wrap] return
// when a call ends without success. It is always returned as a *Error.
//
// It says both why retrying stopped (Reason) and what went wrong last
// (Last): errors.Is and errors.As look at Reason first, then Last. So
// errors.Is(err, backoff.ErrMaxTries) and errors.Is(err, io.EOF) both hold
// for a call whose last attempt returned io.EOF and that ran out of tries.
//
// One consequence: errors.Is(err, context.DeadlineExceeded) holds for any
// time limit, the policy's Deadline, the caller's deadline, or an attempt
// timeout as Last (ErrAttemptTimeout matches it too), even when the call
// ended because it ran out of tries. To tell them apart, ask the Reason:
//
//	var e *backoff.Error
//	switch {
//	case !errors.As(err, &e):
//		// not a retried call's failure (an invalid policy, say)
//	case errors.Is(e.Reason, backoff.ErrDeadline):
//		// the policy's Deadline passed, or the next pause would have passed it
//	case errors.Is(e.Reason, context.DeadlineExceeded):
//		// the caller's context deadline, likewise
//	case errors.Is(e.Reason, backoff.ErrMaxTries):
//		// out of tries; e.Last says how the last one failed (ErrAttemptTimeout, say)
//	}
//
// Its message says which limit ended the call, and how:
//
//	backoff: max tries reached after 3 attempts in 1.2s: connection refused
//	backoff: deadline exceeded: the policy's deadline (2s) passed after 4 attempts in 2s: attempt timed out
//	backoff: deadline exceeded: the next pause (500ms) would pass the policy's deadline (2s), after 4 attempts in 1.6s: busy
//	backoff: context deadline exceeded: the next pause (1s) would pass the caller's deadline (1.5s), after 2 attempts in 700ms: busy
//	backoff: context canceled: the caller's context is done, after 2 attempts in 300ms: busy
//	backoff: context canceled: the caller's context was done before the first attempt
//
// The times in the message are rounded to three digits (1.6s); the fields
// are exact. An Error also has a Timeout method, for code written for
// net/http's errors.
type Error struct {
	// Reason says why the call ended: ErrMaxTries, ErrNotRetryable,
	// ErrGaveUp, ErrDeadline, ErrBudgetExhausted, or the cause of the
	// caller's context (context.Cause); context.DeadlineExceeded if the
	// next pause would have reached the caller's deadline (its cause is
	// not known before the context is done).
	Reason error
	// Last is the most recent attempt failure, nil if none failed. An
	// attempt cut short by the deadline or by the caller's context does not
	// replace it, because its error only echoes the cut. After an attempt
	// timeout it is ErrAttemptTimeout. After GiveUp it is the very error
	// GiveUp saw.
	Last error
	// Attempts is the number of attempts started.
	Attempts int
	// Elapsed is the time from the start of the call to its end, measured
	// on the policy's clock.
	Elapsed time.Duration

	end ending // what ended the call, for the message
}

// An ending says what ended a call that failed, beyond its Reason, for
// its Error's message. The decision core sets it.
type ending struct {
	limit  time.Duration // the deadline that ended the call, since it began; 0: none
	pause  time.Duration // the next pause, which would have reached limit (rules 5, 9); 0: limit passed
	caller bool          // the caller's context ended it, or its deadline (limit) would have
}

// Error reads as "backoff: <reason> after N attempts in D: <last error>",
// with what ended the call after the reason when a deadline or the
// caller's context did (see the examples on [Error]). (The last error's
// own "backoff: " prefix, if any, is left out.)
func (e *Error) Error() string {
	var b strings.Builder
	reason := "<nil>"
	if e.Reason != nil {
		reason = e.Reason.Error()
	}
	if !strings.HasPrefix(reason, "backoff: ") {
		b.WriteString("backoff: ")
	}
	b.WriteString(reason)
	end := e.end
	switch {
	case end.caller && e.Attempts == 0 && end.pause == 0:
		b.WriteString(": the caller's context was done before the first attempt")
		return b.String()
	case end.pause > 0:
		b.WriteString(": the next pause (")
		b.WriteString(round(end.pause).String())
		b.WriteString(") would pass the ")
		b.WriteString(map[bool]string{false: "policy's", true: "caller's"}[end.caller])
		b.WriteString(" deadline (")
		b.WriteString(round(end.limit).String())
		b.WriteString("),")
	case end.caller:
		b.WriteString(": the caller's context is done,")
	case end.limit > 0:
		b.WriteString(": the policy's deadline (")
		b.WriteString(round(end.limit).String())
		b.WriteString(") passed")
	}
	b.WriteString(" after ")
	b.WriteString(strconv.Itoa(e.Attempts))
	if e.Attempts == 1 {
		b.WriteString(" attempt in ")
	} else {
		b.WriteString(" attempts in ")
	}
	b.WriteString(round(e.Elapsed).String())
	if e.Last != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Last.Error(), "backoff: "))
	}
	return b.String()
}

// round rounds d to three significant digits (601.87137ms to 602ms), as a
// person reads a log; a d under a microsecond is left as it is.
func round(d time.Duration) time.Duration {
	unit := time.Duration(1)
	for d/unit >= 1000 {
		unit *= 10
	}
	return d.Round(unit)
}

// Unwrap returns Reason and Last, leaving out a nil one, so that
// errors.Is and errors.As reach both, Reason first.
func (e *Error) Unwrap() []error {
	switch {
	case e.Last == nil:
		return []error{e.Reason}
	case e.Reason == nil:
		return []error{e.Last}
	}
	return []error{e.Reason, e.Last}
}

// Timeout reports whether the call ended because a time limit ran out, as
// net.Error's Timeout does, so that code written for net/http's errors
// (os.IsTimeout, url.Error's Timeout, a net.Error type assertion) reads a
// retried call's failure the same way. It is true when a deadline ended
// the call (Reason matches context.DeadlineExceeded: ErrDeadline, or the
// caller's context deadline), and when the call stopped retrying (on
// MaxTries, GiveUp or the Budget) after an attempt that timed out (Last is
// ErrAttemptTimeout). It is false for every other ending: an error not
// retried, a cancel, or a retried error that is no timeout.
func (e *Error) Timeout() bool {
	switch {
	case errors.Is(e.Reason, context.DeadlineExceeded):
		return true
	case e.Reason == ErrMaxTries || e.Reason == ErrGaveUp || e.Reason == ErrBudgetExhausted:
		return errors.Is(e.Last, ErrAttemptTimeout)
	}
	return false
}
