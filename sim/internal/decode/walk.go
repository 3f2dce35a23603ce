package decode

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// walk reads the JSON value in b as a value of type t would take it, and
// reports the first thing wrong with it, with its line and column: a
// syntax error, the input ending inside the value, a key that is no field
// of t (or a field given twice), a value of the wrong type, anything after
// the value. What it accepts, encoding/json decodes into a t without a
// syntax or type error, and with no field given twice (encoding/json
// would keep the last); only the values of types that decode themselves
// (json.Unmarshaler, such as a duration) are left to them.
func walk(b []byte, t reflect.Type) error {
	w := &walker{b: b, dec: json.NewDecoder(bytes.NewReader(b))}
	w.dec.UseNumber()
	if len(strings.TrimSpace(string(b))) == 0 {
		return &Error{Line: 1, Column: 1, Err: errors.New("the input is empty; want a JSON object")}
	}
	if err := w.value(t, ""); err != nil {
		return err
	}
	at := w.next()
	if _, err := w.dec.Token(); err != io.EOF {
		return w.errorAt(at, errors.New("more after the JSON value"))
	}
	return nil
}

// find returns the offset in b of the value at path (as walk names
// paths: scenario.attempts[1].takes), or -1 if there is none.
func find(b []byte, t reflect.Type, path string) int64 {
	w := &walker{b: b, dec: json.NewDecoder(bytes.NewReader(b)), want: path, found: -1}
	w.dec.UseNumber()
	w.value(t, "") // errFound, or the walk's own error
	return w.found
}

// errFound stops a walk at the path it looks for.
var errFound = errors.New("found")

// walker reads a document token by token; open is the stack of the
// objects and arrays it is inside. A walker that looks for the value at
// the path want stops there, at found.
type walker struct {
	b    []byte
	dec  *json.Decoder
	open []opened

	want  string
	found int64
}

// opened is an object or array being read: its path and where it began.
type opened struct {
	path string
	at   int64
	kind string // "object" or "array"
}

// next returns the offset of the next token: the decoder's offset past
// the separators before it.
func (w *walker) next() int64 {
	at := w.dec.InputOffset()
	for at < int64(len(w.b)) && strings.IndexByte(" \t\r\n,:", w.b[at]) >= 0 {
		at++
	}
	return at
}

func (w *walker) errorAt(offset int64, err error) *Error {
	line, col := Position(w.b, offset)
	return &Error{Line: line, Column: col, Err: err}
}

// token returns the next token and its offset, or the error of a
// document that does not go on as JSON.
func (w *walker) token() (json.Token, int64, error) {
	at := w.next()
	tok, err := w.dec.Token()
	if err == nil {
		return tok, at, nil
	}
	if _, ok := errors.AsType[*json.SyntaxError](err); ok {
		// The offset of a Decoder's syntax error counts from where it
		// began to read a value; scanning the document from its start
		// finds the same first error, and its offset counts the bytes up to
		// the one at fault, that one included.
		var v any
		if se, ok := errors.AsType[*json.SyntaxError](json.Unmarshal(w.b, &v)); ok {
			return nil, at, w.errorAt(max(se.Offset-1, 0), errors.New(se.Error()))
		}
		return nil, at, w.errorAt(at, err)
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		msg := "unexpected end of input"
		if n := len(w.open); n > 0 {
			o := w.open[n-1]
			line, col := Position(w.b, o.at)
			msg += fmt.Sprintf(": the %s %s(from line %d, column %d) is not closed", o.kind, pathWords(o.path, "of "), line, col)
		}
		return nil, at, w.errorAt(int64(len(w.b)), errors.New(msg))
	}
	return nil, at, w.errorAt(at, err)
}

// pathWords returns prefix+path+" ", or "" at the top.
func pathWords(path, prefix string) string {
	if path == "" {
		return ""
	}
	return prefix + path + " "
}

var (
	unmarshaler     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value reads one value of type t, found at path.
func (w *walker) value(t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer && !decodesItself(t) {
		t = t.Elem()
	}
	tok, at, err := w.token()
	if err != nil {
		return err
	}
	if w.want != "" && path == w.want {
		w.found = at
		return errFound
	}
	if tok == nil {
		return nil // null: encoding/json leaves the value as it is
	}
	d, isDelim := tok.(json.Delim)
	if isDelim {
		kind := "object"
		if d == '[' {
			kind = "array"
		}
		w.open = append(w.open, opened{path, at, kind})
		defer func() { w.open = w.open[:len(w.open)-1] }()
	}
	switch {
	case decodesItself(t) || t.Kind() == reflect.Interface:
		if isDelim {
			return w.skip(d)
		}
		return nil
	case d == '{' && t.Kind() == reflect.Struct:
		return w.object(t, path)
	case d == '{' && t.Kind() == reflect.Map:
		return w.mapOf(t, path)
	case d == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8:
		for i := 0; w.dec.More(); i++ {
			if err := w.value(t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, _, err := w.token()
		return err
	}
	if err := leaf(t, tok); err != nil {
		name := path
		if name == "" {
			name = "the JSON value"
		}
		return w.errorAt(at, fmt.Errorf("%s is %s; want %s", name, words(tok), err))
	}
	return nil
}

// decodesItself says whether values of t decode themselves, as
// encoding/json lets them.
func decodesItself(t reflect.Type) bool {
	return t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) ||
		t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)
}

// skip reads the rest of an object or array whose delimiter d was read.
func (w *walker) skip(d json.Delim) error {
	for depth := 1; depth > 0; {
		tok, _, err := w.token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// object reads the members of an object, for a struct of type t.
func (w *walker) object(t reflect.Type, path string) error {
	fields := fieldsOf(t)
	type given struct {
		key string
		at  int64
	}
	seen := map[int]given{} // by the field's index in fields
	for w.dec.More() {
		tok, at, err := w.token()
		if err != nil {
			return err
		}
		key := tok.(string) // in an object, the decoder gives keys here
		i := fields.find(key)
		if i < 0 {
			msg := fmt.Sprintf("unknown field %q %s", key, pathWords(path, "in "))
			if s := fields.suggest(key); s != "" {
				msg += fmt.Sprintf("(did you mean %q?)", s)
			}
			return w.errorAt(at, errors.New(strings.TrimSpace(msg)))
		}
		if first, ok := seen[i]; ok {
			as := ""
			if first.key != key {
				as = fmt.Sprintf("as %q ", first.key)
			}
			line, col := Position(w.b, first.at)
			return w.errorAt(at, fmt.Errorf("duplicate field %q %s(first %sat line %d, column %d); give each field once",
				key, pathWords(path, "in "), as, line, col))
		}
		seen[i] = given{key, at}
		if err := w.value(fields[i].typ, join(path, key)); err != nil {
			return err
		}
	}
	_, _, err := w.token()
	return err
}

// mapOf reads the members of an object, for a map of type t.
func (w *walker) mapOf(t reflect.Type, path string) error {
	seen := map[string]int64{}
	for w.dec.More() {
		tok, at, err := w.token()
		if err != nil {
			return err
		}
		key := tok.(string)
		if first, ok := seen[key]; ok {
			line, col := Position(w.b, first)
			return w.errorAt(at, fmt.Errorf("duplicate key %q %s(first at line %d, column %d); give each key once",
				key, pathWords(path, "in "), line, col))
		}
		seen[key] = at
		if err := w.value(t.Elem(), join(path, key)); err != nil {
			return err
		}
	}
	_, _, err := w.token()
	return err
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// leaf checks a scalar token against the kind of t, and returns what t
// wants if it does not fit.
func leaf(t reflect.Type, tok json.Token) error {
	switch t.Kind() {
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return errors.New("a string")
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return errors.New("true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := tok.(json.Number)
		if !ok {
			return errors.New("a whole number")
		}
		if strings.ContainsAny(string(n), ".eE") {
			return errors.New("a whole number, in digits only")
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			lo, hi := int64(-1)<<(t.Bits()-1), int64(1)<<(t.Bits()-1)-1
			return fmt.Errorf("a whole number from %d to %d", lo, hi)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, ok := tok.(json.Number)
		if !ok {
			return errors.New("a whole number")
		}
		if strings.ContainsAny(string(n), ".eE") {
			return errors.New("a whole number, in digits only")
		}
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			return fmt.Errorf("a whole number from 0 to %d", uint64(math.MaxUint64)>>(64-t.Bits()))
		}
	case reflect.Float32, reflect.Float64:
		n, ok := tok.(json.Number)
		if !ok {
			return errors.New("a number")
		}
		if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			return fmt.Errorf("a number that a float%d holds", t.Bits())
		}
	case reflect.Struct, reflect.Map:
		return errors.New("an object")
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			if _, ok := tok.(string); !ok {
				return errors.New("a base64 string")
			}
			return nil
		}
		return errors.New("an array")
	default:
		return fmt.Errorf("no JSON value (a %v cannot be decoded)", t)
	}
	return nil
}

// words says what a token is, for a message.
func words(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "the string " + strconv.Quote(v)
	case json.Number:
		return string(v)
	}
	return fmt.Sprint(tok)
}

// A field is a field of a struct as encoding/json decodes it: its name
// in JSON and its type.
type field struct {
	name string
	typ  reflect.Type
}

type fieldList []field

// find returns the index of the field key names, as encoding/json finds
// it (the exact name first, then any other case), or -1.
func (fs fieldList) find(key string) int {
	for i, f := range fs {
		if f.name == key {
			return i
		}
	}
	for i, f := range fs {
		if strings.EqualFold(f.name, key) {
			return i
		}
	}
	return -1
}

// suggest returns the name of the field key may be a misspelling of: the
// same name but for case and separators, or the closest one within two
// edits (one for a key of three characters or less, none for one); "" if
// none is.
func (fs fieldList) suggest(key string) string {
	plain := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(s))
	}
	best, bestD := "", min(3, len(key)-1) // the edits allowed, plus one
	if len(key) <= 3 {
		bestD = min(bestD, 2)
	}
	for _, f := range fs {
		if plain(f.name) == plain(key) {
			return f.name
		}
		if d := distance(key, f.name); d < bestD {
			best, bestD = f.name, d
		}
	}
	return best
}

// distance returns the edit distance of a and b (Levenshtein, by bytes).
func distance(a, b string) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			diag, row[j] = row[j], min(row[j]+1, row[j-1]+1, diag+cost)
		}
	}
	return row[len(b)]
}

var fieldCache sync.Map // reflect.Type: fieldList

// fieldsOf returns the fields encoding/json decodes into a struct of type
// t: its exported fields, by their json tag's name or their own, those of
// an embedded struct without a name promoted (a shallower one wins).
func fieldsOf(t reflect.Type) fieldList {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(fieldList)
	}
	var fs fieldList
	seen := map[string]bool{}
	level := []reflect.Type{t}
	for len(level) > 0 {
		var deeper []reflect.Type
		for _, st := range level {
			for i := range st.NumField() {
				sf := st.Field(i)
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				ft := sf.Type
				if sf.Anonymous && name == "" {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if ft.Kind() == reflect.Struct {
						deeper = append(deeper, ft)
						continue
					}
				}
				if !sf.IsExported() {
					continue
				}
				if name == "" {
					name = sf.Name
				}
				if !seen[name] {
					seen[name] = true
					fs = append(fs, field{name, ft})
				}
			}
		}
		level = deeper
	}
	fieldCache.Store(t, fs)
	return fs
}
