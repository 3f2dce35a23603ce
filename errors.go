package backoff

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Sentinel reasons. An [Error]'s Reason is one of these, or the cause of the
// caller's context (see [context.Cause]). Match them with [errors.Is].
var (
	// ErrAttemptTimeout is the outcome of an attempt that ran past
	// Policy.AttemptTimeout. It is always retried (as aiomisc retries its
	// TimeoutError) and it matches context.DeadlineExceeded. It is also the
	// cause (context.Cause) of an attempt context that timed out.
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

	// ErrInvalidPolicy is matched by every error of [Policy.Validate]; the
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
type Error struct {
	// Reason says why the call ended: ErrMaxTries, ErrNotRetryable,
	// ErrGaveUp, ErrDeadline, ErrBudgetExhausted, or context.Cause of the
	// caller's context.
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
}

// Error reads as "backoff: <reason> after N attempts in D: <last error>".
// (The last error's own "backoff: " prefix, if any, is left out.)
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
	b.WriteString(" after ")
	b.WriteString(strconv.Itoa(e.Attempts))
	if e.Attempts == 1 {
		b.WriteString(" attempt in ")
	} else {
		b.WriteString(" attempts in ")
	}
	b.WriteString(e.Elapsed.String())
	if e.Last != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Last.Error(), "backoff: "))
	}
	return b.String()
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
