package scenario

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Matcher is an expectation on one value: a bare value means equals; a map holds one of equals,
// exists, matches (a regexp), one_of, contains, length.
type Matcher struct {
	Equals   any
	Exists   *bool
	Matches  *regexp.Regexp
	OneOf    []any
	Contains string
	Length   *int

	hasEquals bool
}

// UnmarshalYAML reads the bare or the map form.
func (m *Matcher) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
		m.Equals, m.hasEquals = v, true
		return nil
	}
	var raw struct {
		Equals   yaml.Node `yaml:"equals"`
		Exists   *bool     `yaml:"exists"`
		Matches  string    `yaml:"matches"`
		OneOf    []any     `yaml:"one_of"`
		Contains string    `yaml:"contains"`
		Length   *int      `yaml:"length"`
	}
	if err := decodeStrict(n, &raw); err != nil {
		return err
	}
	if raw.Equals.Kind != 0 {
		if err := raw.Equals.Decode(&m.Equals); err != nil {
			return err
		}
		m.hasEquals = true
	}
	if raw.Matches != "" {
		re, err := regexp.Compile(raw.Matches)
		if err != nil {
			return fmt.Errorf("line %d: matches %q is not a regular expression: %v", n.Line, raw.Matches, err)
		}
		m.Matches = re
	}
	m.Exists, m.OneOf, m.Contains, m.Length = raw.Exists, raw.OneOf, raw.Contains, raw.Length
	return nil
}

// MarshalYAML keeps ${vars} in matchers visible to the variable check.
func (m Matcher) MarshalYAML() (any, error) {
	out := map[string]any{"equals": m.Equals, "one_of": m.OneOf, "contains": m.Contains}
	if m.Matches != nil {
		out["matches"] = m.Matches.String()
	}
	return out, nil
}

// check compares got (found tells whether the path exists) with the matcher, expanding ${vars}
// in the expected values with expand.
func (m Matcher) check(got any, found bool, expand func(string) string) error {
	if m.Exists != nil {
		if found != *m.Exists {
			if *m.Exists {
				return fmt.Errorf("expected it to exist, it is missing")
			}
			return fmt.Errorf("expected it to be missing, got %s", show(got))
		}
	}
	if !found && (m.hasEquals || m.Matches != nil || m.OneOf != nil || m.Contains != "" || m.Length != nil) {
		return fmt.Errorf("expected %s, it is missing", m.describe(expand))
	}
	if m.hasEquals && !same(got, expandAny(m.Equals, expand)) {
		return fmt.Errorf("expected %s, got %s", show(expandAny(m.Equals, expand)), show(got))
	}
	if m.Matches != nil && !m.Matches.MatchString(text(got)) {
		return fmt.Errorf("expected to match /%s/, got %s", m.Matches, show(got))
	}
	if m.OneOf != nil {
		ok := false
		for _, o := range m.OneOf {
			ok = ok || same(got, expandAny(o, expand))
		}
		if !ok {
			return fmt.Errorf("expected one of %s, got %s", show(m.OneOf), show(got))
		}
	}
	if m.Contains != "" && !strings.Contains(text(got), expand(m.Contains)) {
		return fmt.Errorf("expected to contain %q, got %s", expand(m.Contains), show(got))
	}
	if m.Length != nil {
		n := -1
		switch v := got.(type) {
		case []any:
			n = len(v)
		case map[string]any:
			n = len(v)
		case string:
			n = len(v)
		}
		if n != *m.Length {
			return fmt.Errorf("expected length %d, got %s", *m.Length, show(got))
		}
	}
	return nil
}

func (m Matcher) describe(expand func(string) string) string {
	switch {
	case m.hasEquals:
		return show(expandAny(m.Equals, expand))
	case m.Matches != nil:
		return "a match for /" + m.Matches.String() + "/"
	case m.OneOf != nil:
		return "one of " + show(m.OneOf)
	case m.Contains != "":
		return fmt.Sprintf("something containing %q", m.Contains)
	default:
		return "a value"
	}
}

// same compares a decoded JSON value with a YAML-decoded expectation (numbers by value).
func same(got, want any) bool {
	if gf, ok := number(got); ok {
		if wf, ok := number(want); ok {
			return gf == wf
		}
	}
	if ws, ok := want.(string); ok {
		if _, isString := got.(string); !isString && got != nil {
			return text(got) == ws // `status: "200"` against 200, `add_to_team: "true"` against true
		}
	}
	return reflect.DeepEqual(normalize(got), normalize(want))
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// normalize turns YAML's map[string]any / []any / ints into JSON's shapes.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func expandAny(v any, expand func(string) string) any {
	switch x := v.(type) {
	case string:
		return expand(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = expandAny(e, expand)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = expandAny(e, expand)
		}
		return out
	}
	return v
}

func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func show(v any) string {
	s := text(v)
	if _, isString := v.(string); isString {
		s = strconv.Quote(s)
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

var indexRE = regexp.MustCompile(`\[(\d+)\]`)

// lookup finds path in a decoded JSON value. Segments are separated by dots; a map key that itself
// holds dots (Phoenix error fields such as "applicant_details.email") is matched whole, longest
// first; "[0]" and ".0" index arrays.
func lookup(v any, path string) (any, bool) {
	path = indexRE.ReplaceAllString(path, ".$1")
	for path != "" {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
			matched := false
			for _, k := range keys {
				if path == k || strings.HasPrefix(path, k+".") {
					v, path, matched = x[k], strings.TrimPrefix(strings.TrimPrefix(path, k), "."), true
					break
				}
			}
			if !matched {
				return nil, false
			}
		case []any:
			seg, rest, _ := strings.Cut(path, ".")
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v, path = x[i], rest
		default:
			return nil, false
		}
	}
	return v, true
}
