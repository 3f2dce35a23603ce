// Command example delivers a webhook as a River job under a
// backoff.Policy: the endpoint (a local test server) is busy twice, the
// second time asking for a pause with Retry-After, and takes the third
// delivery. It prints the job's steps as the decision core took them, in
// whichever process ran each attempt, and writes them as a trace.
//
//	bash postgres.sh go run ./example            # a throwaway PostgreSQL
//	DATABASE_URL=postgres://... go run ./example # or yours (River's tables are migrated in)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffriver"
	"github.com/timebound/backoff/sim"
)

// WebhookArgs is a job: deliver Body to URL.
type WebhookArgs struct {
	URL  string `json:"url"`
	Body string `json:"body"`
}

func (WebhookArgs) Kind() string { return "webhook" }

var errBusy = errors.New("endpoint busy")

// policy: up to 5 deliveries within 10 seconds of the first, 200ms apart
// and growing, a busy endpoint retried and anything else not.
var policy = backoff.Policy{
	AttemptTimeout: 2 * time.Second,
	Deadline:       10 * time.Second,
	Pause:          200 * time.Millisecond,
	Growth:         2,
	MaxTries:       5,
	RetryIf:        backoff.On(errBusy),
}

// deliver is one attempt: POST the body; a 503 is errBusy, carrying the
// endpoint's Retry-After (in seconds) as a delay hint.
func deliver(ctx context.Context, job *river.Job[WebhookArgs]) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.Args.URL, strings.NewReader(job.Args.Body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable:
		if s, err := time.ParseDuration(resp.Header.Get("Retry-After") + "s"); err == nil {
			return backoff.RetryAfter(errBusy, s)
		}
		return errBusy
	case resp.StatusCode >= 300:
		return fmt.Errorf("endpoint answered %s", resp.Status)
	}
	return nil
}

var trace = flag.String("trace", "webhook.jsonl", "where to write the job's trace")

func main() {
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		url = os.Getenv("BACKOFFRIVER_DATABASE_URL") // set by postgres.sh
	}
	if url == "" {
		log.Fatal("example: set DATABASE_URL to a PostgreSQL database, or run it with `bash postgres.sh go run ./example`")
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		log.Fatal(err)
	}

	// The endpoint: busy, then busy asking for a second, then OK.
	var calls atomic.Int32
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer endpoint.Close()

	worker, err := backoffriver.NewWorker(policy, deliver)
	if err != nil {
		log.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, worker)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}},
		Workers: workers,
		// River runs a retry when a worker next fetches it: poll often
		// enough for the precision your pauses need (the default is 1s).
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	done, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer client.Stop(ctx)

	res, err := client.Insert(ctx, WebhookArgs{URL: endpoint.URL, Body: `{"order":42}`},
		&river.InsertOpts{MaxAttempts: backoffriver.MaxAttempts(policy)})
	if err != nil {
		log.Fatal(err)
	}
	for ev := range done { // the job's end (River also reports each failed attempt)
		if ev.Job.ID == res.Job.ID && ev.Job.FinalizedAt != nil {
			break
		}
	}
	job, err := client.JobGet(ctx, res.Job.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("job %d: %s after %d attempts\n", job.ID, job.State, job.Attempt)
	steps, err := backoffriver.Steps(policy, job)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range steps {
		e, a := s.Event, s.Action
		switch a.Kind {
		case backoff.ActionStart:
			fmt.Printf("  %-8v attempt %d starts\n", e.At.Round(time.Millisecond), a.Attempt)
		case backoff.ActionPause:
			fmt.Printf("  %-8v attempt %d failed (%v); pause until %v\n", e.At.Round(time.Millisecond), e.Attempt, e.Err, a.Until.Round(time.Millisecond))
		case backoff.ActionFinish:
			fmt.Printf("  %-8v attempt %d ended: %v\n", e.At.Round(time.Millisecond), e.Attempt, a.Err)
		}
	}
	f, err := os.Create(*trace)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := backoffriver.WriteTrace(f, policy, job); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote its trace to %s (%s, %d steps)\n", *trace, sim.Format, len(steps))
}
