package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// A document of every kind of field the walk knows: the shape of a
// scenario, a trace's line and a load.
type (
	wDoc struct {
		Pause    dur      `json:"pause"`
		MaxTries int      `json:"max_tries"`
		Small    int8     `json:"small"`
		Seed     uint64   `json:"seed"`
		Growth   float64  `json:"growth"`
		Abandon  bool     `json:"abandon"`
		Name     string   `json:"name"`
		Attempts []wAtt   `json:"attempts"`
		Flip     []int    `json:"flip"`
		CancelAt *dur     `json:"cancel_at"`
		Down     *wWindow `json:"down"`
		Raw      json.RawMessage
		Any      any               `json:"any"`
		Tags     map[string]int    `json:"tags"`
		Skipped  int               `json:"-"`
		wEmbed                     // its fields are the document's
		Named    map[string]wEmbed `json:"named"`
	}
	wAtt struct {
		Takes   dur    `json:"takes"`
		Outcome string `json:"outcome"`
	}
	wWindow struct {
		From dur `json:"from"`
		To   dur `json:"to"`
	}
	wEmbed struct {
		Burst int `json:"burst"`
	}
)

// noBadDuration is the badDuration of a test that has none to name.
func noBadDuration([]byte) string { return "" }

// TestStrict_says where a document is wrong, with its line and column,
// and names the field; exact messages.
func TestStrict_says(t *testing.T) {
	for _, tc := range []struct{ name, in, err string }{
		{"cut short in an attempt", `{"pause": "1ms", "attempts": [{"outcome": "retryable"`,
			`line 1, column 54: unexpected end of input: the object of attempts[0] (from line 1, column 31) is not closed`},
		{"cut short in a string", "{\n  \"name\": \"a", `line 2, column 13: unexpected end of input: the object (from line 1, column 1) is not closed`},
		{"cut short at the top", `{`, `line 1, column 2: unexpected end of input: the object (from line 1, column 1) is not closed`},
		{"cut short in a word", `nul`, `line 1, column 4: unexpected end of input`},
		{"a trailing comma", "{\"pause\": \"1ms\",\n \"attempts\": [\n  {\"outcome\": \"ok\",}]}",
			`line 3, column 20: invalid character '}' looking for beginning of object key string`},
		{"a wide character before", `{"name": "é", "max_tries": x}`, `line 1, column 28: invalid character 'x' looking for beginning of value`},
		{"a bad escape", `{"name": "a\x"}`, `line 1, column 13: invalid character 'x' in string escape code`},
		{"a bad number", `{"growth": 1.e5}`, `line 1, column 14: invalid character 'e' after decimal point in numeric literal`},
		{"no colon", `{"name" 1}`, `line 1, column 9: invalid character '1' after object key`},
		{"an unknown short field", `{"a": 1}`, `line 1, column 2: unknown field "a"`},
		{"an unknown field, one letter off", `{"nam": 1}`, `line 1, column 2: unknown field "nam" (did you mean "name"?)`},
		{"a field twice", `{"pause": "1ms", "pause": "2ms"}`,
			`line 1, column 18: duplicate field "pause" (first at line 1, column 2); give each field once`},
		{"a field twice, in two cases", `{"pause": "1ms",` + "\n" + `"Pause": "2ms"}`,
			`line 2, column 1: duplicate field "Pause" (first as "pause" at line 1, column 2); give each field once`},
		{"a field of an attempt twice", `{"attempts": [{"outcome": "ok"}, {"outcome": "ok", "outcome": "hang"}]}`,
			`line 1, column 52: duplicate field "outcome" in attempts[1] (first at line 1, column 35); give each field once`},
		{"a key of a map twice", `{"tags": {"a": 1, "a": 2}}`,
			`line 1, column 19: duplicate key "a" in tags (first at line 1, column 11); give each key once`},
		{"an embedded field twice", `{"burst": 1, "burst": 2}`,
			`line 1, column 14: duplicate field "burst" (first at line 1, column 2); give each field once`},
		{"an unknown field", `{"max_try": 3}`, `line 1, column 2: unknown field "max_try"`},
		{"an unknown field, misspelt", `{"maxTries": 3}`, `line 1, column 2: unknown field "maxTries" (did you mean "max_tries"?)`},
		{"an unknown field of an attempt", `{"attempts": [{"tkes": "1s"}]}`,
			`line 1, column 16: unknown field "tkes" in attempts[0] (did you mean "takes"?)`},
		{"an unknown field of a pointer's", `{"down": {"form": "1s"}}`,
			`line 1, column 11: unknown field "form" in down (did you mean "from"?)`},
		{"a field named -", `{"-": 1}`, `line 1, column 2: unknown field "-"`},
		{"a field named Skipped", `{"Skipped": 1}`, `line 1, column 2: unknown field "Skipped"`},
		{"a string for a number", `{"max_tries": "3"}`, `line 1, column 15: max_tries is the string "3"; want a whole number`},
		{"a fraction for a whole number", `{"max_tries": 1.5}`, `line 1, column 15: max_tries is 1.5; want a whole number, in digits only`},
		{"an exponent for a whole number", `{"max_tries": 1e3}`, `line 1, column 15: max_tries is 1e3; want a whole number, in digits only`},
		{"an int out of range", `{"max_tries": 9223372036854775808}`,
			`line 1, column 15: max_tries is 9223372036854775808; want a whole number from -9223372036854775808 to 9223372036854775807`},
		{"an int8 out of range", `{"small": 128}`, `line 1, column 11: small is 128; want a whole number from -128 to 127`},
		{"a negative uint", `{"seed": -1}`, `line 1, column 10: seed is -1; want a whole number from 0 to 18446744073709551615`},
		{"a float out of range", `{"growth": 1e400}`, `line 1, column 12: growth is 1e400; want a number that a float64 holds`},
		{"a number for a bool", `{"abandon": 1}`, `line 1, column 13: abandon is 1; want true or false`},
		{"a bool for a string", `{"name": true}`, `line 1, column 10: name is true; want a string`},
		{"an object for an array", `{"attempts": {}}`, `line 1, column 14: attempts is an object; want an array`},
		{"a number for an object", `{"attempts": [1]}`, `line 1, column 15: attempts[0] is 1; want an object`},
		{"an array for a map", `{"tags": []}`, `line 1, column 10: tags is an array; want an object`},
		{"a string in a list of numbers", `{"flip": [1, "a"]}`, `line 1, column 14: flip[1] is the string "a"; want a whole number`},
		{"an array for the document", `[]`, `line 1, column 1: the JSON value is an array; want an object`},
		{"a string for the document", `"x"`, `line 1, column 1: the JSON value is the string "x"; want an object`},
		{"nothing", ``, `line 1, column 1: the input is empty; want a JSON object`},
		{"blanks", " \n\t", `line 1, column 1: the input is empty; want a JSON object`},
		{"more after", "{\"pause\": \"1ms\"}\n x", `line 2, column 2: more after the JSON value`},
		{"a second object", `{"pause": "1ms"}{`, `line 1, column 17: more after the JSON value`},
		{"the fields of an unknown field's value are not looked at", `{"max_try": {"a": 1, "a": 2}}`, `line 1, column 2: unknown field "max_try"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v wDoc
			err := Strict([]byte(tc.in), &v, noBadDuration)
			if err == nil || err.Error() != tc.err {
				t.Fatalf("Strict(%q) = %v\nwant %s", tc.in, err, tc.err)
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Errorf("Strict(%q) = %T; want an *Error", tc.in, err)
			}
		})
	}
}

// TestStrict_accepts what encoding/json decodes, and decodes it the same:
// null anywhere, fields in any case, values that decode themselves
// (durations, raw JSON, anything for an interface) whatever their shape.
func TestStrict_accepts(t *testing.T) {
	for _, in := range []string{
		`{}`,
		` {"cancel_at": null, "attempts": null, "down": null, "max_tries": null} `,
		`{"PAUSE": "1ms", "Max_Tries": 3}`,
		`{"Raw": {"a": [1, {"a": 2, "a": 3}]}, "any": [{"x": 1}, "y", null, true]}`,
		`{"attempts": [{"takes": "1s", "outcome": "ok"}, {}], "flip": [0, 1], "down": {"from": "1s", "to": "2s"}}`,
		`{"tags": {"a": 1, "b": -2}, "named": {"x": {"burst": 1}}, "burst": 3, "seed": 18446744073709551615}`,
		"{\"name\": \"\\u00e9\\n\", \"growth\": -1.5e-3, \"small\": -128}\n",
	} {
		var got, want wDoc
		if err := Strict([]byte(in), &got, noBadDuration); err != nil {
			t.Errorf("Strict(%s) = %v", in, err)
			continue
		}
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Strict(%s) decodes %+v; encoding/json %+v", in, got, want)
		}
	}
}

// A bad duration is named by badDuration, and found where it is.
func TestStrict_badDurationWhere(t *testing.T) {
	in := "{\"attempts\": [\n  {\"takes\": \"1s\"},\n  {\"takes\": \"soon\"}]}"
	var v wDoc
	err := Strict([]byte(in), &v, func([]byte) string { return "attempts[1].takes" })
	want := `line 3, column 13: attempts[1].takes: bad duration "soon": time: invalid duration "soon"`
	if err == nil || err.Error() != want {
		t.Errorf("Strict = %v\nwant %s", err, want)
	}
}

func TestPosition(t *testing.T) {
	b := []byte("ab\ncé\n\nd")
	for _, tc := range []struct {
		offset    int64
		line, col int
	}{
		{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {4, 2, 2}, {6, 2, 3}, {7, 3, 1}, {8, 4, 1}, {9, 4, 2}, {99, 4, 2}, {-1, 1, 1},
	} {
		if line, col := Position(b, tc.offset); line != tc.line || col != tc.col {
			t.Errorf("Position(%q, %d) = %d, %d; want %d, %d", b, tc.offset, line, col, tc.line, tc.col)
		}
	}
}

// FuzzStrict: for any bytes, Strict does not panic; what it accepts,
// encoding/json decodes to the same value; what it refuses and
// encoding/json (refusing unknown fields) accepts has a field given twice.
func FuzzStrict(f *testing.F) {
	for _, s := range []string{`{"pause": "1ms", "attempts": [{"outcome": "ok"}]}`, `{"a": 1, "a": 2}`, `{"tags": {"a": 1}}`,
		`{"burst": 1, "named": {"x": {"burst": 2}}}`, `[`, `{"flip": [1, 2, 3]`, `{"Raw": [[[[]]]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got wDoc
		err := Strict(b, &got, noBadDuration)
		var want wDoc
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		jerr := dec.Decode(&want)
		if jerr == nil {
			if _, err := dec.Token(); err == nil || err.Error() != "EOF" {
				jerr = errors.New("more after the value")
			}
		}
		switch {
		case err == nil && jerr != nil:
			t.Fatalf("Strict accepts %q, which encoding/json refuses: %v", b, jerr)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("Strict decodes %q to %+v; encoding/json to %+v", b, got, want)
		case err != nil && jerr == nil && !strings.Contains(err.Error(), "duplicate "):
			t.Fatalf("Strict refuses %q, which encoding/json accepts: %v", b, err)
		}
	})
}
