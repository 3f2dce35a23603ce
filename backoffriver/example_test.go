package backoffriver_test

import (
	"context"
	"errors"
	"log"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffriver"
)

type WebhookArgs struct {
	URL string `json:"url"`
}

func (WebhookArgs) Kind() string { return "webhook" }

var errUnavailable = errors.New("endpoint unavailable")

func deliver(ctx context.Context, job *river.Job[WebhookArgs]) error { return nil }

// A webhook delivered for up to a day, whichever process runs each try.
// (example/main.go runs one against a database.)
func ExampleNewWorker() {
	policy := backoff.Policy{
		AttemptTimeout: 30 * time.Second,
		Deadline:       24 * time.Hour, // from the job's first attempt
		Pause:          time.Minute, Growth: 2, MaxPause: time.Hour, Jitter: backoff.EqualJitter,
		RetryIf: backoff.On(errUnavailable),
	}
	worker, err := backoffriver.NewWorker(policy, deliver)
	if err != nil {
		log.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, worker)
	// Then river.NewClient(driver, &river.Config{Workers: workers, ...}),
	// and insert each job with MaxAttempts: backoffriver.MaxAttempts(policy).
}

// A policy per job, from its arguments.
func ExampleNewWorkerFor() {
	policyOf := func(job *river.Job[WebhookArgs]) backoff.Policy {
		p := backoff.Policy{Pause: time.Minute, Growth: 2, Deadline: time.Hour, RetryIf: backoff.On(errUnavailable)}
		if strings.HasPrefix(job.Args.URL, "http://") {
			p.MaxTries = 1 // not worth retrying in the clear
		}
		return p
	}
	worker, err := backoffriver.NewWorkerFor(policyOf, deliver)
	if err != nil {
		log.Fatal(err)
	}
	river.AddWorker(river.NewWorkers(), worker)
}
