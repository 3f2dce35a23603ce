package backoffhttp_test

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/timebound/backoff/backoffhttp"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 7 ", 7 * time.Second, true},
		{"007", 7 * time.Second, true},
		{"9223372036", 9223372036 * time.Second, true},
		{"9223372037", math.MaxInt64, true}, // past what a Duration holds: saturated
		{"99999999999999999999999", math.MaxInt64, true},
		{"Sun, 29 Nov 2026 12:00:10 GMT", 10 * time.Second, true},  // IMF-fixdate
		{"Sunday, 29-Nov-26 12:00:10 GMT", 10 * time.Second, true}, // RFC 850
		{"Sun Nov 29 12:00:10 2026", 10 * time.Second, true},       // asctime
		{"Sun, 29 Nov 2026 11:59:00 GMT", 0, true},                 // past: now
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"+3", 0, false},
		{"soon", 0, false},
		{"2026-11-29T12:00:10Z", 0, false},
	} {
		d, ok := backoffhttp.ParseRetryAfter(tc.value, now)
		if d != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.value, d, ok, tc.want, tc.ok)
		}
	}
}

func TestResponseDelay(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		name   string
		code   int
		header http.Header
		want   time.Duration
	}{
		{"none", 503, nil, 0},
		{"Retry-After seconds", 503, http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"Retry-After date", 503, http.Header{"Retry-After": {date(90 * time.Second)}}, 90 * time.Second},
		{"Retry-After date, from the Date header", 503, http.Header{"Retry-After": {date(90 * time.Second)}, "Date": {date(60 * time.Second)}}, 30 * time.Second},
		{"Retry-After garbage", 503, http.Header{"Retry-After": {"soon"}}, 0},
		{"retry-after-ms", 429, http.Header{"Retry-After-Ms": {"1500"}}, 1500 * time.Millisecond},
		{"x-ms-retry-after-ms", 503, http.Header{"X-Ms-Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{"milliseconds before Retry-After", 429, http.Header{"Retry-After": {"2"}, "Retry-After-Ms": {"1500"}}, 1500 * time.Millisecond},
		{"bad milliseconds: Retry-After", 429, http.Header{"Retry-After": {"2"}, "Retry-After-Ms": {"1.5"}}, 2 * time.Second},
		{"milliseconds, huge", 429, http.Header{"Retry-After-Ms": {"99999999999999999999999"}}, math.MaxInt64},
		{"RateLimit-Reset on a 429", 429, http.Header{"Ratelimit-Reset": {"12"}}, 12 * time.Second},
		{"RateLimit-Reset on a 503: nothing", 503, http.Header{"Ratelimit-Reset": {"12"}}, 0},
		{"Retry-After before RateLimit-Reset", 429, http.Header{"Ratelimit-Reset": {"12"}, "Retry-After": {"3"}}, 3 * time.Second},
		{"X-RateLimit-Reset: not read", 429, http.Header{"X-Ratelimit-Reset": {"1764417600"}}, 0},
	} {
		resp := &http.Response{StatusCode: tc.code, Header: tc.header}
		if resp.Header == nil {
			resp.Header = http.Header{}
		}
		if got := backoffhttp.ResponseDelay(resp, now); got != tc.want {
			t.Errorf("%s: ResponseDelay = %v; want %v", tc.name, got, tc.want)
		}
	}
}
