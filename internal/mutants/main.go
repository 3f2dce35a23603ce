// Command mutants is the project's mutation check: it breaks the code one
// small change at a time (a mutant), runs the tests that should notice,
// and reports which mutants they caught, and the score of each area.
//
//	go run ./internal/mutants               # every mutant in mutants.txt
//	go run ./internal/mutants -area sim     # one area
//	go run ./internal/mutants -list         # list them, run nothing
//
// Each mutant replaces one piece of text in one file, which must occur
// exactly once there, through go test -overlay: no file is changed. Its
// tests run with -short -failfast and a timeout of their own. A mutant
// whose tests pass survived: the run fails, and says which. A mutant marked
// equivalent (it cannot change what the code does) is listed with its
// reason and not run; it counts in no score. The check passes when every
// other mutant is caught (so every area scores 100%; the floor the project
// holds to is 90% in each area, and a survivor is a missing test).
//
// The table is mutants.txt, next to this file: one mutant a line,
//
//	area | file | name | text | replacement | packages to test
//
// with "\n" and "\t" for a line break and a tab in text and replacement,
// blank lines and
// lines starting with # ignored, and "equivalent: reason" in place of the
// packages for an equivalent mutant.
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
	"slices"
	"strings"
	"time"
)

// A mutant is one line of the table.
type mutant struct {
	line              int
	area, file, name  string
	text, replacement string
	packages          []string
	equivalent        string // why it cannot be caught; "" if it can
}

func main() {
	area := flag.String("area", "", "run only the mutants of this area")
	list := flag.Bool("list", false, "list the mutants; run none")
	timeout := flag.Duration("timeout", 90*time.Second, "the most a mutant's tests may take (go test -timeout)")
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
	if *list {
		for _, m := range ms {
			fmt.Printf("%-12s %-28s %s\n", m.area, m.file, m.name)
		}
		return
	}
	work, err := os.MkdirTemp("", "mutants")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(work)

	type score struct{ caught, run, equivalent int }
	scores := map[string]*score{}
	var areas []string
	survived := 0
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
		s.run++
		caught, err := run(root, work, i, m, *timeout)
		switch {
		case err != nil:
			fail(fmt.Errorf("mutants.txt:%d (%s): %w", m.line, m.name, err))
		case caught != "":
			s.caught++
			fmt.Printf("%-12s %s: caught by %s\n", m.area, m.name, caught)
		default:
			survived++
			fmt.Printf("%-12s %s: SURVIVED (%s, mutants.txt:%d)\n", m.area, m.name, m.file, m.line)
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
		os.Exit(1)
	}
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
			return nil, fmt.Errorf("%s:%d: %d fields; want 6: area | file | name | text | replacement | packages", path, n, len(f))
		}
		unescape := strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace
		m := mutant{line: n, area: f[0], file: f[1], name: f[2], text: unescape(f[3]), replacement: unescape(f[4])}
		if why, ok := strings.CutPrefix(f[5], "equivalent: "); ok {
			m.equivalent = why
		} else {
			m.packages = strings.Fields(f[5])
		}
		if m.text == m.replacement {
			return nil, fmt.Errorf("%s:%d: the replacement is the text itself", path, n)
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// run applies mutant m through an overlay and runs its packages' tests.
// It returns the tests that failed ("" if none: the mutant survived), or
// an error if the mutant does not apply.
func run(root, work string, i int, m mutant, timeout time.Duration) (string, error) {
	path := filepath.Join(root, m.file)
	src, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if n := bytes.Count(src, []byte(m.text)); n != 1 {
		return "", fmt.Errorf("its text occurs %d times in %s; want once (update the table)", n, m.file)
	}
	mutated := bytes.Replace(src, []byte(m.text), []byte(m.replacement), 1)
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
	args := append([]string{"test", "-count=1", "-short", "-failfast", "-timeout=" + timeout.String(), "-overlay=" + ov}, m.packages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	// No fail file for a mutant's failures, and little time shrinking them.
	cmd.Env = append(os.Environ(), "RAPID_NOFAILFILE=true", "RAPID_SHRINKTIME=1s")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return "", nil
	}
	if ctx.Err() != nil || bytes.Contains(out, []byte("panic: test timed out")) {
		return "a test that hung until the timeout (" + timeout.String() + ")", nil
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
		// No test failed: a test binary crashed (a panic, a deadlock).
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return "a crash: " + lines[len(lines)-1], nil
	}
	return strings.Join(failed, " "), nil
}
