package scenario

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// maxValues bounds the values a document may expand to: aliases may repeat a subtree, and a few
// lines of nested aliases would otherwise expand to billions.
const maxValues = 100_000

// tree is a YAML document as the JSON value the schema judges, with where each value came from,
// the ${variables} it uses, and what only the YAML shows (a key given twice).
type tree struct {
	file  string
	value any
	lines map[string]int // field path → line (of the key naming it, or of the list item)
	uses  []varUse
	names []string // the steps' names, for messages
	errs  []error
	count int
}

// varUse is a ${name} in a field.
type varUse struct {
	name string
	path string
	line int
}

// newTree converts the document under root.
func newTree(file string, root *yaml.Node) *tree {
	t := &tree{file: file, lines: map[string]int{"": root.Line}}
	t.names = stepNames(root)
	t.value = t.convert(root, "")
	return t
}

// convert turns n into JSON's shapes: maps, lists, strings, numbers, booleans, null.
func (t *tree) convert(n *yaml.Node, path string) any {
	n = resolve(n)
	if t.count++; t.count > maxValues {
		if t.count == maxValues+1 {
			t.errorf(n.Line, path, "the file expands to more than %d values (aliases?)", maxValues)
		}
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				t.errorf(k.Line, path, "a key must be text")
				continue
			}
			if _, dup := m[k.Value]; dup {
				t.errorf(k.Line, path, "%q is given twice", k.Value)
				continue
			}
			sub := k.Value
			if path != "" {
				sub = path + "." + k.Value
			}
			t.lines[sub] = k.Line
			m[k.Value] = t.convert(n.Content[i+1], sub)
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			sub := path + "[" + strconv.Itoa(i) + "]"
			t.lines[sub] = c.Line // an alias's own line, not its anchor's
			l[i] = t.convert(c, sub)
		}
		return l
	case yaml.ScalarNode:
		return t.scalar(n, path)
	}
	return nil
}

// scalar is a scalar's JSON value: YAML's null, booleans and numbers as such, anything else
// (timestamps included) as the text written.
func (t *tree) scalar(n *yaml.Node, path string) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			return i
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f
		}
	}
	for _, m := range varRE.FindAllStringSubmatch(n.Value, -1) {
		if !nameRE.MatchString(m[1]) {
			t.errorf(n.Line, path, "${%s} is not a variable name (letters, digits and _)", m[1])
			continue
		}
		t.uses = append(t.uses, varUse{name: m[1], path: path, line: n.Line})
	}
	return n.Value
}

func (t *tree) errorf(line int, path, format string, args ...any) {
	t.errs = append(t.errs, t.fileError(line, path, fmt.Sprintf(format, args...)))
}

// fileError is msg about the field at path, at line of the file.
func (t *tree) fileError(line int, path, msg string) *FileError {
	return &FileError{File: t.file, Line: line, Msg: located(path, t.names, msg)}
}

// lookup is the value at a JSON pointer's tokens.
func (t *tree) lookup(tokens []string) any { return at(t.value, tokens) }

// at is the value at a JSON pointer's (unescaped) tokens in v, decoded JSON or YAML; nil when
// there is none.
func at(v any, tokens []string) any {
	for _, tok := range tokens {
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// path is the field path of the value at a JSON pointer's tokens: steps[2].request.path.
func (t *tree) path(tokens []string) string {
	var b strings.Builder
	v := t.value
	for _, tok := range tokens {
		switch x := v.(type) {
		case []any:
			b.WriteString("[" + tok + "]")
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(x) {
				v = x[i]
			}
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
			m, _ := v.(map[string]any)
			v = m[tok]
		}
	}
	return b.String()
}

// line is the line of a field path, or of the nearest field around it that has one.
func (t *tree) line(path string) int {
	for {
		if l, ok := t.lines[path]; ok || path == "" {
			return l
		}
		if i := strings.LastIndexAny(path, ".["); i > 0 {
			path = path[:i]
		} else {
			path = ""
		}
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

// stepNames finds the steps' names in a document.
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
