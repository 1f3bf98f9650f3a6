// Package jsonpath finds a value in decoded JSON (maps, lists and scalars, as encoding/json
// produces them) by a dotted path. Scenario expectations and captures and the journal's
// body.<path> filters share this one syntax.
package jsonpath

import (
	"regexp"
	"strconv"
	"strings"
)

var indexRE = regexp.MustCompile(`\[(\d+)\]`)

// Lookup finds path in v: keys separated by dots and list indexes as .0 or [0]
// ("detailed_scores.0.trait_code", "errors.applicant_details.email[0]"). A key that itself holds
// dots is matched whole, the longest first. "$" and "" are v itself.
func Lookup(v any, path string) (any, bool) {
	if path == "$" {
		return v, true
	}
	if strings.IndexByte(path, '[') >= 0 {
		path = indexRE.ReplaceAllString(path, ".$1")
	}
	path = strings.TrimPrefix(path, ".")
	for path != "" {
		switch x := v.(type) {
		case map[string]any:
			key, rest, ok := longestKey(x, path)
			if !ok {
				return nil, false
			}
			v, path = x[key], rest
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

// longestKey finds the longest key of m that is path itself or a prefix of it ending before a
// dot, and the path left after it.
func longestKey(m map[string]any, path string) (key, rest string, ok bool) {
	for end := len(path); end >= 0; end = strings.LastIndexByte(path[:end], '.') {
		if _, ok := m[path[:end]]; ok {
			return path[:end], strings.TrimPrefix(path[end:], "."), true
		}
	}
	return "", "", false
}
