package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// A kind is what a file holds: one of the three things backoffsim reads.
type kind int

const (
	unknownKind  kind = iota // not JSON, or no telling
	scenarioKind             // one call to simulate (package sim)
	traceKind                // a trace: a header line, then a line per step
	loadKind                 // many calls (package sim/load)
)

func (k kind) String() string {
	return [...]string{"a file of no kind backoffsim knows", "a scenario", "a trace", "a load"}[k]
}

// The fields that only one kind has at the top of its JSON object (a
// trace's first line); the fields of the policy are in both a scenario
// and a load.
var (
	scenarioFields = []string{"attempts", "abandon", "cancel_at", "caller_deadline", "flip"}
	loadFields     = []string{"calls", "every", "takes", "down", "fail_rate", "budget", "bucket"}
)

// kindOf tells what b holds by the keys of its first JSON object: a
// trace's header has a format, a scenario has attempts (or another field
// only a scenario has), a load has calls (or another of its own). It
// returns unknownKind for what is not a JSON object, or has fields of
// both a scenario and a load: the reader then says what is wrong.
func kindOf(b []byte) kind {
	var top map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&top); err != nil {
		return unknownKind
	}
	has := func(names []string) bool {
		for key := range top {
			for _, name := range names {
				if strings.EqualFold(key, name) {
					return true
				}
			}
		}
		return false
	}
	switch scenario, load := has(scenarioFields), has(loadFields); {
	case has([]string{"format", "version"}) && has([]string{"scenario"}):
		return traceKind
	case scenario && !load:
		return scenarioKind
	case load && !scenario:
		return loadKind
	}
	return unknownKind
}

// use returns the command that reads a file of kind k, named name, to
// tell a user who gave it to another command.
func (k kind) use(name string) string {
	switch k {
	case scenarioKind:
		return fmt.Sprintf("to simulate it: backoffsim run %s (-trace OUT.jsonl writes its trace), or backoffsim check %s", name, name)
	case traceKind:
		return "to re-simulate it: backoffsim replay " + name
	case loadKind:
		return "to simulate it: backoffsim load " + name
	}
	return ""
}
