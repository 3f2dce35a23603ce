package backoffhttp

import (
	"io"
	"net/http"
	"time"

	"github.com/timebound/backoff"
)

// Response bodies: the one the caller gets keeps its attempt's context
// alive until it is done with; one discarded for a retry is drained.

// body is the body of a response whose attempt had a time limit. The
// attempt's context stays alive, and its time limit armed, until the body
// is read to its end or closed; then it is released, as http.Client
// releases its own timeout's timer.
type body struct {
	rc     io.ReadCloser
	cancel func() // the attempt context's, taken over from the executor
}

// keep returns rc wrapped in b, so that closing it, or reading it to its
// end, calls cancel.
func keep(b *body, rc io.ReadCloser, cancel func()) io.ReadCloser {
	if rc == http.NoBody { // nothing to read: nothing to keep alive
		cancel()
		return rc
	}
	*b = body{rc: rc, cancel: cancel}
	if w, ok := rc.(io.Writer); ok { // 101 Switching Protocols: the body is the connection
		return &rwBody{b, w}
	}
	return b
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		// net/http has put the connection back in its pool before it
		// reports EOF, so the context can go now.
		b.cancel()
	}
	return n, err
}

// Close closes the body and releases its context. Both are idempotent
// and safe for concurrent use, as Read and Close may race (net/http allows
// a Close from another goroutine to abort a Read).
func (b *body) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}

// rwBody is a body that is also the connection (a 101 Switching Protocols
// response): it keeps the Write method that callers look for.
type rwBody struct {
	*body
	w io.Writer
}

func (b *rwBody) Write(p []byte) (int, error) { return b.w.Write(p) }

// drain reads rc, the body of a response discarded for a retry whose
// Content-Length is n (-1: unknown), to its end, so that its connection
// goes back to the pool, unless it is longer than DrainLimit or has not
// ended after DrainTimeout on clock (nil: the system clock); then closes
// it, which closes the connection of a body not read to its end.
func drain(rc io.ReadCloser, n int64, clock backoff.Clock) {
	if rc == http.NoBody || n > DrainLimit {
		rc.Close()
		return
	}
	// Closing the body from the timer aborts a Read that stalls.
	var t interface{ Stop() bool }
	if clock == nil {
		t = time.AfterFunc(DrainTimeout, func() { rc.Close() })
	} else {
		t = clock.AfterFunc(DrainTimeout, func() { rc.Close() })
	}
	// One byte more than the limit: a body of exactly DrainLimit bytes
	// ends within it, and some bodies report EOF only on the next Read.
	io.CopyN(io.Discard, rc, DrainLimit+1)
	t.Stop()
	rc.Close()
}
