package bench

import (
	"testing"
	"time"
)

// The cases of the comparison. Each benchmark runs every library that
// applies to its case (see Applies), as a sub-benchmark named lib=NAME, so
// that benchstat can set the libraries side by side (-col /lib).

// BenchmarkFirstTry: success on the first try, no time limit.
func BenchmarkFirstTry(b *testing.B) {
	compare(b, Case{})
}

// BenchmarkFirstTryTimeout: success on the first try, under a 1s attempt
// timeout: the library's own (backoff cooperative and with Abandon,
// failsafe-go's timeout policy), or context.WithTimeout inside the
// operation (hand, cenkalti, retry-go, go-retry).
func BenchmarkFirstTryTimeout(b *testing.B) {
	compare(b, Case{AttemptTimeout: time.Second})
}

// BenchmarkRetry3: three failures, then success, with no pause.
func BenchmarkRetry3(b *testing.B) {
	compare(b, Case{Failures: 3})
}

// BenchmarkFirstTryParallel is BenchmarkFirstTry from GOMAXPROCS goroutines
// at once (b.RunParallel).
func BenchmarkFirstTryParallel(b *testing.B) {
	for _, lib := range Libs {
		if !Applies(lib.Name, Case{}) {
			continue
		}
		b.Run("lib="+lib.Name, func(b *testing.B) {
			call := lib.Setup(Case{}, Succeed) // stateless: the goroutines share it
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkFirstTryClosure is BenchmarkFirstTry with the operation a
// closure made at each call (see ClosureSetup).
func BenchmarkFirstTryClosure(b *testing.B) {
	compareClosures(b, Case{})
}

// BenchmarkFirstTryTimeoutClosure is BenchmarkFirstTryTimeout with the
// operation a closure made at each call.
func BenchmarkFirstTryTimeoutClosure(b *testing.B) {
	compareClosures(b, Case{AttemptTimeout: time.Second})
}

// BenchmarkRetry3Closure is BenchmarkRetry3 with the operation a closure
// made at each call.
func BenchmarkRetry3Closure(b *testing.B) {
	compareClosures(b, Case{Failures: 3})
}

// compareClosures runs case c for every closure setup that applies to it.
func compareClosures(b *testing.B, c Case) {
	for _, lib := range ClosureLibs {
		if !Applies(lib.Name, c) {
			continue
		}
		b.Run("lib="+lib.Name, func(b *testing.B) {
			call := lib.Setup(c)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// compare runs case c for every library that applies to it, each with an
// operation of its own (c.Op()), set up outside the timed loop.
func compare(b *testing.B, c Case) {
	for _, lib := range Libs {
		if !Applies(lib.Name, c) {
			continue
		}
		b.Run("lib="+lib.Name, func(b *testing.B) {
			call := lib.Setup(c, c.Op())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
