// Package redact replaces secrets with hints in whatever the mock keeps or prints of a request:
// the journal (and so the console and GET /_mock/journal), logs, the proxy's reports, contract
// violations and scenario transcripts. A secret is the value of a field or query parameter named
// like one (access_token, secret, client_secret, webhook_secret, callback_token, admin_token,
// password, …) and an Authorization header's credentials; its hint shows enough to tell secrets
// apart ("whsec_MfKQ…"), never the secret.
//
// Redaction happens when something is recorded, not when it is read: what the journal holds is
// already safe to show.
package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// keys are the field and query parameter names whose values are secrets (lower case).
var keys = map[string]bool{
	"access_token":   true, // token answers
	"refresh_token":  true,
	"id_token":       true,
	"secret":         true, // webhook registrations and their answers
	"client_secret":  true, // Basic credentials sent as fields
	"webhook_secret": true,
	"callback_token": true,
	"admin_token":    true,
	"password":       true,
}

// IsSecret reports whether a field or query parameter named name holds a secret.
func IsSecret(name string) bool { return keys[strings.ToLower(name)] }

// IsSecretField reports whether the field a path ends in holds a secret: "webhooks.0.secret",
// `$.data["access_token"]`.
func IsSecretField(path string) bool {
	path = strings.TrimRight(path, "]")
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		path = path[i+1:]
	}
	return IsSecret(strings.Trim(path, `"'`))
}

// prefixes are the known beginnings of secrets, kept in hints: they say what kind of secret it was.
var prefixes = []string{"whsec_", "SFMyNTY."}

// hintShown is how many characters of a secret its hint shows, after a known prefix, when the
// secret is long enough (at least hintMinLen characters) for that to give nothing away.
const (
	hintShown  = 4
	hintMinLen = 16
)

// Hint stands for a secret where it would be shown: its known prefix ("whsec_", "SFMyNTY."), its
// first four characters when it is long, and "…".
func Hint(secret string) string {
	prefix := ""
	for _, p := range prefixes {
		if strings.HasPrefix(secret, p) {
			prefix = p
			break
		}
	}
	rest := secret[len(prefix):]
	if len(rest) >= hintMinLen {
		return prefix + rest[:hintShown] + "…"
	}
	return prefix + "…"
}

// needles are what a body must hold for a secret field to be in it: the end of every key (keys
// are quoted) and the escape that could spell one differently.
var needles = [][]byte{[]byte(`token"`), []byte(`secret"`), []byte(`password"`), []byte(`\u`)}

// JSON returns body with the string value of every secret field, at any depth, replaced by its
// hint; every other byte stays as it was. A body without any is returned as it is (the same
// slice, no copy). A body that is not JSON, or breaks off, gets the fields it plainly holds
// ("key": "value") replaced.
func JSON(body []byte) []byte {
	if !slices.ContainsFunc(needles, func(n []byte) bool { return bytes.Contains(body, n) }) {
		return body
	}
	spans, ok := secretValues(body)
	if !ok {
		spans = plainSecretValues(body)
	}
	if len(spans) == 0 {
		return body
	}
	out := make([]byte, 0, len(body))
	last := 0
	for _, sp := range spans {
		var s string
		if json.Unmarshal(body[sp[0]:sp[1]], &s) != nil {
			s = string(body[sp[0]+1 : sp[1]]) // a value the body's cut ends in: what there is of it
		}
		hint, _ := json.Marshal(Hint(s))
		out = append(append(out, body[last:sp[0]]...), hint...)
		last = sp[1]
	}
	return append(out, body[last:]...)
}

// secretValues finds the spans of the string values of secret keys in body, reading it as JSON;
// false when body is not JSON to its end.
func secretValues(body []byte) ([][2]int, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	// stack holds, per open container, whether it is an object and whether a key comes next.
	type level struct{ object, wantKey bool }
	var (
		stack  []level
		spans  [][2]int
		secret bool // the value about to be read belongs to a secret key
	)
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return spans, errors.Is(err, io.EOF) && len(stack) == 0
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].wantKey {
			if k, ok := tok.(string); ok { // a key
				secret = IsSecret(k)
				stack[top].wantKey = false
				continue
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, level{object: true, wantKey: true})
			case '[':
				stack = append(stack, level{})
			default:
				stack = stack[:top]
				if top > 0 && stack[top-1].object {
					stack[top-1].wantKey = true
				}
			}
			secret = false
			continue
		case string:
			if secret {
				end := int(dec.InputOffset())
				start := int(before) + bytes.IndexByte(body[before:end], '"')
				spans = append(spans, [2]int{start, end})
			}
		}
		secret = false
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
	}
}

// plainRE finds "key": "value" pairs in text that is not JSON to its end, the last value possibly
// cut short by the end of the text (a body kept only up to a limit).
var plainRE = regexp.MustCompile(`"([A-Za-z_]+)"\s*:\s*("(?:[^"\\]|\\.)*(?:"|\\?$))`)

func plainSecretValues(body []byte) [][2]int {
	var spans [][2]int
	for _, m := range plainRE.FindAllSubmatchIndex(body, -1) {
		if IsSecret(string(body[m[2]:m[3]])) {
			spans = append(spans, [2]int{m[4], m[5]})
		}
	}
	return spans
}

// Query returns a raw query string with the values of secret parameters replaced by hints (the
// string as it was when it has none).
func Query(raw string) string {
	if raw == "" || !strings.ContainsAny(raw, "=") {
		return raw
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	changed := false
	for k, vs := range q {
		if IsSecret(k) {
			for i, v := range vs {
				vs[i] = Hint(v)
			}
			changed = true
		}
	}
	if !changed {
		return raw
	}
	return q.Encode()
}

// URL returns u with the password of its user info, and the values of secret query parameters,
// replaced by hints.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	changed := false
	if p, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), Hint(p))
		changed = true
	}
	if q := Query(u.RawQuery); q != u.RawQuery {
		u.RawQuery, changed = q, true
	}
	if !changed {
		return raw
	}
	return u.String()
}
