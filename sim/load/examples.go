package load

import (
	"embed"
	"errors"
	"fmt"
	"path"
	"strings"
)

// The example loads, embedded: testdata/NAME.json.
//
//go:embed testdata/*.json
var examples embed.FS

// Examples returns the names of the example loads, in order.
func Examples() []string {
	entries, _ := examples.ReadDir("testdata")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			names = append(names, n)
		}
	}
	return names
}

// Example returns the JSON of the example load of that name.
func Example(name string) ([]byte, error) {
	var b []byte
	err := errors.New("not a name")
	if !strings.ContainsAny(name, "/\\") {
		b, err = examples.ReadFile(path.Join("testdata", name+".json"))
	}
	if err != nil {
		return nil, fmt.Errorf("load: no example %q; the examples are %s", name, strings.Join(Examples(), ", "))
	}
	return b, nil
}
