package scenario

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Matcher is an expectation on one value. A bare value means equals; a map holds one or more of
// equals, exists, matches (a regular expression), one_of, contains, length — all must hold.
type Matcher struct {
	Equals   any
	Exists   *bool
	Matches  string
	OneOf    []any
	Contains string
	Length   *int

	hasEquals bool
}

// Matchers are matchers by header name or JSON path.
type Matchers map[string]Matcher

// UnmarshalYAML reads each matcher itself: yaml hands no null to an Unmarshaler, and a bare null
// means equals null.
func (ms *Matchers) UnmarshalYAML(n *yaml.Node) error {
	*ms = make(Matchers, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		var m Matcher
		if err := m.UnmarshalYAML(resolve(n.Content[i+1])); err != nil {
			return err
		}
		(*ms)[n.Content[i].Value] = m
	}
	return nil
}

// UnmarshalYAML reads a bare value (equals) or a map of matchers.
func (m *Matcher) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		m.hasEquals = true
		return n.Decode(&m.Equals)
	}
	var r struct {
		Equals   any    `yaml:"equals"`
		Exists   *bool  `yaml:"exists"`
		Matches  string `yaml:"matches"`
		OneOf    []any  `yaml:"one_of"`
		Contains string `yaml:"contains"`
		Length   *int   `yaml:"length"`
	}
	if err := n.Decode(&r); err != nil {
		return err
	}
	m.Equals, m.Exists, m.Matches, m.OneOf, m.Contains, m.Length = r.Equals, r.Exists, r.Matches, r.OneOf, r.Contains, r.Length
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "equals" {
			m.hasEquals = true // even equals: null
		}
	}
	return nil
}

// Check compares got (found tells whether it is there at all) with the matcher, expanding
// variables in the expected values. asText compares as text (headers, bodies).
func (m Matcher) Check(got any, found bool, v Vars, asText bool) error {
	if m.Exists != nil && found != *m.Exists {
		if *m.Exists {
			return fmt.Errorf("expected it to exist, it is missing")
		}
		return fmt.Errorf("expected it to be missing, got %s", show(got))
	}
	if !found {
		if m.hasEquals || m.Matches != "" || m.OneOf != nil || m.Contains != "" || m.Length != nil {
			want, err := m.describe(v)
			if err != nil {
				return err
			}
			return fmt.Errorf("expected %s, it is missing", want)
		}
		return nil
	}
	if m.hasEquals {
		want, err := v.Tree(m.Equals)
		if err != nil {
			return err
		}
		if !same(got, want, asText) {
			return fmt.Errorf("expected %s, got %s", show(want), show(got))
		}
	}
	if m.Matches != "" {
		src, err := v.Text(m.Matches)
		if err != nil {
			return err
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return fmt.Errorf("matches %q is not a regular expression: %v", src, err)
		}
		if !re.MatchString(Text(got)) {
			return fmt.Errorf("expected a match for /%s/, got %s", src, show(got))
		}
	}
	if m.OneOf != nil {
		want, err := v.Tree(m.OneOf)
		if err != nil {
			return err
		}
		ok := false
		for _, o := range want.([]any) {
			ok = ok || same(got, o, asText)
		}
		if !ok {
			return fmt.Errorf("expected one of %s, got %s", show(want), show(got))
		}
	}
	if m.Contains != "" {
		want, err := v.Text(m.Contains)
		if err != nil {
			return err
		}
		if !containsValue(got, want) {
			return fmt.Errorf("expected it to contain %q, got %s", want, show(got))
		}
	}
	if m.Length != nil {
		n := -1
		switch t := got.(type) {
		case []any:
			n = len(t)
		case map[string]any:
			n = len(t)
		case string:
			n = len([]rune(t))
		}
		if n != *m.Length {
			return fmt.Errorf("expected length %d, got %s (length %d)", *m.Length, show(got), max(n, 0))
		}
	}
	return nil
}

// containsValue: a string contains the text, a list contains an element equal to it (or whose
// text contains it), a map has it as a key.
func containsValue(got any, want string) bool {
	switch t := got.(type) {
	case []any:
		for _, e := range t {
			if Text(e) == want || strings.Contains(Text(e), want) {
				return true
			}
		}
		return false
	case map[string]any:
		_, ok := t[want]
		return ok
	}
	return strings.Contains(Text(got), want)
}

func (m Matcher) describe(v Vars) (string, error) {
	switch {
	case m.hasEquals:
		want, err := v.Tree(m.Equals)
		return show(want), err
	case m.Matches != "":
		return "a match for /" + m.Matches + "/", nil
	case m.OneOf != nil:
		return "one of " + show(m.OneOf), nil
	case m.Contains != "":
		return fmt.Sprintf("something containing %q", m.Contains), nil
	case m.Length != nil:
		return fmt.Sprintf("length %d", *m.Length), nil
	}
	return "a value", nil
}

// same compares an actual JSON value with an expected one: numbers by value, anything else
// exactly (the string "5" is not the number 5). asText compares the texts.
func same(got, want any, asText bool) bool {
	if asText {
		return Text(got) == Text(want)
	}
	if gf, ok := number(got); ok {
		if wf, ok := number(want); ok {
			return gf == wf
		}
		return false
	}
	return reflect.DeepEqual(canonical(got), canonical(want))
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// canonical gives a value JSON's shapes (float64 numbers, map[string]any) for deep comparison.
func canonical(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}
