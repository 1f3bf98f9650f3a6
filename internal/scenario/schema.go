package scenario

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/equalture/equalture-mock/internal/assets"
)

// schemaURL is the schema's $id.
const schemaURL = "https://github.com/equalture/equalture-mock/scenarios/scenario.schema.json"

// schema is scenarios/scenario.schema.json, compiled.
type schema struct {
	compiled *jsonschema.Schema
	// doc is the schema document, read to word errors: a failing subschema's errorMessage, the
	// fields an object knows, the alternatives of an anyOf.
	doc any
}

// loadSchema is the embedded scenario schema, compiled once per process.
var loadSchema = sync.OnceValues(func() (*schema, error) { return compileSchema(assets.ScenarioSchema()) })

// compileSchema compiles a scenario schema (JSON Schema draft 2020-12); formats (date-time) are
// asserted.
func compileSchema(src []byte) (*schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("scenario schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("scenario schema: %w", err)
	}
	compiled, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("scenario schema: %w", err)
	}
	return &schema{compiled: compiled, doc: doc}, nil
}

// check validates a document's tree and words each problem for people, at its line.
func (s *schema) check(t *tree) []error {
	err := s.compiled.Validate(t.value)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []error{&FileError{File: t.file, Msg: err.Error()}}
	}
	w := &worder{s: s, t: t}
	w.walk(ve, "")
	return w.errs
}

// worder turns a validation error tree into FileErrors.
type worder struct {
	s    *schema
	t    *tree
	errs []error
}

func (w *worder) add(loc []string, line int, msg string) {
	path := w.t.path(loc)
	if line == 0 {
		line = w.t.line(path)
	}
	w.errs = append(w.errs, w.t.fileError(line, path, msg))
}

// keyLine is the line of the key name in the object at loc.
func (w *worder) keyLine(loc []string, name string) int {
	path := w.t.path(loc)
	if path != "" {
		path += "."
	}
	return w.t.line(path + name)
}

// walk words e and its causes. want is the errorMessage of a $ref'ing schema, which words what
// fails at the same place in the schema it refers to.
func (w *worder) walk(e *jsonschema.ValidationError, want string) {
	sub := w.s.subschema(e.SchemaURL)
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.AllOf:
		w.causes(e, want)
	case *kind.Reference:
		if m := str(sub["errorMessage"]); m != "" {
			want = m
		}
		w.causes(e, want)
	case *kind.AnyOf:
		w.alternatives(e, sub, "anyOf", want)
	case *kind.OneOf:
		if names := exactlyOne(sub); names != nil {
			w.exactlyOne(e, sub, names)
			return
		}
		if k.Subschemas != nil {
			w.add(e.InstanceLocation, 0, cmp.Or(str(sub["errorMessage"]), "matches more than one form"))
			return
		}
		w.alternatives(e, sub, "oneOf", want)
	default:
		w.leaf(e, sub, want)
	}
}

func (w *worder) causes(e *jsonschema.ValidationError, want string) {
	for _, c := range e.Causes {
		if _, ok := c.ErrorKind.(*kind.PropertyNames); ok {
			// jsonschema v6.0.3 hands a propertyNames error a location slice it goes on
			// appending to; the error is about the object its parent error is at.
			c.InstanceLocation = e.InstanceLocation
		}
		if slices.Equal(c.InstanceLocation, e.InstanceLocation) {
			w.walk(c, want)
		} else {
			w.walk(c, "") // want words this value, not the values inside it
		}
	}
}

// alternatives words an anyOf or oneOf nothing matched: through the one alternative that takes
// the value's type (a ${variable} alternative aside), else as what is wanted.
func (w *worder) alternatives(e *jsonschema.ValidationError, sub map[string]any, keyword string, want string) {
	branches, _ := sub[keyword].([]any)
	v := w.t.lookup(e.InstanceLocation)
	var fits []int
	for i, b := range branches {
		if w.s.takes(b, jsonType(v)) {
			fits = append(fits, i)
		}
	}
	if len(fits) > 1 {
		fits = slices.DeleteFunc(fits, func(i int) bool { return w.s.isVariable(branches[i]) })
	}
	if len(fits) == 1 && fits[0] < len(e.Causes) && len(e.Causes) == len(branches) {
		w.walk(e.Causes[fits[0]], "")
		return
	}
	msg := cmp.Or(want, str(sub["errorMessage"]))
	if msg == "" {
		var types []string
		for _, b := range branches {
			for _, typ := range w.s.types(b) {
				if !slices.Contains(types, typ) {
					types = append(types, typ)
				}
			}
		}
		msg = "want " + orList(typeNames(types))
	}
	w.add(e.InstanceLocation, 0, msg+", got "+describe(v))
}

// exactlyOne words a oneOf of {required: [name]} alternatives: exactly one of the names.
func (w *worder) exactlyOne(e *jsonschema.ValidationError, sub map[string]any, names []string) {
	var has []string
	if m, ok := w.t.lookup(e.InstanceLocation).(map[string]any); ok {
		for _, n := range names {
			if _, ok := m[n]; ok {
				has = append(has, n)
			}
		}
	}
	slices.Sort(has)
	switch msg := str(sub["errorMessage"]); {
	case msg != "" && len(has) == 0:
		w.add(e.InstanceLocation, 0, msg)
	case msg != "":
		w.add(e.InstanceLocation, 0, fmt.Sprintf("%s, not both (has %s)", msg, strings.Join(has, " and ")))
	case len(has) == 0:
		w.add(e.InstanceLocation, 0, "needs exactly one of "+strings.Join(names, ", ")+" (has none)")
	default:
		w.add(e.InstanceLocation, 0, "needs exactly one of "+strings.Join(names, ", ")+" (has "+strings.Join(has, " and ")+")")
	}
}

// leaf words one failed keyword. A value that is not what is wanted is worded "want …, got …";
// the "want …" is the errorMessage of the schema $ref'ing the failing one, else the failing
// subschema's own.
func (w *worder) leaf(e *jsonschema.ValidationError, sub map[string]any, want string) {
	v := w.t.lookup(e.InstanceLocation)
	own := str(sub["errorMessage"])
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		known := slices.Sorted(maps.Keys(mapOf(sub["properties"])))
		for _, name := range k.Properties {
			msg := fmt.Sprintf("unknown field %q", name)
			if len(known) > 0 {
				msg += " (want one of " + strings.Join(known, ", ") + ")"
			}
			if own != "" {
				msg += "; " + own
			}
			w.add(e.InstanceLocation, w.keyLine(e.InstanceLocation, name), msg)
		}
		return
	case *kind.PropertyNames:
		w.add(e.InstanceLocation, w.keyLine(e.InstanceLocation, k.Property), fmt.Sprintf("%q %s", k.Property, cmp.Or(own, "is not allowed as a name here")))
		return
	case *kind.Required:
		w.add(e.InstanceLocation, 0, cmp.Or(own, missing(k.Missing)))
		return
	case *kind.Not, *kind.FalseSchema:
		w.add(e.InstanceLocation, 0, cmp.Or(own, "is not allowed here"))
		return
	}
	msg := cmp.Or(want, own)
	if msg == "" {
		msg = wanted(e.ErrorKind)
	}
	got := describe(v)
	if k, ok := e.ErrorKind.(*kind.MinItems); ok {
		got = strconv.Itoa(k.Got)
	}
	w.add(e.InstanceLocation, 0, msg+", got "+got)
}

// wanted says what a failed value keyword wants (those the scenario schema uses).
func wanted(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return "want " + orList(typeNames(k.Want))
	case *kind.Enum:
		vals := make([]string, len(k.Want))
		for i, x := range k.Want {
			vals[i] = Text(x)
		}
		return "want " + orList(vals)
	case *kind.Const:
		return "want " + Text(k.Want)
	case *kind.Pattern:
		return "want text matching " + k.Want
	case *kind.Format:
		return "want a " + k.Want
	case *kind.Minimum:
		return "want " + ratString(k.Want) + " or more"
	case *kind.Maximum:
		return "want " + ratString(k.Want) + " or less"
	case *kind.MinItems:
		return fmt.Sprintf("want at least %d items", k.Want)
	}
	return "want what " + strings.Join(k.KeywordPath(), "/") + " allows"
}

func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func missing(names []string) string {
	if len(names) == 1 {
		return names[0] + " is missing"
	}
	return andList(names) + " are missing"
}

// describe is a value as messages show it after "got".
func describe(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case nil:
		return "nothing"
	}
	return show(v)
}

// typeNames are JSON types in the words of the format.
func typeNames(types []string) []string {
	words := map[string]string{"string": "text", "integer": "a whole number", "number": "a number",
		"boolean": "true or false", "object": "a map", "array": "a list", "null": "nothing"}
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = cmp.Or(words[t], t)
	}
	return out
}

func orList(items []string) string  { return joinLast(items, " or ") }
func andList(items []string) string { return joinLast(items, " and ") }
func joinLast(items []string, last string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + last + items[len(items)-1]
}

// jsonType is a JSON value's type as the schema names it.
func jsonType(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	case int64:
		return "integer"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
	}
	return "number"
}

// takes reports whether a subschema may accept a value of a JSON type, by its type, enum or const
// (through $ref, anyOf, oneOf); a subschema that says none of those may take anything.
func (s *schema) takes(sub any, typ string) bool {
	types := s.types(sub)
	return types == nil || slices.Contains(types, typ) || typ == "integer" && slices.Contains(types, "number")
}

// types are the JSON types a subschema accepts, nil when it does not say.
func (s *schema) types(sub any) []string {
	m := mapOf(sub)
	switch t := m["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, str(x))
		}
		return out
	}
	if c, ok := m["const"]; ok {
		return []string{jsonType(c)}
	}
	if e, ok := m["enum"].([]any); ok {
		var out []string
		for _, x := range e {
			if t := jsonType(x); !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
		return out
	}
	if ref := str(m["$ref"]); ref != "" {
		return s.types(s.subschema(ref))
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		if alts, ok := m[kw].([]any); ok {
			var out []string
			for _, a := range alts {
				ts := s.types(a)
				if ts == nil {
					return nil
				}
				out = append(out, ts...)
			}
			return out
		}
	}
	return nil
}

// isVariable reports whether a subschema is the ${variable} alternative.
func (s *schema) isVariable(sub any) bool { return str(mapOf(sub)["$ref"]) == "#/$defs/withVariable" }

// exactlyOne is the names of a oneOf whose alternatives each require one field, or nil.
func exactlyOne(sub map[string]any) []string {
	alts, _ := sub["oneOf"].([]any)
	var names []string
	for _, a := range alts {
		m := mapOf(a)
		req, _ := m["required"].([]any)
		if len(m) != 1 || len(req) != 1 {
			return nil
		}
		names = append(names, str(req[0]))
	}
	return names
}

// subschema is the schema document's part a schema location (…#/$defs/step, #/$defs/x) names.
func (s *schema) subschema(loc string) map[string]any {
	_, frag, _ := strings.Cut(loc, "#")
	tokens := strings.Split(frag, "/")[1:]
	for i, tok := range tokens {
		if u, err := url.PathUnescape(tok); err == nil {
			tok = u
		}
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
	}
	v := at(s.doc, tokens)
	return mapOf(v)
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
