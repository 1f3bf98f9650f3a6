package scenario

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Builtins are the variables every scenario has before its first step.
var Builtins = map[string]string{
	"base_url":      "the target's base URL",
	"control_url":   "the target's control API (base_url + /_mock)",
	"receiver":      "this scenario's callback receiver URL; append a path: ${receiver}/applications/1",
	"client_id":     "the scenario's client id (setup.client, default demo-client)",
	"client_secret": "the scenario's client secret",
	"job_id":        "the first job the scenario's client lists",
	"unique":        "a number unique to this run, for e-mail addresses",
}

var (
	// varRE is a ${variable} in a string; `${` always starts one.
	varRE = regexp.MustCompile(`\$\{([^}]*)\}`)
	// nameRE is a variable's name.
	nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Vars are a scenario's variables while it runs: the built-ins and what steps captured, as JSON
// values.
type Vars map[string]any

// Text replaces every ${name} in s with its value's text. An unknown name is an error.
func (v Vars) Text(s string) (string, error) {
	var missing []string
	out := varRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		val, ok := v[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return Text(val)
	})
	if len(missing) > 0 {
		return out, v.unknown(missing[0])
	}
	return out, nil
}

// Segment is Text escaped as one URL path segment.
func (v Vars) Segment(s string) (string, error) {
	t, err := v.Text(s)
	return url.PathEscape(t), err
}

func (v Vars) unknown(name string) error {
	have := slices.Sorted(maps.Keys(v))
	return fmt.Errorf("${%s} has no value (known: %s)", name, strings.Join(have, ", "))
}

// Value expands s; a string that is exactly "${name}" becomes the captured value with its JSON
// type (a number stays a number in a request body or a comparison).
func (v Vars) Value(s string) (any, error) {
	if m := varRE.FindStringSubmatchIndex(s); m != nil && m[0] == 0 && m[1] == len(s) {
		name := s[2 : len(s)-1]
		val, ok := v[name]
		if !ok {
			return nil, v.unknown(name)
		}
		return val, nil
	}
	return v.Text(s)
}

// Tree expands every string of a decoded YAML value and gives it JSON's shapes.
func (v Vars) Tree(x any) (any, error) {
	switch t := x.(type) {
	case string:
		return v.Value(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			var err error
			if out[i], err = v.Tree(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			var err error
			if out[k], err = v.Tree(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			var err error
			if out[fmt.Sprint(k)], err = v.Tree(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return x, nil
}

// Text is a value as a string: strings as they are, anything else as JSON.
func Text(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// show is a value for messages: strings quoted, long ones cut.
func show(v any) string {
	var s string
	switch t := v.(type) {
	case string:
		s = fmt.Sprintf("%q", t)
	case nil:
		s = "null"
	default:
		s = Text(v)
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
