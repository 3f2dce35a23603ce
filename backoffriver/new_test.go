package backoffriver_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffriver"
)

func noWork(context.Context, *river.Job[fakeArgs]) error { return nil }

// TestNewWorker_refuses: a policy a job cannot use is refused with an
// error naming the field and its value.
func TestNewWorker_refuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    backoff.Policy
		want string
	}{
		{"Rand", backoff.Policy{Jitter: backoff.FullJitter, Pause: time.Second, Rand: rand.NewPCG(1, 2)}, "Policy.Rand is *rand.PCG; want nil"},
		{"Observer", backoff.Policy{Observer: &backoff.Stats{}}, "Policy.Observer is *backoff.Stats; want nil"},
		{"invalid", backoff.Policy{MaxTries: -1}, "MaxTries is -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := backoffriver.NewWorker(tc.p, noWork)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
			if tc.name == "invalid" && !errors.Is(err, backoff.ErrInvalidPolicy) {
				t.Errorf("err = %v, want it to match ErrInvalidPolicy", err)
			}
		})
	}
	if _, err := backoffriver.NewWorker[fakeArgs](backoff.Policy{}, nil); err == nil {
		t.Error("NewWorker took a nil work func")
	}
	if _, err := backoffriver.NewWorkerFor[fakeArgs](nil, noWork); err == nil {
		t.Error("NewWorkerFor took a nil policy func")
	}
}

func TestMaxAttempts(t *testing.T) {
	for _, tc := range []struct{ tries, want int }{{0, math.MaxInt16}, {1, 1}, {25, 25}, {math.MaxInt16, math.MaxInt16}, {1 << 20, math.MaxInt16}} {
		if got := backoffriver.MaxAttempts(backoff.Policy{MaxTries: tc.tries}); got != tc.want {
			t.Errorf("MaxAttempts(MaxTries %d) = %d, want %d", tc.tries, got, tc.want)
		}
	}
}

// TestWorker_Timeout: River's own timeout of an attempt is a second past
// the first of the policy's AttemptTimeout and Deadline (the Worker cuts
// the attempt itself at the policy's limit), none without either, and
// River's default for a job whose policy is refused (Work cancels it).
func TestWorker_Timeout(t *testing.T) {
	job := &river.Job[fakeArgs]{JobRow: &rivertype.JobRow{ID: 1}}
	for _, tc := range []struct {
		name string
		p    backoff.Policy
		want time.Duration
	}{
		{"AttemptTimeout", backoff.Policy{AttemptTimeout: 3 * time.Second}, 4 * time.Second},
		{"Deadline", backoff.Policy{Deadline: 10 * time.Second}, 11 * time.Second},
		{"both", backoff.Policy{AttemptTimeout: 3 * time.Second, Deadline: 10 * time.Second}, 4 * time.Second},
		{"neither", backoff.Policy{MaxTries: 3}, -1},
	} {
		w, err := backoffriver.NewWorker(tc.p, noWork)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Timeout(job); got != tc.want {
			t.Errorf("%s: Timeout = %v, want %v", tc.name, got, tc.want)
		}
	}
	w, err := backoffriver.NewWorkerFor(func(*river.Job[fakeArgs]) backoff.Policy { return backoff.Policy{MaxTries: -1} }, noWork)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Timeout(job); got != 0 {
		t.Errorf("a refused policy: Timeout = %v, want 0 (River's default)", got)
	}
}
