package backoffhttp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// Request bodies: how each attempt of a call gets the request's body (the
// package documentation lists what happens to each kind).

// A replay gives each attempt of a call the request's body. It is used by
// the call's goroutine; what it lends (seek and once) may be read and
// closed by the Base's goroutines.
type replay struct {
	req  *http.Request
	kind bodyKind
	sent bool    // getBody: the request's own Body has been given out
	l    *lender // seek and once
}

// A bodyKind says how a request's body is replayed.
type bodyKind uint8

const (
	noBody   bodyKind = iota // nil or http.NoBody: nothing to replay
	getBody                  // through Request.GetBody
	seekBody                 // an io.Seeker, sought back to its start
	onceBody                 // anything else: sent again only if never read
)

// init readies r for req. An io.Seeker body is asked where it is now, to
// be sought back there for a retry; one that cannot tell is sent once.
func (r *replay) init(req *http.Request) {
	r.req = req
	switch {
	case req.Body == nil || req.Body == http.NoBody:
		r.kind = noBody
	case req.GetBody != nil:
		r.kind = getBody
	default:
		r.kind, r.l = onceBody, &lender{rc: req.Body}
		if s, ok := req.Body.(io.Seeker); ok {
			if pos, err := s.Seek(0, io.SeekCurrent); err == nil {
				r.kind, r.l.seeker, r.l.start = seekBody, s, pos
			}
		}
	}
}

// replayable reports whether every attempt can be given the whole body.
func (r *replay) replayable() bool { return r.kind != onceBody }

// reusable reports whether the next attempt can be given the whole body:
// it can be replayed, or it has not been read.
func (r *replay) reusable() bool { return r.kind != onceBody || !r.l.read.Load() }

// next returns the body of the next attempt.
func (r *replay) next() (io.ReadCloser, error) {
	switch r.kind {
	case noBody:
		return r.req.Body, nil
	case getBody:
		if !r.sent {
			r.sent = true
			return r.req.Body, nil
		}
		b, err := r.req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("backoffhttp: replaying the request body: %w", err)
		}
		return b, nil
	}
	return r.l.lend()
}

// end is told that the call is over: it closes the request's body, now or
// once the last attempt is done with it, unless the Base has it.
func (r *replay) end() {
	switch r.kind {
	case getBody:
		if !r.sent { // no attempt was made: the body is still ours to close
			r.req.Body.Close()
		}
	case seekBody, onceBody:
		r.l.end()
	}
}

// errReplaced is what an attempt reads from a request body that a later
// attempt has been given.
var errReplaced = errors.New("backoffhttp: the request body was given to a later attempt")

// A lender lends the request's body to each attempt in turn, as a loan the
// Base may read and close: a Base closes what it is given, but the body
// itself must stay open for the next attempt, and be closed once the call
// is over and the last attempt is done with it.
type lender struct {
	rc     io.ReadCloser
	seeker io.Seeker   // nil: the body cannot be sought back
	start  int64       // where the body starts, for seeker
	read   atomic.Bool // a loan has been read from
	reads  sync.Mutex  // held by a seeker's loan while it reads: a seek waits for it

	mu     sync.Mutex // guards what follows
	loan   *loan      // the latest lent, nil before the first
	over   bool       // the call is over: close the body once the latest loan is
	closed bool
}

// A loan is the request's body as lent to one attempt.
type loan struct {
	l        *lender
	revoked  atomic.Bool // a later attempt has the body
	returned bool        // the Base closed it (guarded by l.mu)
}

// lend returns the body for the next attempt. A later attempt takes the
// body away from the earlier ones: their loans read errReplaced from then
// on, and a seeker is sought back to its start once no earlier loan is
// reading it (so a Base that still writes an earlier attempt's request
// cannot race the next one).
func (l *lender) lend() (io.ReadCloser, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev := l.loan; prev != nil {
		prev.revoked.Store(true)
		if l.seeker == nil {
			if l.read.Load() { // the call was told it cannot be retried: cannot happen
				return nil, errors.New("backoffhttp: the request body cannot be replayed")
			}
		} else {
			l.reads.Lock()
			_, err := l.seeker.Seek(l.start, io.SeekStart)
			l.reads.Unlock()
			if err != nil {
				return nil, fmt.Errorf("backoffhttp: seeking the request body back: %w", err)
			}
		}
	}
	l.loan = &loan{l: l}
	return l.loan, nil
}

func (o *loan) Read(p []byte) (int, error) {
	l := o.l
	if l.seeker != nil {
		l.reads.Lock()
		defer l.reads.Unlock()
	}
	if o.revoked.Load() {
		return 0, errReplaced
	}
	l.read.Store(true)
	return l.rc.Read(p)
}

// Close returns the loan; the body itself is closed if the call is over
// and this is the latest loan.
func (o *loan) Close() error {
	l := o.l
	l.mu.Lock()
	defer l.mu.Unlock()
	o.returned = true
	if l.over && o == l.loan {
		return l.close()
	}
	return nil
}

// end closes the body now if no attempt has it, else marks it to be closed
// when the latest attempt's loan is.
func (l *lender) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.over = true
	if l.loan == nil || l.loan.returned {
		l.close()
	}
}

// close closes the body, once. l.mu is held.
func (l *lender) close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	return l.rc.Close()
}
