package backoffhttp_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"syscall"
	"testing"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffhttp"
)

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
		{"an error that says it is no timeout", notTimeoutErr{}, false},
		{"a read that failed otherwise", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("tls: bad record MAC")}, false},
		{"attempt timeout", backoff.ErrAttemptTimeout, true},
		{"canceled", context.Canceled, false},
		{"certificate", &x509.UnknownAuthorityError{}, false},
		// An upload cut off by a reset: net/http's write finds the
		// connection it has closed after reading the reset.
		{"closed under an upload", &net.OpError{Op: "readfrom", Net: "tcp", Err: &net.OpError{Op: "write", Net: "tcp", Err: net.ErrClosed}}, true},
		{"server closed idle", errors.New("http: server closed idle connection"), true},
		// Responses cut short, as net/http reports them (see
		// TestResponseCutAtEveryByte), and malformed ones that were not.
		{"status line cut", broken(errors.New(`malformed HTTP response "HTTP/1."`)), true},
		{"status line cut before the space", broken(errors.New(`malformed HTTP response "HTTP/1.1"`)), true},
		{"status line of another protocol", broken(errors.New(`malformed HTTP response "\x15\x03\x01\x00\x02\x02"`)), false},
		{"status line too long for a version", broken(errors.New(`malformed HTTP response "HTTP/1.1x"`)), false},
		{"status code cut", broken(errors.New(`malformed HTTP status code "50"`)), true},
		{"status code empty", broken(errors.New(`malformed HTTP status code ""`)), true},
		{"status code whole", broken(errors.New(`malformed HTTP status code "500"`)), false},
		{"status code not a number", broken(errors.New(`malformed HTTP status code "abc"`)), false},
		{"header name cut", broken(textproto.ProtocolError(`malformed MIME header: missing colon: "Content-Ty"`)), true},
		{"end of header cut", broken(textproto.ProtocolError(`malformed MIME header: missing colon: "\r"`)), true},
		{"header line without its LF", broken(textproto.ProtocolError(`malformed MIME header line: "Content-Type: text/plain\r"`)), true},
		{"header name not a token", broken(textproto.ProtocolError(`malformed MIME header: missing colon: "no colon here"`)), false},
		{"header line malformed", broken(textproto.ProtocolError(`malformed MIME header line: "Bad Name: x"`)), false},
		{"headers too long", errors.New("net/http: server response headers exceeded 1048576 bytes; aborted"), false},
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

// broken wraps err as net/http wraps a failure to read a response on a
// connection it then closes.
func broken(err error) error {
	return fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", err)
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "timeout awaiting response headers" }
func (timeoutErr) Timeout() bool { return true }

type notTimeoutErr struct{}

func (notTimeoutErr) Error() string { return "tls: handshake failure" }
func (notTimeoutErr) Timeout() bool { return false }
