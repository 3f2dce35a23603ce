package backoffhttp_test

// Request bodies: what each attempt sends, for each kind of body.

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffhttp"
)

var (
	errDial  = &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	errReset = &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	errDNS   = &net.DNSError{Err: "server misbehaving", Name: "fake.test", IsTemporary: true} // as a DialContext of one's own may return it
	busy     = answer{code: 503, body: "busy"}
	ok       = answer{code: 200, body: "ok"}
)

// The body each attempt reads, for each kind of body: the fake reads
// every attempt's body to its end, so a retry that resent the consumed
// original instead of a replay would send nothing. (Over a real
// keep-alive connection net/http rewinds a body with GetBody itself,
// which would hide that.)
func TestRequestBodies(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "body")
	if err := os.WriteFile(path, []byte("skip:payload"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		method string
		key    bool // an Idempotency-Key header
		body   func(t *testing.T) io.Reader
		script []answer
		want   []string // what each attempt sent
	}{
		{"GetBody: replayed", http.MethodPost, true, str, []answer{busy, busy, ok}, []string{"payload", "payload", "payload"}},
		{"http.NoBody: resent", http.MethodPut, false, func(*testing.T) io.Reader { return http.NoBody }, []answer{busy, busy, ok}, []string{"", "", ""}},
		{"nil: resent", http.MethodPut, false, func(*testing.T) io.Reader { return nil }, []answer{busy, ok}, []string{"", ""}},
		{"a file, sought back to where it was", http.MethodPut, false, func(t *testing.T) io.Reader {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			io.ReadFull(f, make([]byte, len("skip:")))
			return f
		}, []answer{busy, busy, ok}, []string{"payload", "payload", "payload"}},
		{"not replayable: sent once", http.MethodPut, false, opaqueStr, []answer{busy, ok}, []string{"payload"}},
		{"not replayable, read, then reset: not resent", http.MethodPut, false, opaqueStr, []answer{{cut: errReset}, ok}, []string{"payload"}},
		{"not replayable, never read (dial failed): resent", http.MethodPut, false, opaqueStr, []answer{{err: errDial}, {err: errDial}, ok}, []string{"", "", "payload"}},
		{"POST, 503: not resent", http.MethodPost, false, str, []answer{busy, ok}, []string{"payload"}},
		{"POST, reset: not resent", http.MethodPost, false, str, []answer{{cut: errReset}, ok}, []string{"payload"}},
		{"POST, dial failed: resent", http.MethodPost, false, str, []answer{{err: errDial}, ok}, []string{"", "payload"}},
		{"POST not replayable, dial failed: resent", http.MethodPost, false, opaqueStr, []answer{{err: errDial}, ok}, []string{"", "payload"}},
		{"POST not replayable, a DNS lookup failed: resent", http.MethodPost, false, opaqueStr, []answer{{err: errDNS}, ok}, []string{"", "payload"}},
		// A Base that reads the body, then reports a failure to dial,
		// may have sent it: a body that cannot be replayed is not resent.
		{"not replayable, read, then a dial error: not resent", http.MethodPut, false, opaqueStr, []answer{{cut: errDial}, ok}, []string{"payload"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				body := tc.body(t)
				req, err := http.NewRequestWithContext(t.Context(), tc.method, "http://fake.test/", body)
				if err != nil {
					t.Fatal(err)
				}
				if tc.key {
					req.Header.Set("Idempotency-Key", "k-1")
				}
				f := newFake(tc.script...)
				resp, _, _, err := roundTripReq(t, f, backoff.Policy{MaxTries: 5, RetryIf: backoff.AnyError}, req)
				// A call that ends on a failure it did not retry ends with
				// that error; every other one with a response.
				last := tc.script[len(tc.want)-1]
				if (err != nil) != (last.code == 0) || err != nil && !errors.Is(err, last.err) && !errors.Is(err, last.cut) {
					t.Fatalf("RoundTrip: %v, %v; want the outcome of attempt %d, %v", resp, err, len(tc.want), last)
				}
				if resp != nil {
					resp.Body.Close()
				}
				if !equal(f.sent, tc.want) {
					t.Errorf("the attempts sent %q; want %q", f.sent, tc.want)
				}
				if f, isFile := body.(*os.File); isFile {
					if _, err := f.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
						t.Errorf("the file is still open after the call (a read gives %v)", err)
					}
				}
			})
		})
	}
}

func str(*testing.T) io.Reader       { return strings.NewReader("payload") }
func opaqueStr(*testing.T) io.Reader { return opaque{strings.NewReader("payload")} }

// roundTripperFunc adapts a function to an http.RoundTripper.
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// countingBody is a request body that is an io.Seeker and counts its
// closes.
type countingBody struct {
	*strings.Reader
	mu     sync.Mutex
	closes int
}

func (b *countingBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closes++
	return nil
}

func (b *countingBody) closed() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closes
}

// A body that is sought back for each attempt is taken away from the
// earlier ones (a Base may still be writing an earlier attempt's request
// when the next starts): they read an error from then on. The body itself
// is closed once, when the call is over and the last attempt's Base has
// closed what it was given, and not before.
func TestSoughtBodyBelongsToTheLatestAttempt(t *testing.T) {
	body := &countingBody{Reader: strings.NewReader("payload")}
	var given []io.ReadCloser
	base := roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		given = append(given, req.Body) // read and closed later
		code := 503
		if len(given) == 2 {
			code = 200
		}
		return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	})
	req, _ := http.NewRequest(http.MethodPut, "http://fake.test/", body)
	tr := &backoffhttp.Transport{Base: base, Policy: backoff.Policy{MaxTries: 2, RetryIf: backoff.AnyError}}
	resp, err := tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 || len(given) != 2 {
		t.Fatalf("got %v, %v after %d attempts; want 200 after 2", resp, err, len(given))
	}
	if _, err := given[0].Read(make([]byte, 1)); err == nil {
		t.Error("attempt 1's body is still readable once attempt 2 has it")
	}
	if b, err := io.ReadAll(given[1]); err != nil || string(b) != "payload" {
		t.Errorf("attempt 2's body reads %q, %v; want \"payload\"", b, err)
	}
	given[0].Close()
	if n := body.closed(); n != 0 {
		t.Fatalf("the body was closed %d times while the last attempt's Base holds it; want 0", n)
	}
	given[1].Close()
	given[1].Close()
	if n := body.closed(); n != 1 {
		t.Errorf("the body was closed %d times; want 1", n)
	}
}

// A body with GetBody is given as it is to the first attempt, whose Base
// closes it: the Transport does not close it again (net/http may still be
// writing it when RoundTrip returns), nor call GetBody for that attempt.
func TestGetBodyClosedOnce(t *testing.T) {
	body := &countingBody{Reader: strings.NewReader("payload")}
	req, _ := http.NewRequest(http.MethodPut, "http://fake.test/", body)
	getBodies := 0
	req.GetBody = func() (io.ReadCloser, error) {
		getBodies++
		return io.NopCloser(strings.NewReader("payload")), nil
	}
	var sent []string
	base := roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		sent = append(sent, string(b))
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	})
	tr := &backoffhttp.Transport{Base: base, Policy: backoff.Policy{MaxTries: 2, RetryIf: backoff.AnyError}}
	resp, err := tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 || !equal(sent, []string{"payload"}) {
		t.Fatalf("got %v, %v, sent %q; want 200, one \"payload\"", resp, err, sent)
	}
	if n := body.closed(); n != 1 || getBodies != 0 {
		t.Errorf("the body was closed %d times, GetBody called %d times; want 1 and 0", n, getBodies)
	}
}
