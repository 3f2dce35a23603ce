package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/timebound/backoff"
)

// A Logger logs the steps of each call with log/slog. Here it writes with
// slog's text handler to stdout, at level Debug to show every record
// (slog's usual minimum, Info, would show only the retries and the
// failure), with the time and the call's number (call=, different for
// every call of the program) left out so that the output is the same every
// run. Calls that fail are logged as errors rather than warnings.
//
// Every time in a record is a duration since the call began: at, when the
// step happened; until, when an attempt's time is up or a pause ends;
// elapsed, the call's whole time.
func ExampleLogger() {
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if (a.Key == slog.TimeKey || a.Key == "call") && len(groups) == 0 {
				return slog.Attr{} // leave the time and the call's number out
			}
			return a
		},
	})
	logger := backoff.Logger{
		Logger:  slog.New(h),     // nil: slog.Default()
		Failure: slog.LevelError, // nil: slog.LevelWarn
	}

	clock := exampleClock()
	errBusy := errors.New("server busy")
	p := backoff.Policy{
		AttemptTimeout: time.Second,
		Pause:          100 * time.Millisecond,
		MaxTries:       2,
		RetryIf:        backoff.On(errBusy),
		// Production code leaves Clock nil and sets Observer: logger. The
		// fake clock here skips each pause at once (see skipPauses).
		Clock:    clock,
		Observer: backoff.MultiObserver(logger, skipPauses{clock}),
	}
	ctx := context.Background()

	// Busy for 20ms, then a success after 30ms.
	attempt := 0
	backoff.Do(ctx, p, func(ctx context.Context) (string, error) {
		if attempt++; attempt == 1 {
			return respond(ctx, clock, 20*time.Millisecond, "", errBusy)
		}
		return respond(ctx, clock, 30*time.Millisecond, "ok", nil)
	})
	fmt.Println()

	// Busy for 20ms, every time.
	backoff.Do(ctx, p, func(ctx context.Context) (string, error) {
		return respond(ctx, clock, 20*time.Millisecond, "", errBusy)
	})
	// Output:
	// level=DEBUG msg="backoff: attempt started" attempt=1 at=0s until=1s cut="backoff: attempt timed out"
	// level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=20ms err="server busy" pause=100ms until=120ms
	// level=DEBUG msg="backoff: attempt started" attempt=2 at=120ms until=1.12s cut="backoff: attempt timed out"
	// level=DEBUG msg="backoff: call succeeded" attempts=2 elapsed=150ms
	//
	// level=DEBUG msg="backoff: attempt started" attempt=1 at=0s until=1s cut="backoff: attempt timed out"
	// level=INFO msg="backoff: attempt failed; retrying" attempt=1 at=20ms err="server busy" pause=100ms until=120ms
	// level=DEBUG msg="backoff: attempt started" attempt=2 at=120ms until=1.12s cut="backoff: attempt timed out"
	// level=ERROR msg="backoff: call failed" outcome=failed err="server busy" reason="backoff: max tries reached" last="server busy" attempts=2 elapsed=140ms
}
