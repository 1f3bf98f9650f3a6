package run

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/equalture/equalture-mock/internal/redact"
)

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
