package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/equalture/equalture-mock/internal/redact"
)

// vars are a scenario's variables: the built-ins and what steps captured, as JSON values.
type vars map[string]any

// text replaces every ${name} in s with its value's text. An unknown name is an error.
func (v vars) text(s string) (string, error) {
	var missing []string
	out := varRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		val, ok := v[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return text(val)
	})
	if len(missing) > 0 {
		return out, v.unknown(missing[0])
	}
	return out, nil
}

func (v vars) unknown(name string) error {
	have := make([]string, 0, len(v))
	for k := range v {
		have = append(have, k)
	}
	sort.Strings(have)
	return fmt.Errorf("${%s} has no value (known: %s)", name, strings.Join(have, ", "))
}

// value expands s; a string that is exactly "${name}" becomes the captured value with its JSON
// type (a number stays a number in a request body or a comparison).
func (v vars) value(s string) (any, error) {
	if m := varRE.FindStringSubmatchIndex(s); m != nil && m[0] == 0 && m[1] == len(s) {
		name := s[2 : len(s)-1]
		val, ok := v[name]
		if !ok {
			return nil, v.unknown(name)
		}
		return val, nil
	}
	return v.text(s)
}

// tree expands every string of a decoded YAML value and gives it JSON's shapes.
func (v vars) tree(x any) (any, error) {
	switch t := x.(type) {
	case string:
		return v.value(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			var err error
			if out[i], err = v.tree(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			var err error
			if out[k], err = v.tree(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			var err error
			if out[fmt.Sprint(k)], err = v.tree(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return x, nil
}

// decodeJSON decodes b keeping numbers as written (json.Number).
func decodeJSON(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, false
	}
	return v, true
}

// text is a value as a string: strings as they are, anything else as JSON.
func text(v any) string {
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
		s = text(v)
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// clip is a body for messages: whitespace folded, control characters and invalid UTF-8 (a
// garbage fault) replaced, long bodies cut.
func clip(b []byte) string {
	b = redact.JSON(b) // a token answer, a webhook registration: the transcript shows hints
	s := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) && !unicode.IsSpace(r) {
			return '�'
		}
		return r
	}, string(b))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}
