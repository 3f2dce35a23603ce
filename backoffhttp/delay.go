package backoffhttp

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ResponseDelay returns the delay resp asks for before the next attempt,
// from the first of these headers that it has with a valid value, or 0:
//
//   - retry-after-ms, then x-ms-retry-after-ms: a non-negative integer of
//     milliseconds (sent by Azure and OpenAI alongside Retry-After, which
//     they make more precise);
//   - Retry-After (RFC 9110), delta-seconds or an HTTP-date (see
//     [ParseRetryAfter]). A date is measured from the response's own Date
//     header, when it has a valid one, so that a difference between the
//     server's clock and ours does not matter; else from now, when the
//     response arrived;
//   - on a 429 Too Many Requests only, RateLimit-Reset: delta-seconds until
//     the server's quota is renewed (the IETF's RateLimit header fields).
//     On any other status it says nothing about when to retry.
//
// It reads none of the other rate-limit headers: X-RateLimit-Reset, for
// one, is seconds to wait at some servers and a Unix time at others
// (GitHub's), so no reading of it is safe for every server; a
// [Transport.DelayHint] that knows its server can read it. A delay that
// exceeds [Transport.MaxDelay] is not waited for, whatever header asked
// for it.
//
// It is the default of [Transport.DelayHint].
func ResponseDelay(resp *http.Response, now time.Time) time.Duration {
	h := resp.Header
	for _, k := range [...]string{"Retry-After-Ms", "X-Ms-Retry-After-Ms"} {
		if v := h.Get(k); v != "" {
			if ms, ok := parseUint(v); ok {
				return mulSat(ms, time.Millisecond)
			}
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if date, err := http.ParseTime(h.Get("Date")); err == nil {
			now = date
		}
		if d, ok := ParseRetryAfter(v, now); ok {
			return d
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		if v := h.Get("RateLimit-Reset"); v != "" {
			if secs, ok := parseUint(v); ok {
				return mulSat(secs, time.Second)
			}
		}
	}
	return 0
}

// ParseRetryAfter parses the value of a Retry-After header (RFC 9110,
// section 10.2.3): delta-seconds, a non-negative decimal integer, or an
// HTTP-date in any format http.ParseTime accepts, measured from now. A
// date before now gives 0; seconds beyond what a time.Duration holds give
// its maximum. ok is false for a value that is neither (a negative or
// fractional number, say), and the delay is 0 then.
func ParseRetryAfter(value string, now time.Time) (delay time.Duration, ok bool) {
	if secs, ok := parseUint(value); ok {
		return mulSat(secs, time.Second), true
	}
	t, err := http.ParseTime(strings.TrimSpace(value))
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// parseUint parses a header value that must be a non-negative decimal
// integer, between spaces; one too large for a uint64 is its maximum.
func parseUint(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return math.MaxUint64, true // more digits than any delay worth waiting for
	}
	return n, true
}

// mulSat returns n units, at most the longest time.Duration.
func mulSat(n uint64, unit time.Duration) time.Duration {
	if n > math.MaxInt64/uint64(unit) {
		return math.MaxInt64
	}
	return time.Duration(n) * unit
}
