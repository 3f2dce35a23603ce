package backoffhttp

import (
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
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
// response. Its RetryAfter method gives the delay the server asked for,
// which package backoff reads as a hint for the next pause.
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

// newStatusError returns the StatusError of resp, its Retry-After hint
// measured from the response's Date header if it has a valid one, else
// from now.
func newStatusError(resp *http.Response, now time.Time) *StatusError {
	e := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header}
	if e.Status == "" {
		e.Status = strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if date, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			now = date
		}
		e.retryAfter, _ = ParseRetryAfter(v, now)
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

// RetryAfter returns the delay the response asked for in its Retry-After
// header, or 0 if it asked for none (no header, a value that does not
// parse, or a date already past).
//
// An HTTP-date is measured from the response's own Date header, when it
// has a valid one, so that a difference between the server's clock and
// ours does not matter; else from the time the response arrived, on the
// policy's clock.
//
// Package backoff reads this method (on any error in an attempt's error
// chain) to set the next pause, where it supports delay hints. In any case
// the Transport ends the call at once, with the response, when the hint
// would end at or after Policy.Deadline.
func (e *StatusError) RetryAfter() time.Duration { return e.retryAfter }

// ParseRetryAfter parses the value of a Retry-After header (RFC 9110,
// section 10.2.3): delta-seconds, a non-negative decimal integer, or an
// HTTP-date in any format http.ParseTime accepts, measured from now. A
// date before now gives 0; seconds beyond what a time.Duration holds give
// its maximum. ok is false for a value that is neither (a negative or
// fractional number, say), and the delay is 0 then.
func ParseRetryAfter(value string, now time.Time) (delay time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if isDigits(value) {
		secs, err := strconv.ParseUint(value, 10, 64)
		if err != nil || secs > math.MaxInt64/uint64(time.Second) {
			return math.MaxInt64, true // more digits than any delay worth waiting for
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// isDigits reports whether s is all ASCII digits (and not empty).
func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Transient is the default classifier of [Transport.Classify]. It reports
// whether an attempt's outcome is worth retrying:
//
//   - a response with status 408 Request Timeout, 429 Too Many Requests,
//     502 Bad Gateway, 503 Service Unavailable or 504 Gateway Timeout;
//   - a connection that failed before a response: refused, reset, aborted
//     or a broken pipe (matched with errors.Is on the syscall errors), EOF
//     or an unexpected EOF before the response, any other failure to dial
//     (a *net.OpError whose Op is "dial") except a host that does not
//     exist, and a DNS lookup that timed out or failed temporarily;
//   - any error that reports Timeout() == true, such as net/http's timeout
//     awaiting response headers.
//
// Any other error (a TLS certificate that does not verify, a malformed
// response) and any other status (500 included: a server that fails the
// same way every time should not be asked again by default) is not.
func Transient(resp *http.Response, err error) bool {
	if err == nil {
		if resp == nil {
			return false
		}
		switch resp.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	for _, target := range [...]error{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		io.EOF, io.ErrUnexpectedEOF,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok {
		return dns.IsTimeout || dns.IsTemporary
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
		return true
	}
	if t, ok := errors.AsType[interface {
		error
		Timeout() bool
	}](err); ok && t.Timeout() {
		return true
	}
	return false
}
