package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counted returns op with its attempts counted in n, and each attempt's
// context checked by check (nil: not checked). The plain form gets no
// context, so it is only counted.
func counted(op Op, n *atomic.Int64, check func(context.Context) error) Op {
	return Op{
		Ctx: func(ctx context.Context) (int, error) {
			n.Add(1)
			if check != nil {
				if err := check(ctx); err != nil {
					return 0, err
				}
			}
			return op.Ctx(ctx)
		},
		Plain: func() (int, error) {
			n.Add(1)
			return op.Plain()
		},
	}
}

// errNoLimit and errWrongLimit fail an attempt whose context does not have
// the time limit its case asks for; they are retried like any error, and
// then show up as too many attempts.
var (
	errNoLimit    = errors.New("the attempt's context is never done")
	errWrongLimit = errors.New("the attempt's context has a deadline beyond its attempt timeout")
	errLimit      = errors.New("the attempt's context has a deadline, but its case has no time limit")
)

// limitCheck returns a check that an attempt's context is bounded as c
// says: with an attempt timeout, it can be done (failsafe-go's timeout
// cancels it with a timer, so it need not carry a deadline), and a
// deadline it carries is at most the timeout away; without one, it has no
// deadline.
func limitCheck(c Case) func(context.Context) error {
	return func(ctx context.Context) error {
		d, ok := ctx.Deadline()
		if c.AttemptTimeout <= 0 {
			if ok {
				return errLimit
			}
			return nil
		}
		if ctx.Done() == nil {
			return errNoLimit
		}
		if ok && time.Until(d) > c.AttemptTimeout {
			return errWrongLimit
		}
		return nil
	}
}

// TestSetups: every setup of every case of the benchmarks makes exactly
// the attempts the case intends (one on success at the first try, four
// with three failures first), returns the operation's value, and bounds
// each attempt as the case says.
func TestSetups(t *testing.T) {
	const calls = 5
	cases := []struct {
		name string
		c    Case
	}{
		{"FirstTry", Case{}},
		{"FirstTryTimeout", Case{AttemptTimeout: time.Second}},
		{"Retry3", Case{Failures: 3}},
	}
	for _, tc := range cases {
		for _, lib := range Libs {
			if !Applies(lib.Name, tc.c) {
				continue
			}
			t.Run(tc.name+"/lib="+lib.Name, func(t *testing.T) {
				var n atomic.Int64
				call := lib.Setup(tc.c, counted(Flaky(tc.c.Failures), &n, limitCheck(tc.c)))
				for i := range calls {
					v, err := call()
					if v != 1 || err != nil {
						t.Fatalf("call %d returned (%v, %v); want (1, nil)", i, v, err)
					}
				}
				if got, want := n.Load(), int64(calls*(tc.c.Failures+1)); got != want {
					t.Errorf("%d calls made %d attempts; want %d (%d each)", calls, got, want, tc.c.Failures+1)
				}
			})
		}
	}
}

// TestSetups_cut: where a case has an attempt timeout, every setup really
// cuts an attempt that outlives it, and retries: an operation that waits
// for its context on its first attempt and succeeds on its second makes
// two attempts and succeeds.
func TestSetups_cut(t *testing.T) {
	c := Case{AttemptTimeout: 20 * time.Millisecond}
	for _, lib := range Libs {
		if !Applies(lib.Name, c) {
			continue
		}
		t.Run("lib="+lib.Name, func(t *testing.T) {
			var n atomic.Int64
			op := Op{
				Ctx: func(ctx context.Context) (int, error) {
					if n.Add(1) == 1 {
						<-ctx.Done()
						return 0, ctx.Err()
					}
					return 1, nil
				},
				Plain: func() (int, error) {
					n.Add(1)
					return 0, errors.New("the plain form has no context to be cut by")
				},
			}
			v, err := lib.Setup(c, op)()
			if v != 1 || err != nil {
				t.Fatalf("returned (%v, %v); want (1, nil)", v, err)
			}
			if got := n.Load(); got != 2 {
				t.Errorf("made %d attempts; want 2 (one cut, one that succeeds)", got)
			}
		})
	}
}

// TestSetups_concurrent: the setups of the parallel benchmark are shared
// by goroutines calling at once (run it with -race), and still make one
// attempt per call.
func TestSetups_concurrent(t *testing.T) {
	const goroutines, calls = 4, 100
	for _, lib := range Libs {
		if !Applies(lib.Name, Case{}) {
			continue
		}
		t.Run("lib="+lib.Name, func(t *testing.T) {
			var n atomic.Int64
			call := lib.Setup(Case{}, counted(Succeed, &n, nil))
			var wg sync.WaitGroup
			for range goroutines {
				wg.Go(func() {
					for range calls {
						if v, err := call(); v != 1 || err != nil {
							t.Errorf("returned (%v, %v); want (1, nil)", v, err)
							return
						}
					}
				})
			}
			wg.Wait()
			if got, want := n.Load(), int64(goroutines*calls); got != want {
				t.Errorf("%d calls made %d attempts; want %d", want, got, want)
			}
		})
	}
}

// TestClosureSetups: every closure setup makes exactly the attempts its
// case intends, and returns their number.
func TestClosureSetups(t *testing.T) {
	for _, c := range []Case{{}, {AttemptTimeout: time.Second}, {Failures: 3}} {
		for _, lib := range ClosureLibs {
			if !Applies(lib.Name, c) {
				continue
			}
			t.Run(fmt.Sprintf("%+v/lib=%s", c, lib.Name), func(t *testing.T) {
				call := lib.Setup(c)
				for i := range 5 {
					if v, err := call(); v != c.Failures+1 || err != nil {
						t.Fatalf("call %d returned (%v, %v); want (%d, nil): the attempts it made", i, v, err, c.Failures+1)
					}
				}
			})
		}
	}
}
