// Package glob matches paths against patterns where "*" stands for any run of characters
// (slashes included), compiled once so matching on the request path allocates nothing.
package glob

import "strings"

// Pattern is a compiled glob; the zero Pattern matches everything.
type Pattern struct {
	src   string
	parts []string // literal pieces between stars
	any   bool     // the empty pattern or "*"
}

// Compile compiles src.
func Compile(src string) Pattern {
	if src == "" || strings.Trim(src, "*") == "" {
		return Pattern{src: src, any: true}
	}
	return Pattern{src: src, parts: strings.Split(src, "*")}
}

// String returns the source pattern.
func (p Pattern) String() string { return p.src }

// Match reports whether s matches the whole pattern.
func (p Pattern) Match(s string) bool {
	if p.any || p.parts == nil {
		return true
	}
	if len(p.parts) == 1 {
		return s == p.parts[0]
	}
	first, last := p.parts[0], p.parts[len(p.parts)-1]
	if !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) || len(s) < len(first)+len(last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, mid := range p.parts[1 : len(p.parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}
