package backoffriver

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/timebound/backoff"
)

// BenchmarkReplay: what rebuilding a job's decision core costs before its
// attempt, by the attempts it has recorded; and the bytes of its record
// per attempt (bytes/attempt).
func BenchmarkReplay(b *testing.B) {
	p := backoff.Policy{AttemptTimeout: time.Minute, Deadline: 24 * time.Hour, Pause: time.Second, Growth: 2,
		MaxPause: time.Hour, Jitter: backoff.EqualJitter, RetryIf: backoff.On(errBench)}
	for _, n := range []int{1, 10, 100} {
		rec := &record{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), loaded: true}
		c, err := replay(p, rec, 42)
		if err != nil {
			b.Fatal(err)
		}
		for k := 1; k <= n; k++ { // attempt k fails 123.456789ms after it starts, when its pause ends
			start := time.Duration(0)
			if c.a.Kind == backoff.ActionPause {
				start = c.a.Until
				c.step(backoff.Event{Kind: backoff.EventFired, At: start, Attempt: k})
			}
			end := start + 123456789
			c.step(backoff.Event{Kind: backoff.EventEnded, At: end, Attempt: k, Err: errBench, Rand: c.rng.Uint64()})
			rec.Attempts = append(rec.Attempts, attempt{N: k, Start: duration(start), End: duration(end), Err: errBench.Error(), Retry: true})
		}
		js, err := json.Marshal(rec)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("attempts="+itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := replay(p, rec, 42); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(js))/float64(n), "bytes/attempt")
		})
	}
}

var errBench = errors.New("endpoint busy")

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
