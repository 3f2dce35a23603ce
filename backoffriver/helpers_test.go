package backoffriver_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	pgxv5 "github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jonboulle/clockwork"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// The tests run against a real PostgreSQL server, named by
// BACKOFFRIVER_DATABASE_URL; `bash postgres.sh go test ./...` starts one
// for them. Each test works in a schema of its own, dropped at its end.
const (
	envURL  = "BACKOFFRIVER_DATABASE_URL"
	envNone = "BACKOFFRIVER_NO_DATABASE" // "1": skip the tests that need one
)

// waitFor bounds every wait of a test: nothing here takes a second when
// it works.
const waitFor = 20 * time.Second

// database returns a pool on a new schema, with River's tables migrated
// into it.
func database(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	url := os.Getenv(envURL)
	if url == "" {
		if os.Getenv(envNone) == "1" {
			t.Skipf("%s=1: no database, so no test of River", envNone)
		}
		t.Fatalf("no database: %s is not set. These tests need a PostgreSQL server: run them with `bash postgres.sh go test ./...` in backoffriver/ (it starts one and removes it), set %s to a server of yours, or set %s=1 to skip them", envURL, envURL, envNone)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatalf("%s=%q: %v", envURL, url, err)
	}
	defer admin.Close()
	if err := admin.Ping(ctx); err != nil {
		t.Fatalf("cannot reach the database at %s=%q within 10s: %v (start one with `bash postgres.sh go test ./...` in backoffriver/)", envURL, url, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatalf("migrating River's tables: %v", err)
	}
	return pool, schema
}

// newClient returns a started River client on pool and schema that works
// with workers, stopped at the test's end. Its fetches poll every 10ms.
func newClient(t *testing.T, pool *pgxpool.Pool, schema string, workers *river.Workers, tg rivertype.TimeGenerator) *river.Client[pgx] {
	t.Helper()
	cfg := &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 20}},
		Workers:           workers,
		Schema:            schema,
		FetchPollInterval: 10 * time.Millisecond,
		FetchCooldown:     time.Millisecond,
		Logger:            quietLogger(),
	}
	cfg.Test.Time = tg
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The jobs' contexts derive from Start's: it must outlive the test.
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		if err := c.StopAndCancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("stopping the client: %v", err)
		}
	})
	return c
}

// pgx is the transaction type of River's pgx v5 driver.
type pgx = pgxv5.Tx

// quietLogger logs River's warnings and errors only.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// riverTime makes River read the test's fake clock: the time it stamps
// on jobs and compares their scheduled times with.
type riverTime struct{ c *clockwork.FakeClock }

func (r riverTime) Now() time.Time       { return r.c.Now() }
func (r riverTime) NowOrNil() *time.Time { n := r.c.Now(); return &n }

// waitJob polls the job until done says its row is what the test waits
// for, and fails with the last row it saw after waitFor.
func waitJob(t *testing.T, c *river.Client[pgx], id int64, what string, done func(*rivertype.JobRow) bool) *rivertype.JobRow {
	t.Helper()
	return waitJobOr(t, c, id, what, done, nil)
}

// waitJobOr is waitJob that fails at once, with the reason wrong gives,
// when wrong says the row went where the test does not wait for it to go
// ("" if it did not).
func waitJobOr(t *testing.T, c *river.Client[pgx], id int64, what string, done func(*rivertype.JobRow) bool, wrong func(*rivertype.JobRow) string) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	var job *rivertype.JobRow
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		j, err := c.JobGet(ctx, id)
		cancel()
		if err == nil {
			job = j
			if done(job) {
				return job
			}
			if wrong != nil {
				if why := wrong(job); why != "" {
					t.Fatalf("job %d: waiting for %s, %s: %s", id, what, why, show(job))
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d: waited %v for %s; last saw %s (err %v)", id, waitFor, what, show(job), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// show describes a job row for a failure message.
func show(j *rivertype.JobRow) string {
	if j == nil {
		return "no row"
	}
	var errs []string
	for _, e := range j.Errors {
		errs = append(errs, fmt.Sprintf("#%d %q", e.Attempt, e.Error))
	}
	return fmt.Sprintf("state %s, attempt %d/%d, scheduled at %s, errors [%s], metadata %s",
		j.State, j.Attempt, j.MaxAttempts, j.ScheduledAt.Format(time.RFC3339Nano), strings.Join(errs, ", "), j.Metadata)
}
