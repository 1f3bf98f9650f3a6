package spec

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
)

// Challenge is the WWW-Authenticate challenge a 401 of an operation carries (x-challenge on its
// 401 response): the scheme, the realm, and the RFC 6750 error a refused token gets. Inferred
// names the parts the contract guessed ("realm", "refused").
type Challenge struct {
	Scheme   string   `json:"scheme"`
	Realm    string   `json:"realm,omitempty"`
	Refused  string   `json:"refused,omitempty"`
	Inferred []string `json:"inferred,omitempty"`
}

// Guessed reports whether the contract guessed part ("realm", "refused").
func (c Challenge) Guessed(part string) bool { return slices.Contains(c.Inferred, part) }

// Challenge returns the challenge operation id's 401 answer documents.
func (s *Spec) Challenge(id string) (Challenge, bool) {
	r := s.response(id, "401")
	if r == nil {
		return Challenge{}, false
	}
	var c Challenge
	ok, err := decodeExtension(r.Extensions, "x-challenge", &c)
	return c, ok && err == nil
}

// response is operation id's documented response for code ("401"), resolved.
func (s *Spec) response(id, code string) *openapi3.Response {
	op, ok := s.ops[id]
	if !ok {
		return nil
	}
	ref := op.Responses.Value(code)
	if ref == nil {
		return nil
	}
	return ref.Value
}

// Reason is one documented cause of an error status: why a 401 (an expired token), a 409 (the
// application's state) or a 422 (which field) is answered.
type Reason struct {
	Name        string `json:"reason"`
	Description string `json:"description"`
}

// Reasons returns the documented reasons of operation id answering status, sorted by name: the
// x-reasons of the response; for the lifecycle's conflict status, each state the operation does
// not allow; for 422, each field of the request body.
func (s *Spec) Reasons(id string, status int) []Reason {
	var out []Reason
	if r := s.response(id, strconv.Itoa(status)); r != nil {
		var table map[string]string
		if ok, err := decodeExtension(r.Extensions, "x-reasons", &table); ok && err == nil {
			for _, name := range slices.Sorted(maps.Keys(table)) {
				out = append(out, Reason{name, table[name]})
			}
		}
	}
	if rule, ok := s.lifecycle.Rule(id); ok && rule.Conflict == status && len(rule.Requires) > 0 {
		for _, st := range s.lifecycle.States {
			if !rule.Allows(st) {
				out = append(out, Reason{st, fmt.Sprintf("the application is %s", st)})
			}
		}
	}
	if status == 422 {
		for _, f := range s.requestFields(id) {
			out = append(out, Reason{f, fmt.Sprintf("%s is invalid or missing", f)})
		}
	}
	slices.SortFunc(out, func(a, b Reason) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return slices.CompactFunc(out, func(a, b Reason) bool { return a.Name == b.Name })
}

// requestFields are the dotted paths of every property of operation id's JSON request body.
func (s *Spec) requestFields(id string) []string {
	op, ok := s.ops[id]
	if !ok || op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	var out []string
	var walk func(prefix string, sc *openapi3.Schema, depth int)
	walk = func(prefix string, sc *openapi3.Schema, depth int) {
		if sc == nil || depth > 8 {
			return
		}
		for _, name := range slices.Sorted(maps.Keys(sc.Properties)) {
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			out = append(out, p)
			walk(p, sc.Properties[name].Value, depth+1)
		}
	}
	walk("", mt.Schema.Value, 0)
	return out
}
