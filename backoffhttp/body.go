package backoffhttp

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// body is the body of a response that may reach the caller. Its request's
// context stays alive, under the attempt's time limit, until the body is
// read to its end or closed; then it is released, as http.Client releases
// its own timeout's timer.
type body struct {
	rc     io.ReadCloser
	cancel context.CancelCauseFunc // cancels the request's context
	stop   func() bool             // stops the time limit's timer; nil if none
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		// net/http has put the connection back in its pool before it
		// reports EOF, so the context can go now.
		b.release()
	}
	return n, err
}

func (b *body) Close() error {
	err := b.rc.Close()
	b.release()
	return err
}

// release stops the timer and cancels the context. Both are idempotent and
// safe for concurrent use, as Read and Close may race (net/http allows a
// Close from another goroutine to abort a Read).
func (b *body) release() {
	if b.stop != nil {
		b.stop()
	}
	b.cancel(nil)
}

// rwBody is a body that is also the connection (a 101 Switching Protocols
// response): it keeps the Write method that callers look for.
type rwBody struct {
	*body
	w io.Writer
}

func (b *rwBody) Write(p []byte) (int, error) { return b.w.Write(p) }

// drain reads the body of resp, which is about to be retried, up to
// DrainLimit. A body that ends within it is closed at once, so its
// connection is free for the next attempt, and resp keeps a copy of it in
// memory, in case it is the response the caller gets after all. A longer
// (or broken) body is left open, behind what was read, to be closed when
// the next attempt starts or read on by the caller.
func drain(resp *http.Response) {
	if resp.Body == http.NoBody {
		return
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, DrainLimit+1))
	if err == nil && n <= DrainLimit {
		resp.Body.Close()
		resp.Body = io.NopCloser(&buf)
		return
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(&buf, resp.Body), resp.Body}
}
