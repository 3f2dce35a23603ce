// Command ratios reads the output of the comparison benchmarks (bench/)
// and of the root package's benchmarks, as go test -bench prints them, and
// prints in Markdown the medians of each case per library with their
// ratios to the hand-written loop and to the best peer, then the targets
// of issues 6 and 12, each with its measured ratio and whether it is met.
//
//	go run ./internal/ratios compare.txt root.txt
//
// benchstat (run.sh) gives the confidence intervals; this gives the ratios
// the targets are stated in, from the same run.
package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// peers are the peer libraries, by their lib= names in bench/.
var peers = []string{"cenkalti", "retrygo", "goretry", "failsafe"}

// cases are the comparison's benchmarks, in order.
var cases = []string{"FirstTry", "FirstTryTimeout", "Retry3", "FirstTryParallel",
	"FirstTryClosure", "FirstTryTimeoutClosure", "Retry3Closure"}

// libs are the lib= names, in the order of the table's rows.
var libs = []string{"bare", "hand", "hand-goroutine", "backoff", "backoff-abandon", "cenkalti", "retrygo", "goretry", "failsafe"}

// results maps a benchmark's name (without "Benchmark" and the -GOMAXPROCS
// suffix) and a unit to the values measured, one per run.
type results map[string]map[string][]float64

var procs = regexp.MustCompile(`-\d+$`)

// read adds the benchmark lines of r to res.
func (res results) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procs.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return fmt.Errorf("%s: %q is not a number", f[0], f[i])
			}
			if res[name] == nil {
				res[name] = map[string][]float64{}
			}
			res[name][f[i+1]] = append(res[name][f[i+1]], v)
		}
	}
	return sc.Err()
}

// median returns the median of name's values in unit, and whether there
// are any.
func (res results) median(name, unit string) (float64, bool) {
	vs := slices.Clone(res[name][unit])
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], true
	}
	return (vs[n/2-1] + vs[n/2]) / 2, true
}

func main() {
	res := results{}
	for _, file := range os.Args[1:] {
		f, err := os.Open(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		err = res.read(f)
		f.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, file+":", err)
			os.Exit(1)
		}
	}
	comparison(os.Stdout, res)
	targets(os.Stdout, res)
}

// num formats a median: three significant digits, or "-" if missing.
func num(v float64, ok bool) string {
	switch {
	case !ok:
		return "-"
	case v == 0:
		return "0"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// ratio formats a/b as "1.23x".
func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	r := a / b
	if r >= 10 {
		return fmt.Sprintf("%.0fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

// bestPeer returns the peer with the lowest median ns/op in case c.
func bestPeer(res results, c string) (string, float64) {
	best, bestNs := "", math.Inf(1)
	for _, p := range peers {
		if ns, ok := res.median(c+"/lib="+p, "ns/op"); ok && ns < bestNs {
			best, bestNs = p, ns
		}
	}
	return best, bestNs
}

func comparison(w io.Writer, res results) {
	for _, c := range cases {
		if _, ok := res.median(c+"/lib=hand", "ns/op"); !ok {
			continue
		}
		hand, _ := res.median(c+"/lib=hand", "ns/op")
		best, bestNs := bestPeer(res, c)
		fmt.Fprintf(w, "\n%s\n\n", c)
		fmt.Fprintf(w, "| lib | ns/op | B/op | allocs/op | vs hand | vs best peer (%s) |\n", best)
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
		for _, l := range libs {
			name := c + "/lib=" + l
			ns, ok := res.median(name, "ns/op")
			if !ok {
				continue
			}
			b, bok := res.median(name, "B/op")
			a, aok := res.median(name, "allocs/op")
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", l, num(ns, true), num(b, bok), num(a, aok), ratio(ns, hand), ratio(ns, bestNs))
		}
	}
}

// target is one line of the targets' table.
func target(w io.Writer, name, measured, want string, met, ok bool) {
	verdict := "not measured"
	if ok {
		verdict = "**not met**"
		if met {
			verdict = "met"
		}
	}
	fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, measured, want, verdict)
}

func targets(w io.Writer, res results) {
	m := func(name, unit string) float64 {
		v, _ := res.median(name, unit)
		return v
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := res.median(n, "ns/op"); !ok {
				return false
			}
		}
		return true
	}
	fmt.Fprintln(w, "\nTargets of issues 6 and 12 (medians of one run)")
	fmt.Fprintln(w, "\n| target | measured | wanted | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|")

	b, bare := m("FirstTry/lib=backoff", "ns/op"), m("FirstTry/lib=bare", "ns/op")
	clock, cok := res.median("Baseline/clock", "ns/op")
	target(w, "first try, no time limit: time over a bare call", fmt.Sprintf("%s ns (one clock read: %s ns)", num(b-bare, true), num(clock, cok)),
		"<= a clock read + 10 ns", b-bare <= clock+10, cok && has("FirstTry/lib=backoff", "FirstTry/lib=bare"))
	a := m("FirstTry/lib=backoff", "allocs/op")
	target(w, "first try, no time limit: allocs", num(a, true), "0", a == 0, has("FirstTry/lib=backoff"))

	b, hand := m("FirstTryTimeout/lib=backoff", "ns/op"), m("FirstTryTimeout/lib=hand", "ns/op")
	ok := has("FirstTryTimeout/lib=backoff", "FirstTryTimeout/lib=hand")
	target(w, "1s attempt timeout, cooperative: time vs hand-written context.WithTimeout", ratio(b, hand), "<= 1x", b <= hand, ok)
	ba, ha := m("FirstTryTimeout/lib=backoff", "allocs/op"), m("FirstTryTimeout/lib=hand", "allocs/op")
	target(w, "1s attempt timeout, cooperative: allocs vs hand-written", fmt.Sprintf("%s vs %s", num(ba, true), num(ha, true)), "<=", ba <= ha, ok)
	ab, hg := m("FirstTryTimeout/lib=backoff-abandon", "ns/op"), m("FirstTryTimeout/lib=hand-goroutine", "ns/op")
	target(w, "1s attempt timeout, Abandon: time vs a hand-written goroutine per attempt", ratio(ab, hg), "<= 1.1x", ab <= 1.1*hg,
		has("FirstTryTimeout/lib=backoff-abandon", "FirstTryTimeout/lib=hand-goroutine"))
	for _, c := range []string{"FirstTryClosure", "FirstTryTimeoutClosure", "Retry3Closure"} {
		a, ha := m(c+"/lib=backoff", "allocs/op"), m(c+"/lib=hand", "allocs/op")
		target(w, "a closure made at the call: allocs, "+c, fmt.Sprintf("%s (hand %s)", num(a, true), num(ha, true)), "as hand", a <= ha, has(c+"/lib=backoff", c+"/lib=hand"))
	}
	for _, name := range []string{"Do_closure/Run/tries=1/timeout=0s", "Do_closure/Run/tries=4/timeout=0s", "Do_closure/Wrap/tries=1/timeout=0s"} {
		a, aok := res.median(name, "allocs/op")
		target(w, "a closure through "+name, num(a, aok), "0", a == 0, aok)
	}

	b, hand = m("Retry3/lib=backoff", "ns/op"), m("Retry3/lib=hand", "ns/op")
	target(w, "3 failures then success, zero pause: time vs hand-written", ratio(b, hand), "<= 5x", b <= 5*hand, has("Retry3/lib=backoff", "Retry3/lib=hand"))
	a = m("Retry3/lib=backoff", "allocs/op")
	target(w, "3 failures then success, zero pause: allocs", num(a, true), "0", a == 0, has("Retry3/lib=backoff"))

	for _, c := range cases {
		best, bestNs := bestPeer(res, c)
		b := m(c+"/lib=backoff", "ns/op")
		target(w, "faster than every peer: "+c, fmt.Sprintf("%s vs %s %s (%s)", num(b, true), best, num(bestNs, true), ratio(b, bestNs)), "< 1x", b < bestNs, best != "" && has(c+"/lib=backoff"))
	}

	sims := []string{"Sim/attempts=10", "Sim/attempts=100", "Sim/attempts=1000"}
	for _, s := range sims {
		v, ok := res.median(s, "attempts/s")
		target(w, "simulator, one core: "+strings.TrimPrefix(s, "Sim/"), fmt.Sprintf("%.3g attempts/s (%s ns/attempt)", v, num(res.median(s, "ns/attempt"))), ">= 5e6 attempts/s", v >= 5e6, ok)
	}
	if v1, ok1 := res.median(sims[0], "ns/attempt"); ok1 {
		if v3, ok3 := res.median(sims[2], "ns/attempt"); ok3 {
			target(w, "simulator linear: ns/attempt at 100x over 1x", ratio(v3, v1), "about 1x or less", v3 <= 1.5*v1, true)
		}
	}
	h, hok := res.median("InFlight", "heap-B/call")
	target(w, "100,000 calls in a pause: heap per call beyond stacks", fmt.Sprintf("%s B (baseline %s B; stacks %s B)", num(h, hok), num(res.median("InFlight", "baseline-heap-B/call")), num(res.median("InFlight", "stack-B/call"))), "<= 1024 B", h <= 1024, hok)
	p, pok := res.median("Pause", "backoff/timer")
	target(w, "1ms pause x200: wall time vs a bare time.Timer loop", fmt.Sprintf("%.3fx", p), "<= 1.05x", p <= 1.05, pok)
}
