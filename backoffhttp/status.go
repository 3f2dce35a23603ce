package backoffhttp

import (
	"net/http"
	"strconv"
	"time"
)

// A StatusError is what an attempt that got a response with an error
// status (400 or above, or any status the classifier calls transient)
// returns to the retry loop: the policy's RetryIf, GiveUp and Observer see
// it as the attempt's error, and a [*backoff.Error] has it as Last when
// that attempt failed last. The caller of RoundTrip gets the response
// itself when the call ends right after it (see the package
// documentation), and this error in Error.Last otherwise, so the status
// code is never lost.
//
// It carries the status and the header, not the body, which belongs to the
// response. Its RetryAfter method gives the delay the server asked for
// (see [Transport.DelayHint]), which package backoff reads as a hint for
// the next pause.
//
// A StatusError is not changed once made: it is safe for concurrent use,
// as long as nobody changes Header. The zero StatusError reads as status 0
// and has no hint.
type StatusError struct {
	// StatusCode is the response's status code, such as 503.
	StatusCode int
	// Status is the response's status line, such as "503 Service
	// Unavailable" (made from the code if the response had none).
	Status string
	// Header is the response's header (the same map, not a copy).
	Header http.Header

	retryAfter time.Duration
}

// newStatusError returns the StatusError of resp, without a hint.
func newStatusError(resp *http.Response) *StatusError {
	e := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header}
	if e.Status == "" {
		e.Status = strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	}
	return e
}

// Error reads as "backoffhttp: 503 Service Unavailable", followed by
// " (Retry-After 2s)" if the response asked for a delay.
func (e *StatusError) Error() string {
	s := "backoffhttp: " + e.Status
	if e.Status == "" {
		s += strconv.Itoa(e.StatusCode)
	}
	if e.retryAfter > 0 {
		s += " (Retry-After " + e.retryAfter.String() + ")"
	}
	return s
}

// RetryAfter returns the delay the response asked for before the next
// attempt, as [Transport.DelayHint] read it (by default [ResponseDelay]),
// or 0 if it asked for none.
//
// Package backoff reads this method (on any error in an attempt's error
// chain) to set the next pause. In any case the Transport ends the call at
// once, with the response, when the hint exceeds Transport.MaxDelay or
// would end at or after a deadline.
func (e *StatusError) RetryAfter() time.Duration { return e.retryAfter }
