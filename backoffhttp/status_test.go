package backoffhttp_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/timebound/backoff"
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

func TestIdempotent(t *testing.T) {
	for _, tc := range []struct {
		method string
		header http.Header
		want   bool
	}{
		{"", nil, true},
		{http.MethodGet, nil, true},
		{http.MethodHead, nil, true},
		{http.MethodOptions, nil, true},
		{http.MethodTrace, nil, true},
		{http.MethodPut, nil, true},
		{http.MethodDelete, nil, true},
		{http.MethodPost, nil, false},
		{http.MethodPatch, nil, false},
		{http.MethodConnect, nil, false},
		{http.MethodPost, http.Header{"Idempotency-Key": {"k"}}, true},
		{http.MethodPatch, http.Header{"X-Idempotency-Key": {"k"}}, true},
		{http.MethodPost, http.Header{"Idempotency-Key": nil}, true}, // marked, not sent
		{http.MethodPost, http.Header{"Idempotency": {"k"}}, false},
	} {
		req := &http.Request{Method: tc.method, Header: tc.header}
		if got := backoffhttp.Idempotent(req); got != tc.want {
			t.Errorf("Idempotent(%q, %v) = %v; want %v", tc.method, tc.header, got, tc.want)
		}
	}
}

func TestTransient(t *testing.T) {
	for code := 100; code < 600; code++ {
		want := code == 408 || code == 429 || code == 502 || code == 503 || code == 504
		if got := backoffhttp.Transient(&http.Response{StatusCode: code}, nil); got != want {
			t.Errorf("Transient(status %d) = %v; want %v", code, got, want)
		}
	}
	dial := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	read := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: err}}
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused", dial(&os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}), true},
		{"reset", read(syscall.ECONNRESET), true},
		{"aborted", read(syscall.ECONNABORTED), true},
		{"broken pipe", &net.OpError{Op: "write", Err: syscall.EPIPE}, true},
		{"EOF", io.EOF, true},
		{"wrapped EOF", fmt.Errorf("net/http: transport: %w", io.EOF), true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"dial failure", dial(errors.New("network is unreachable")), true},
		{"no such host", dial(&net.DNSError{Err: "no such host", Name: "nope.test", IsNotFound: true}), false},
		{"DNS timeout", dial(&net.DNSError{Err: "i/o timeout", Name: "slow.test", IsTimeout: true}), true},
		{"DNS temporary", &net.DNSError{Err: "server misbehaving", IsTemporary: true}, true},
		{"a timeout", timeoutErr{}, true},
		{"attempt timeout", backoff.ErrAttemptTimeout, true},
		{"canceled", context.Canceled, false},
		{"certificate", &x509.UnknownAuthorityError{}, false},
		{"other", errors.New("malformed HTTP response"), false},
	} {
		if got := backoffhttp.Transient(nil, tc.err); got != tc.want {
			t.Errorf("Transient(%s: %v) = %v; want %v", tc.name, tc.err, got, tc.want)
		}
	}
	if backoffhttp.Transient(nil, nil) {
		t.Error("Transient(nil, nil) = true; want false")
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "timeout awaiting response headers" }
func (timeoutErr) Timeout() bool { return true }

func TestStatusErrorZeroValue(t *testing.T) {
	var e backoffhttp.StatusError
	if e.Error() != "backoffhttp: 0" || e.RetryAfter() != 0 {
		t.Errorf("the zero StatusError reads %q with hint %v", e.Error(), e.RetryAfter())
	}
}
