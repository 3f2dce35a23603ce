package backoffhttp_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffhttp"
)

// A step is one call of an Observer.
type step struct {
	e backoff.Event
	a backoff.Action
}

// recorder is an Observer that keeps every step, for tests to look at.
type recorder struct {
	mu    sync.Mutex
	steps []step
}

func (r *recorder) Begin(context.Context, backoff.Call) backoff.CallObserver { return r }

func (r *recorder) Observe(e backoff.Event, a backoff.Action) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, step{e, a})
}

func (r *recorder) all() []step {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.steps)
}

// attempts returns the number of attempts started.
func (r *recorder) attempts() int {
	n := 0
	for _, s := range r.all() {
		if s.a.Kind == backoff.ActionStart {
			n++
		}
	}
	return n
}

// ended returns the errors the attempts ended with, in order, and what
// the core made of each.
func (r *recorder) ended() (errs []error, outcomes []backoff.Outcome) {
	for _, s := range r.all() {
		if s.a.Outcome != backoff.OutcomeNone {
			errs = append(errs, s.e.Err)
			outcomes = append(outcomes, s.a.Outcome)
		}
	}
	return errs, outcomes
}

// statuses returns the status code each attempt ended with, as the
// observer saw it: the code of its *StatusError, 0 for a nil error (a
// success) and -1 for any other error.
func (r *recorder) statuses() []int {
	errs, _ := r.ended()
	codes := make([]int, len(errs))
	for i, err := range errs {
		if se, ok := errors.AsType[*backoffhttp.StatusError](err); ok {
			codes[i] = se.StatusCode
		} else if err != nil {
			codes[i] = -1
		}
	}
	return codes
}

// finish returns the call's Finish action.
func (r *recorder) finish(t *testing.T) backoff.Action {
	t.Helper()
	steps := r.all()
	if len(steps) == 0 || steps[len(steps)-1].a.Kind != backoff.ActionFinish {
		t.Fatalf("the call did not finish: %v", steps)
	}
	return steps[len(steps)-1].a
}

// client returns a client whose Transport runs p, with a recorder as its
// observer, over a transport of its own (so that tests share no pool).
func client(t *testing.T, p backoff.Policy, configure ...func(*backoffhttp.Transport)) (*http.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	p.Observer = rec
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	tr := &backoffhttp.Transport{Base: base, Policy: p}
	for _, f := range configure {
		f(tr)
	}
	return &http.Client{Transport: tr}, rec
}

// retry is the policy most network tests use: n attempts, every transient
// failure retried, a short pause, generous limits that nothing should hit.
func retry(n int) backoff.Policy {
	return backoff.Policy{MaxTries: n, Pause: time.Millisecond, RetryIf: backoff.AnyError}
}
