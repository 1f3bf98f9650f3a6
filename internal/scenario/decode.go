package scenario

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// decoder turns a YAML node tree into the scenario types, strictly: an unknown field, a list where
// a map belongs or "ten" where a number belongs is an error naming the file, the line and the
// field's path (steps[3].request.method). It collects every error instead of stopping at the first,
// remembers the line of every field for later checks and where ${variables} are used.
//
// yaml's own decoder (Decoder.KnownFields, *yaml.LoadErrors) also reports every unknown key and
// wrong value with its line. This one is kept for what that does not give people writing scenarios:
//   - where, in their words: "step 3 (create), request.path: ...", not only a line;
//   - for an unknown key the keys valid there, for a wrong value what the format wants there
//     (`want a whole number, got "ten"`), instead of Go types ("field methd not found in type
//     scenario.Request", "cannot construct !!str `ten` into int");
//   - the line of every field, for the checks after decoding (Scenario.check) to name;
//   - the ${variables} used, with path and line, to check each is captured before its use;
//   - short and long forms (auth: bearer or {bearer: ...}) with all of the above (nodeDecoder);
//   - duplicate keys, which yaml finds only while it builds Go values itself.
//
// What yaml does anyway is left to it: parsing (syntax errors come as *yaml.LoadError), scalars
// (Node.Decode), and field types that implement yaml.Unmarshaler (duration.Duration).
type decoder struct {
	file  string
	errs  []error
	lines map[string]int
	uses  []varUse
	names []string // the steps' names, for messages
}

// varUse is a ${name} in a field.
type varUse struct {
	name string
	path string
	line int
}

// varUses are the variables a scenario uses.
type varUses []varUse

// has reports whether a variable is used anywhere.
func (u varUses) has(name string) bool {
	for _, x := range u {
		if x.name == name {
			return true
		}
	}
	return false
}

// nodeDecoder is a type that reads its own YAML with the decoder's help: short and long forms
// whose fields need their lines, variables and path-named errors (Auth, Matcher, TokenTarget,
// Complete), and statuses that must refuse null, which yaml never hands an Unmarshaler (an Answer
// of 0 is Down). A type that needs none of that implements yaml.Unmarshaler instead.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

// errorf records an error at n.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &FileError{File: d.file, Line: n.Line, Msg: located(path, d.names, fmt.Sprintf(format, args...))})
}

var stepPathRE = regexp.MustCompile(`^steps\[(\d+)\]\.?(.*)$`)

// located puts a field path in front of a message, for people: steps[2].request.path becomes
// `step 3 (create), request.path`.
func located(path string, names []string, msg string) string {
	if path == "" {
		return msg
	}
	if m := stepPathRE.FindStringSubmatch(path); m != nil {
		i, _ := strconv.Atoi(m[1])
		where := fmt.Sprintf("step %d", i+1)
		if i < len(names) && names[i] != "" {
			where += fmt.Sprintf(" (%s)", names[i])
		}
		if m[2] != "" {
			where += ", " + m[2]
		}
		return where + ": " + msg
	}
	return path + ": " + msg
}

// stepNames finds the steps' names in a document, before it is decoded.
func stepNames(doc *yaml.Node) []string {
	var names []string
	if doc.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value != "steps" {
			continue
		}
		for _, st := range resolve(doc.Content[i+1]).Content {
			name := ""
			if st = resolve(st); st.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(st.Content); j += 2 {
					if st.Content[j].Value == "name" {
						name = st.Content[j+1].Value
					}
				}
			}
			names = append(names, name)
		}
	}
	return names
}

// FileError is a problem in a scenario file, at a line (0 when it concerns the whole file).
type FileError struct {
	File string
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

var varRE = regexp.MustCompile(`\$\{([^}]*)\}`)

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// scan records the ${variables} in the scalars under n.
func (d *decoder) scan(n *yaml.Node, path string) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		for _, m := range varRE.FindAllStringSubmatch(n.Value, -1) {
			if !nameRE.MatchString(m[1]) {
				d.errorf(n, path, "${%s} is not a variable name (letters, digits and _)", m[1])
				continue
			}
			d.uses = append(d.uses, varUse{name: m[1], path: path, line: n.Line})
		}
		return
	}
	for _, c := range n.Content {
		d.scan(c, path)
	}
}

// resolve follows aliases (*anchor) and documents to the node that holds the value.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return n
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// decode fills v (addressable) from n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	if v.CanAddr() {
		switch u := v.Addr().Interface().(type) {
		case nodeDecoder:
			u.decodeNode(d, n, path)
			return
		case yaml.Unmarshaler:
			if !isNull(n) { // as with yaml's own decoder, null leaves the value alone
				d.yamlError(n, path, u.UnmarshalYAML(n))
			}
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			return
		}
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "want a map (name: value), got %s", kindName(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := resolve(n.Content[i]), n.Content[i+1]
			if seen[k.Value] {
				d.errorf(k, path, "%q is given twice", k.Value)
			}
			seen[k.Value] = true
			sub := path + "." + k.Value
			d.lines[sub] = k.Line
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, e, sub)
			m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
		}
		v.Set(m)
	case reflect.Slice:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "want a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			sub := fmt.Sprintf("%s[%d]", path, i)
			d.lines[sub] = c.Line // an alias's own line, not its anchor's
			d.decode(c, s.Index(i), sub)
		}
		v.Set(s)
	case reflect.String:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, path, "want text, got %s", kindName(n))
			return
		}
		d.scan(n, path)
		v.SetString(n.Value)
	case reflect.Bool:
		if b, ok := scalar[bool](d, n, path, "true or false"); ok {
			v.SetBool(b)
		}
	case reflect.Int:
		if i, ok := scalar[int](d, n, path, "a whole number"); ok {
			v.SetInt(int64(i))
		}
	case reflect.Float64:
		if f, ok := scalar[float64](d, n, path, "a number"); ok {
			v.SetFloat(f)
		}
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.yamlError(n, path, err)
			return
		}
		d.scan(n, path)
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		panic(fmt.Sprintf("scenario: cannot decode into %s", v.Type()))
	}
}

// decodeStruct fills a struct from a map, by the fields' yaml tags; unknown keys are errors.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a map with %s, got %s", strings.Join(fieldNames(v.Type()), ", "), kindName(n))
		return
	}
	fields := map[string]int{}
	for i := range v.NumField() {
		if tag := v.Type().Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			fields[tag] = i
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		sub := k.Value
		if path != "" {
			sub = path + "." + k.Value
		}
		idx, ok := fields[k.Value]
		if !ok {
			d.errorf(k, path, "unknown field %q (want one of %s)", k.Value, strings.Join(fieldNames(v.Type()), ", "))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, path, "%q is given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		d.lines[sub] = k.Line
		d.decode(n.Content[i+1], v.Field(idx), sub)
	}
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	sort.Strings(names)
	return names
}

// yamlError records err, from yaml or a type's UnmarshalYAML, at path: each of *yaml.LoadErrors at
// the line yaml gives it (a type may decode nested nodes with yaml), anything else at n.
func (d *decoder) yamlError(n *yaml.Node, path string, err error) {
	if err == nil {
		return
	}
	var many *yaml.LoadErrors
	if !errors.As(err, &many) {
		d.errorf(n, path, "%v", err)
		return
	}
	for _, e := range many.Errors {
		line := e.Mark.Line
		if line == 0 {
			line = n.Line
		}
		d.errs = append(d.errs, &FileError{File: d.file, Line: line, Msg: located(path, d.names, e.Message)})
	}
}

// syntaxError turns yaml's error for a file it cannot parse into a FileError at the line it names,
// with the construct it was in when that began on another line (an unclosed {...}).
func syntaxError(file string, err error) error {
	var le *yaml.LoadError
	if !errors.As(err, &le) {
		return &FileError{File: file, Msg: "YAML syntax: " + err.Error()}
	}
	msg := le.Message
	if le.ContextMsg != "" && le.ContextMark.Line != le.Mark.Line {
		msg += fmt.Sprintf(" (%s at line %d)", le.ContextMsg, le.ContextMark.Line)
	}
	return &FileError{File: file, Line: le.Mark.Line, Msg: "YAML syntax: " + msg}
}

// scalar decodes a scalar node as a T, or reports that path wants one.
func scalar[T any](d *decoder, n *yaml.Node, path, want string) (T, bool) {
	var v T
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
		d.errorf(n, path, "want %s, got %s", want, kindName(n))
		return v, false
	}
	return v, true
}
