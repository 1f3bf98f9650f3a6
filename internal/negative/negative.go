// Package negative makes invalid requests from a contract, Schemathesis-style but bounded and
// seeded, for the contract suite's negative label: for each operation with a request body or
// parameters, requests that break the contract in one place — a required field missing, a value
// of the wrong type, outside its enum, in a bad format, longer or shorter than allowed, not
// matching its pattern, a bad UUID in the path. Each is invalid by construction: every mutated
// value is checked against its own schema with the contract's validator before it is kept, and
// Validate judges a whole request as the mock's pipeline does.
package negative

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/equalture/equalture-mock/internal/spec"
)

// The kinds of breakage.
const (
	Missing = "missing" // a required field (or the required body) left out
	Type    = "type"    // a value of a JSON type the schema does not accept
	Enum    = "enum"    // a value outside the enum
	Format  = "format"  // a string in a bad format (uuid, email, uri, date)
	Length  = "length"  // a string longer than maxLength or shorter than minLength
	Pattern = "pattern" // a string not matching the pattern
)

// Request is a request to an operation, in parts: path parameters, query and JSON body.
type Request struct {
	PathParams map[string]string
	Query      url.Values
	// Body is the decoded JSON body; NoBody says there is none.
	Body   any
	NoBody bool
}

// Case is one invalid request: how to make it from a valid request of its operation.
type Case struct {
	Operation string // operationId
	Method    string
	Path      string // the contract's path template
	Kind      string
	// Where is the broken place: "body.applicant_details.email", "path.reference_id", "query.locale".
	Where string
	// Value is what is put there (nil for a missing field).
	Value any

	apply func(*Request)
}

// Name describes the case: "createApplication: body.applicant_details.email missing".
func (c Case) Name() string {
	if c.Kind == Missing {
		return fmt.Sprintf("%s: %s missing", c.Operation, c.Where)
	}
	b, _ := json.Marshal(c.Value)
	v := string(b)
	if r := []rune(v); len(r) > 40 {
		v = string(r[:37]) + "…"
	}
	return fmt.Sprintf("%s: %s %s (%s)", c.Operation, c.Where, c.Kind, v)
}

// Apply returns valid with the case's breakage; valid itself is left as it is.
func (c Case) Apply(valid Request) Request {
	r := valid.clone()
	c.apply(&r)
	return r
}

func (r Request) clone() Request {
	out := Request{PathParams: make(map[string]string, len(r.PathParams)), Query: url.Values{}, NoBody: r.NoBody}
	for k, v := range r.PathParams {
		out.PathParams[k] = v
	}
	for k, vs := range r.Query {
		out.Query[k] = slices.Clone(vs)
	}
	if r.Body != nil {
		b, _ := json.Marshal(r.Body)
		_ = json.Unmarshal(b, &out.Body)
	}
	return out
}

// Target is the request's path (parameters filled in, escaped) and query, for a path template.
func (r Request) Target(template string) string {
	p := template
	for k, v := range r.PathParams {
		p = strings.ReplaceAll(p, "{"+k+"}", url.PathEscape(v))
	}
	if q := r.Query.Encode(); q != "" {
		p += "?" + q
	}
	return p
}

// JSON is the body as sent (nil for none).
func (r Request) JSON() []byte {
	if r.NoBody {
		return nil
	}
	b, _ := json.Marshal(r.Body)
	return b
}

// Validate judges a request as the mock's pipeline does (security aside: any credential passes)
// and returns the contract's verdict: nil for a valid request.
func Validate(sp *spec.Spec, method, target string, body []byte) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	route, err := sp.FindRoute(req)
	if err != nil {
		return err
	}
	return sp.ValidateRequest(context.Background(), req, route, openapi3filter.NoopAuthenticationFunc)
}

// parameters are an operation's parameters with those of its path (the operation's win).
func parameters(sp *spec.Spec, op spec.Operation) openapi3.Parameters {
	out := slices.Clone(op.Parameters)
	if item := sp.Doc.Paths.Value(op.Path); item != nil {
		for _, ref := range item.Parameters {
			if ref.Value != nil && op.Parameters.GetByInAndName(ref.Value.In, ref.Value.Name) == nil {
				out = append(out, ref)
			}
		}
	}
	return out
}

// Example is a valid request of an operation from the contract's examples: the body's example and
// each parameter's; nothing for what has none.
func Example(sp *spec.Spec, op spec.Operation) Request {
	r := Request{PathParams: map[string]string{}, Query: url.Values{}, NoBody: true}
	for _, ref := range parameters(sp, op) {
		p := ref.Value
		ex := p.Example
		if ex == nil && p.Schema != nil && p.Schema.Value != nil {
			ex = p.Schema.Value.Example
		}
		if ex == nil && len(p.Examples) > 0 {
			ex = p.Examples[slices.Sorted(maps.Keys(p.Examples))[0]].Value.Value
		}
		s, ok := ex.(string)
		if !ok {
			continue
		}
		switch p.In {
		case openapi3.ParameterInPath:
			r.PathParams[p.Name] = s
		case openapi3.ParameterInQuery:
			r.Query.Set(p.Name, s)
		}
	}
	if mt := jsonBody(op); mt != nil {
		ex := mt.Example
		if ex == nil && len(mt.Examples) > 0 {
			ex = mt.Examples[slices.Sorted(maps.Keys(mt.Examples))[0]].Value.Value
		}
		if ex != nil {
			r.Body, r.NoBody = ex, false
		}
	}
	return r
}

func jsonBody(op spec.Operation) *openapi3.MediaType {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	return op.RequestBody.Value.Content.Get("application/json")
}

// Generate returns, for each operation with a request body or parameters, up to perOp invalid
// requests, in operationId order. The same contract, perOp and seed give the same cases.
func Generate(sp *spec.Spec, perOp int, seed uint64) []Case {
	ops := sp.Operations()
	var out []Case
	for _, id := range slices.Sorted(maps.Keys(ops)) {
		op := ops[id]
		g := &gen{sp: sp, op: op, rng: rand.New(rand.NewPCG(seed, hash(id)))}
		g.params()
		if mt := jsonBody(op); mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
			g.body(mt.Schema.Value, op.RequestBody.Value.Required)
		}
		out = append(out, g.pick(perOp)...)
	}
	return out
}

func hash(s string) uint64 {
	var h uint64 = 14695981039346656037 // FNV-1a
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// gen collects every candidate breakage of one operation.
type gen struct {
	sp    *spec.Spec
	op    spec.Operation
	rng   *rand.Rand
	cases []Case
}

func (g *gen) add(kind, where string, value any, apply func(*Request)) {
	g.cases = append(g.cases, Case{Operation: g.op.ID, Method: g.op.Method, Path: g.op.Path, Kind: kind, Where: where, Value: value, apply: apply})
}

// pick chooses up to n candidates, taking the kinds in turn so a small n still covers them.
func (g *gen) pick(n int) []Case {
	byKind := map[string][]Case{}
	for _, c := range g.cases {
		byKind[c.Kind] = append(byKind[c.Kind], c)
	}
	kinds := slices.Sorted(maps.Keys(byKind))
	g.rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	for _, k := range kinds {
		cs := byKind[k]
		g.rng.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	}
	var out []Case
	for len(out) < n {
		took := false
		for _, k := range kinds {
			if len(byKind[k]) > 0 && len(out) < n {
				out = append(out, byKind[k][0])
				byKind[k] = byKind[k][1:]
				took = true
			}
		}
		if !took {
			break
		}
	}
	return out
}

// refused reports whether the contract refuses v for schema.
func (g *gen) refused(schema *openapi3.Schema, v any) bool {
	return g.sp.ValidateValue(schema, v) != nil
}

// params adds bad values for each path and query parameter. (A URL carries strings only, so
// there are no wrong types here; a missing path parameter is another path.)
func (g *gen) params() {
	for _, ref := range parameters(g.sp, g.op) {
		p := ref.Value
		if p.Schema == nil || p.Schema.Value == nil || (p.In != openapi3.ParameterInPath && p.In != openapi3.ParameterInQuery) {
			continue
		}
		where := p.In + "." + p.Name
		name, in := p.Name, p.In
		set := func(v string) func(*Request) {
			return func(r *Request) {
				if in == openapi3.ParameterInPath {
					r.PathParams[name] = v
				} else {
					r.Query.Set(name, v)
				}
			}
		}
		if p.Required && in == openapi3.ParameterInQuery {
			g.add(Missing, where, nil, func(r *Request) { r.Query.Del(name) })
		}
		for _, s := range g.badStrings(p.Schema.Value) {
			v := s.value
			if v == "" && in == openapi3.ParameterInPath {
				continue // an empty segment is another path, not a bad parameter
			}
			g.add(s.kind, where, v, set(v))
		}
	}
}

type badString struct {
	kind  string
	value string
}

// badStrings are strings schema refuses, each with the kind of breakage it was made for (none for a
// schema that is not a string's).
func (g *gen) badStrings(sc *openapi3.Schema) []badString {
	if sc.Type != nil && !sc.Type.Is(openapi3.TypeString) {
		return nil
	}
	var out []badString
	seen := map[string]bool{}
	try := func(kind string, candidates ...string) {
		for _, c := range candidates {
			if !seen[c] && g.refused(sc, c) {
				seen[c] = true
				out = append(out, badString{kind, c})
			}
		}
	}
	if len(sc.Enum) > 0 {
		first, _ := sc.Enum[0].(string)
		try(Enum, "not-"+first, strings.ToUpper(first)+"!", "unknown")
	}
	switch sc.Format {
	case "uuid":
		try(Format, "not-a-uuid", "1234-1234-4567-1111", "d2c37d4d-b8d4-46a9-b230-42a246ad615", "g2c37d4d-b8d4-46a9-b230-42a246ad6153", "d2c37d4db8d446a9b23042a246ad6153x")
	case "email":
		try(Format, "not-an-email", "rembrandt@", "@example.com", "rembrandt at example.com", "a@b")
	case "uri":
		try(Format, "not a url", "/relative/path", "example.com/cb", "://missing-scheme")
	case "date":
		try(Format, "2025-13-45", "01-07-2025", "2025/07/01", "tomorrow")
	}
	if sc.Pattern != "" {
		try(Pattern, "", " ", "!", "~~~", "ftp://ats.example/cb", "UPPER CASE", "a b", "x")
	}
	if sc.MaxLength != nil {
		n := int(*sc.MaxLength) + 1
		long := strings.Repeat("x", n)
		if sc.Format == "email" {
			long = strings.Repeat("x", max(n-len("@example.com"), 1)) + "@example.com"
		}
		try(Length, long)
	}
	if sc.MinLength > 0 {
		try(Length, strings.Repeat("x", int(sc.MinLength)-1))
	}
	return out
}

// wrongTypes are values of each JSON type, for values the schema must refuse.
var wrongTypes = []any{42.0, "text", true, []any{}, map[string]any{}, nil}

// jsonType names the JSON Schema type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case float64:
		return openapi3.TypeNumber
	case string:
		return openapi3.TypeString
	case bool:
		return openapi3.TypeBoolean
	case []any:
		return openapi3.TypeArray
	case map[string]any:
		return openapi3.TypeObject
	}
	return openapi3.TypeNull
}

// body adds breakages of the request body and, walking its schema, of each field.
func (g *gen) body(sc *openapi3.Schema, required bool) {
	if required {
		g.add(Missing, "body", nil, func(r *Request) { r.Body, r.NoBody = nil, true })
	}
	g.value(sc, nil)
}

// value adds breakages of the value at path (nil: the whole body) with schema sc.
func (g *gen) value(sc *openapi3.Schema, path []string) {
	where := strings.Join(append([]string{"body"}, path...), ".")
	set := func(v any) func(*Request) {
		return func(r *Request) { r.NoBody = false; setAt(&r.Body, path, v) }
	}
	var types []any
	for _, v := range wrongTypes {
		if v != nil && (sc.Type == nil || !sc.Type.Permits(jsonType(v))) && g.refused(sc, v) {
			types = append(types, v)
		}
	}
	if len(types) > 0 {
		v := types[g.rng.IntN(len(types))]
		g.add(Type, where, v, set(v))
	}
	for _, s := range g.badStrings(sc) {
		g.add(s.kind, where, s.value, set(s.value))
	}
	for _, name := range slices.Sorted(maps.Keys(sc.Properties)) {
		prop := sc.Properties[name]
		if prop == nil || prop.Value == nil {
			continue
		}
		p := append(slices.Clone(path), name)
		if slices.Contains(sc.Required, name) {
			g.add(Missing, strings.Join(append([]string{"body"}, p...), "."), nil, func(r *Request) { deleteAt(r.Body, p) })
		}
		g.value(prop.Value, p)
	}
}

// setAt puts v at path in the JSON value *root, making objects on the way.
func setAt(root *any, path []string, v any) {
	if len(path) == 0 {
		*root = v
		return
	}
	m, ok := (*root).(map[string]any)
	if !ok {
		m = map[string]any{}
		*root = m
	}
	child := m[path[0]]
	setAt(&child, path[1:], v)
	m[path[0]] = child
}

// deleteAt removes the field at path from the JSON value root.
func deleteAt(root any, path []string) {
	m, ok := root.(map[string]any)
	if !ok {
		return
	}
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	deleteAt(m[path[0]], path[1:])
}
