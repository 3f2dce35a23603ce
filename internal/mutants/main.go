// Command mutants is the project's mutation check: it breaks the code one
// small change at a time (a mutant), runs the tests that should notice,
// and reports which mutants they caught, and the score of each area.
//
//	go run ./internal/mutants                  # every mutant in mutants.txt
//	go run ./internal/mutants -area oracle     # one area
//	go run ./internal/mutants -name 'MaxTries' # those whose name matches
//	go run ./internal/mutants -jobs 1          # one at a time (default 2)
//	go run ./internal/mutants -list            # list them, run nothing
//
// Each mutant replaces one piece of text in one file, which must occur
// exactly once there, through go test -overlay: no file is changed. Its
// tests run with -short -failfast and a timeout of their own, two mutants
// at a time by default (a mutant's tests often wait, on timers or on a
// database, and go test builds in parallel itself). A mutant whose tests
// pass survived: the run fails (exit status 1), and says which. A mutant
// marked equivalent (it cannot change what the code does) is listed with
// its reason and not run; it counts in no score. A mutant whose text does
// not occur exactly once stops the check before any runs; one that does
// not build, or whose command runs no test, is reported as an ERROR, and
// the run fails (exit status 2). The check passes when every other
// mutant is caught (so every area scores 100%; the floor the project
// holds to is 90% in each area, and a survivor is a missing test).
//
// The table is mutants.txt, next to this file: one mutant a line,
//
//	area | file | name | text | replacement | tests
//
// with "\n" and "\t" for a line break and a tab in text and replacement,
// blank lines and lines starting with # ignored, and "equivalent: reason"
// in place of the tests for an equivalent mutant. The file is a path from
// the repository's root.
//
// The tests are the arguments of go test, run in the repository's root:
// packages, and flags of go test (one word each), such as -run to pick the
// tests that matter, which keeps the whole check fast, or a -timeout of
// the mutant's own (they follow the runner's flags, so they win):
//
//	./sim -run ^TestCheck_exact$
//
// A module of its own, or tests that need something around them, take the
// form "DIR: COMMAND": the command runs in DIR (from the repository's
// root), and contains the words "go test", after which the runner puts its
// own flags. backoffriver's tests, which need a PostgreSQL server, run so
// under the script that starts one for each mutant (and installs
// PostgreSQL if it is missing):
//
//	backoffriver: bash postgres.sh go test -run ^TestWorker_budget$ .
//
// Before the mutants run, each command around tests runs once alone
// around the command true, so that it can set up what it needs (postgres.sh
// installs PostgreSQL if it is missing) before mutants run at a time.
//
// A run whose output shows no test failing, and no test binary either
// failing or passing (the command failed before any test ran: a server
// that did not start, say), is an error, not a mutant caught.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A mutant is one line of the table.
type mutant struct {
	line              int
	area, file, name  string
	text, replacement string
	dir               string   // where the tests run, from the repository's root ("": the root)
	wrapper           []string // the command the tests run under, before "go test"
	args              []string // go test's arguments, after the runner's flags
	equivalent        string   // why it cannot be caught; "" if it can
}

func main() {
	area := flag.String("area", "", "run only the mutants of this area")
	name := flag.String("name", "", "run only the mutants whose name matches this regular expression")
	list := flag.Bool("list", false, "list the mutants; run none")
	timeout := flag.Duration("timeout", 90*time.Second, "the most a mutant's tests may take (go test -timeout; a -timeout in its tests wins)")
	jobs := flag.Int("jobs", 2, "how many mutants to run at a time")
	flag.Parse()
	root, err := repoRoot()
	if err != nil {
		fail(err)
	}
	ms, err := readTable(filepath.Join(root, "internal", "mutants", "mutants.txt"))
	if err != nil {
		fail(err)
	}
	if *area != "" {
		ms = slices.DeleteFunc(ms, func(m mutant) bool { return m.area != *area })
		if len(ms) == 0 {
			fail(fmt.Errorf("mutants: no mutant in area %q", *area))
		}
	}
	if *name != "" {
		re, err := regexp.Compile(*name)
		if err != nil {
			fail(fmt.Errorf("mutants: -name: %w", err))
		}
		ms = slices.DeleteFunc(ms, func(m mutant) bool { return !re.MatchString(m.name) })
		if len(ms) == 0 {
			fail(fmt.Errorf("mutants: no mutant named like %q", *name))
		}
	}
	if *list {
		for _, m := range ms {
			fmt.Printf("%-12s %-28s %s\n", m.area, m.file, m.name)
		}
		return
	}
	for _, m := range ms { // every mutant applies, before any runs
		if m.equivalent != "" {
			continue
		}
		if _, err := apply(root, m); err != nil {
			fail(fmt.Errorf("mutants.txt:%d (%s): %w", m.line, m.name, err))
		}
	}
	// Each command around tests runs once alone first, around true, so
	// that it sets up what it needs before mutants run at a time.
	ready := map[string]bool{}
	for _, m := range ms {
		if len(m.wrapper) == 0 || m.equivalent != "" {
			continue
		}
		key := m.dir + "\x00" + strings.Join(m.wrapper, "\x00")
		if ready[key] {
			continue
		}
		ready[key] = true
		cmd := exec.Command(m.wrapper[0], append(slices.Clone(m.wrapper[1:]), "true")...)
		cmd.Dir = filepath.Join(root, m.dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			fail(fmt.Errorf("mutants: setting up %s in %s: %v\n%s", strings.Join(m.wrapper, " "), m.dir, err, out))
		}
	}
	work, err := os.MkdirTemp("", "mutants")
	if err != nil {
		fail(err)
	}
	// Removed at every exit: os.Exit runs no deferred call.
	exit := func(code int) {
		os.RemoveAll(work)
		os.Exit(code)
	}

	// The mutants run jobs at a time, each in a go test of its own; their
	// results are told in the table's order.
	type result struct {
		caught string
		err    error
		took   time.Duration
	}
	results := make([]chan result, len(ms))
	sem := make(chan struct{}, max(*jobs, 1))
	for i, m := range ms {
		results[i] = make(chan result, 1)
		if m.equivalent != "" {
			continue
		}
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			began := time.Now()
			caught, err := run(root, work, i, m, *timeout)
			results[i] <- result{caught, err, time.Since(began).Round(100 * time.Millisecond)}
		}()
	}

	type score struct{ caught, run, equivalent int }
	scores := map[string]*score{}
	var areas []string
	survived, broken := 0, 0 // mutants that survived; that could not be run
	for i, m := range ms {
		s := scores[m.area]
		if s == nil {
			s = &score{}
			scores[m.area] = s
			areas = append(areas, m.area)
		}
		if m.equivalent != "" {
			s.equivalent++
			fmt.Printf("%-12s %s: equivalent (%s)\n", m.area, m.name, m.equivalent)
			continue
		}
		r := <-results[i]
		switch {
		case r.err != nil:
			broken++
			fmt.Printf("%-12s %s: ERROR (mutants.txt:%d): %v\n", m.area, m.name, m.line, r.err)
		case r.caught != "":
			s.run++
			s.caught++
			fmt.Printf("%-12s %s: caught by %s (%v)\n", m.area, m.name, r.caught, r.took)
		default:
			s.run++
			survived++
			fmt.Printf("%-12s %s: SURVIVED (%s, mutants.txt:%d; %v)\n", m.area, m.name, m.file, m.line, r.took)
		}
	}
	fmt.Println()
	for _, a := range areas {
		s := scores[a]
		pct := 100.0
		if s.run > 0 {
			pct = 100 * float64(s.caught) / float64(s.run)
		}
		fmt.Printf("%-12s %3d of %3d caught (%5.1f%%), %d equivalent\n", a, s.caught, s.run, pct, s.equivalent)
	}
	if survived > 0 {
		fmt.Printf("\n%d mutants survived\n", survived)
	}
	if broken > 0 {
		fmt.Printf("\n%d mutants could not be run (see ERROR above)\n", broken)
		exit(2)
	}
	if survived > 0 {
		exit(1)
	}
	exit(0)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(2)
}

func repoRoot() (string, error) {
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("mutants: finding the repository: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// readTable reads the table of mutants.
func readTable(path string) ([]mutant, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ms []mutant
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, " | ")
		if len(f) != 6 {
			return nil, fmt.Errorf("%s:%d: %d fields; want 6: area | file | name | text | replacement | tests", path, n, len(f))
		}
		unescape := strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace
		m := mutant{line: n, area: f[0], file: f[1], name: f[2], text: unescape(f[3]), replacement: unescape(f[4])}
		if why, ok := strings.CutPrefix(f[5], "equivalent: "); ok {
			m.equivalent = why
		} else if err := m.parseTests(f[5]); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if m.text == m.replacement {
			return nil, fmt.Errorf("%s:%d: the replacement is the text itself", path, n)
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// apply returns m's file with m applied.
func apply(root string, m mutant) ([]byte, error) {
	src, err := os.ReadFile(filepath.Join(root, m.file))
	if err != nil {
		return nil, err
	}
	if n := bytes.Count(src, []byte(m.text)); n != 1 {
		return nil, fmt.Errorf("its text occurs %d times in %s; want once (update the table)", n, m.file)
	}
	return bytes.Replace(src, []byte(m.text), []byte(m.replacement), 1), nil
}

// parseTests reads the tests field: go test's arguments, or "DIR:
// COMMAND" with the words "go test" in COMMAND.
func (m *mutant) parseTests(field string) error {
	w := strings.Fields(field)
	if len(w) > 0 && strings.HasSuffix(w[0], ":") {
		m.dir, w = strings.TrimSuffix(w[0], ":"), w[1:]
		for i := range w {
			if i+1 < len(w) && w[i] == "go" && w[i+1] == "test" {
				m.wrapper, w = w[:i], w[i+2:]
				break
			}
			if i == len(w)-1 {
				return fmt.Errorf("the tests %q: a command in %s must contain the words \"go test\"", field, m.dir)
			}
		}
	}
	if len(w) == 0 {
		return fmt.Errorf("the tests %q: no package to test", field)
	}
	m.args = w
	return nil
}

// run applies mutant m through an overlay and runs its packages' tests.
// It returns the tests that failed ("" if none: the mutant survived), or
// an error if the mutant does not apply.
func run(root, work string, i int, m mutant, timeout time.Duration) (string, error) {
	path := filepath.Join(root, m.file)
	mutated, err := apply(root, m)
	if err != nil {
		return "", err
	}
	file := filepath.Join(work, fmt.Sprintf("mutant%d.go", i))
	if err := os.WriteFile(file, mutated, 0o644); err != nil {
		return "", err
	}
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {path: file}})
	ov := filepath.Join(work, fmt.Sprintf("overlay%d.json", i))
	if err := os.WriteFile(ov, overlay, 0o644); err != nil {
		return "", err
	}
	// go test's own timeout makes a test that hangs fail with its stacks;
	// the context's, later, kills what might hang go test itself.
	ctx, cancel := context.WithTimeout(context.Background(), 2*timeout)
	defer cancel()
	args := append(slices.Clone(m.wrapper), "go", "test", "-count=1", "-short", "-failfast", "-timeout="+timeout.String(), "-overlay="+ov)
	args = append(args, m.args...)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = filepath.Join(root, m.dir)
	// A wrapper's children (a server it starts) go with it at the timeout.
	cmd.WaitDelay = 10 * time.Second
	// No fail file for a mutant's failures, and little time shrinking them.
	cmd.Env = append(os.Environ(), "RAPID_NOFAILFILE=true", "RAPID_SHRINKTIME=1s")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return "", nil
	}
	if ctx.Err() != nil || bytes.Contains(out, []byte("panic: test timed out")) {
		return "a test that hung until go test's timeout", nil
	}
	if bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")) {
		return "", fmt.Errorf("the mutant does not build:\n%s", out)
	}
	var failed []string
	for l := range strings.Lines(string(out)) {
		if name, ok := strings.CutPrefix(strings.TrimSpace(l), "--- FAIL: "); ok {
			name, _, _ = strings.Cut(name, " ")
			if !strings.Contains(name, "/") && !slices.Contains(failed, name) {
				failed = append(failed, name)
			}
		}
	}
	if len(failed) == 0 {
		// No test failed: a test binary crashed (a panic, a deadlock), or
		// the command failed before any test ran.
		if !testsRan(out) {
			return "", fmt.Errorf("no test ran (%s):\n%s", strings.Join(args, " "), out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return "a crash: " + lines[len(lines)-1], nil
	}
	return strings.Join(failed, " "), nil
}

// testsRan reports whether go test's output shows a test binary's result:
// a line "ok", "FAIL" or "---" of a package.
func testsRan(out []byte) bool {
	for l := range strings.Lines(string(out)) {
		for _, p := range []string{"ok  \t", "FAIL\t", "--- "} {
			if strings.HasPrefix(l, p) {
				return true
			}
		}
	}
	return false
}
