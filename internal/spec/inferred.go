package spec

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// What the contract only guessed. Much of openapi.yaml is marked x-inferred: its reading of a
// sparse vendor reference. x-inferred is true (the whole part: an operation, a response, a
// schema and everything under it) or a list of the schema keywords guessed ([enum]: the values,
// not the type). When an answer breaks an inferred part, that is news about the contract, not a
// broken service: a ResponseError says, for each problem, where the contract states what was
// broken and whether it was a guess.

// schemaPlace is where a schema is stated in the contract, and what of it was guessed.
type schemaPlace struct {
	pointer  string          // "#/components/schemas/ApplicationStatus/properties/status"
	all      bool            // the schema (or one containing it) is x-inferred: true
	keywords map[string]bool // the keywords x-inferred lists
}

// inferredMark reads an x-inferred extension: true, or a list of keywords.
func inferredMark(ext map[string]any) (all bool, keywords map[string]bool) {
	switch v := ext["x-inferred"].(type) {
	case bool:
		return v, nil
	case []any:
		keywords = make(map[string]bool, len(v))
		for _, k := range v {
			if s, ok := k.(string); ok {
				keywords[s] = true
			}
		}
	}
	return false, keywords
}

// indexSchemas records where every schema of the contract is stated, components first (a
// schema used in several places is known by its definition).
func (s *Spec) indexSchemas() {
	s.places = make(map[*openapi3.Schema]schemaPlace)
	for _, name := range slices.Sorted(maps.Keys(s.Doc.Components.Schemas)) {
		s.walkSchema(s.Doc.Components.Schemas[name], "#/components/schemas/"+pointerToken(name), false, true)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Doc.Components.Responses)) {
		if r := s.Doc.Components.Responses[name]; r != nil && r.Value != nil {
			s.walkContent(r.Value.Content, "#/components/responses/"+pointerToken(name))
		}
	}
	for _, path := range slices.Sorted(maps.Keys(s.Doc.Paths.Map())) {
		item := s.Doc.Paths.Map()[path]
		for method, op := range item.Operations() {
			at := OperationPointer(path, method)
			if op.RequestBody != nil && op.RequestBody.Ref == "" && op.RequestBody.Value != nil {
				s.walkContent(op.RequestBody.Value.Content, at+"/requestBody")
			}
			for code, r := range op.Responses.Map() {
				if r.Ref == "" && r.Value != nil {
					s.walkContent(r.Value.Content, at+"/responses/"+pointerToken(code))
				}
			}
		}
	}
}

func (s *Spec) walkContent(content openapi3.Content, at string) {
	for _, mt := range slices.Sorted(maps.Keys(content)) {
		if m := content[mt]; m != nil {
			s.walkSchema(m.Schema, at+"/content/"+pointerToken(mt)+"/schema", false, false)
		}
	}
}

// walkSchema records ref's schema at pointer (unless it is a reference, recorded where it is
// defined) and everything under it; inherited says a schema containing it is x-inferred: true.
func (s *Spec) walkSchema(ref *openapi3.SchemaRef, pointer string, inherited, definition bool) {
	if ref == nil || ref.Value == nil || (ref.Ref != "" && !definition) {
		return
	}
	sc := ref.Value
	if _, seen := s.places[sc]; seen {
		return
	}
	all, keywords := inferredMark(sc.Extensions)
	all = all || inherited
	s.places[sc] = schemaPlace{pointer: pointer, all: all, keywords: keywords}
	for _, name := range slices.Sorted(maps.Keys(sc.Properties)) {
		s.walkSchema(sc.Properties[name], pointer+"/properties/"+pointerToken(name), all, false)
	}
	s.walkSchema(sc.Items, pointer+"/items", all, false)
	if sc.AdditionalProperties.Schema != nil {
		s.walkSchema(sc.AdditionalProperties.Schema, pointer+"/additionalProperties", all, false)
	}
	for kw, list := range map[string]openapi3.SchemaRefs{"oneOf": sc.OneOf, "anyOf": sc.AnyOf, "allOf": sc.AllOf} {
		for i, sub := range list {
			s.walkSchema(sub, pointer+"/"+kw+"/"+strconv.Itoa(i), all, false)
		}
	}
}

// pointerToken escapes a JSON pointer token (RFC 6901).
func pointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// OperationPointer is where the contract states the operation at path and method, as a JSON
// pointer fragment: "#/paths/~1connect_ats~1jobs/get".
func OperationPointer(path, method string) string {
	return "#/paths/" + pointerToken(path) + "/" + strings.ToLower(method)
}

// Problem is one way an answer breaks the contract.
type Problem struct {
	// Text says it: `field "status" is invalid: must be one of … (got "in_progress")`.
	Text string
	// Field is the offending field's dotted path ("" for the status or a header).
	Field string
	// Keyword is the schema keyword broken ("enum", "type", "required"…), "status" for an
	// undocumented status, "header" for a header.
	Keyword string
	// Contract is where the contract states what was broken: "openapi.yaml#/components/…".
	Contract string
	// Inferred says that part was a guess (x-inferred): news about the contract.
	Inferred bool
	// Expected is what the contract asked for ("must be one of invited, …"); Observed is what
	// the answer held (as JSON).
	Expected, Observed string
}

// Guess renders an inferred problem as news: what the contract guessed, where, and what the
// service answered.
func (p Problem) Guess() string {
	what := p.Expected
	if p.Field != "" {
		what = fmt.Sprintf("field %q %s", p.Field, p.Expected)
	}
	return fmt.Sprintf("the contract guessed %s (%s, x-inferred); the service answered %s", what, p.Contract, p.Observed)
}

// ResponseError is how an answer breaks the contract: the operation, the status and every problem.
type ResponseError struct {
	Operation, Method, Path string
	Status                  int
	Problems                []Problem
}

func (e *ResponseError) Error() string {
	return e.describe(e.Problems)
}

// describe is the error's message for some of its problems.
func (e *ResponseError) describe(ps []Problem) string {
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = p.Text
	}
	return fmt.Sprintf("operation %s (%s %s) answered %d against the contract: %s",
		e.Operation, e.Method, e.Path, e.Status, strings.Join(texts, "; "))
}

// Split separates the problems with documented parts (a broken service) from those with parts
// the contract only guessed (news about the contract); either is nil when there are none.
func (e *ResponseError) Split() (broken, guessed *ResponseError) {
	var b, g []Problem
	for _, p := range e.Problems {
		if p.Inferred {
			g = append(g, p)
		} else {
			b = append(b, p)
		}
	}
	if len(b) > 0 {
		c := *e
		c.Problems = b
		broken = &c
	}
	if len(g) > 0 {
		c := *e
		c.Problems = g
		guessed = &c
	}
	return broken, guessed
}

// Guesses renders every problem as news about what the contract guessed.
func (e *ResponseError) Guesses() string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Guess()
	}
	return fmt.Sprintf("operation %s (%s %s) answered %d: %s", e.Operation, e.Method, e.Path, e.Status, strings.Join(out, "; "))
}

// responseProblems turns kin-openapi's verdict on an answer into problems, each placed in the
// contract: op is the operation (at its pointer), resp the documented response for the status.
func (s *Spec) responseProblems(err error, op *openapi3.Operation, opPointer string, status int) []Problem {
	responses := op.Responses
	code := strconv.Itoa(status)
	resp, respPointer := responses.Status(status), opPointer+"/responses/"+code
	if resp == nil {
		resp, respPointer = responses.Default(), opPointer+"/responses/default"
	}
	if resp == nil {
		opAll, _ := inferredMark(op.Extensions)
		return []Problem{{
			Text: fmt.Sprintf("status is not supported: %d is not among the statuses the contract documents for %s (%s)",
				status, op.OperationID, strings.Join(documentedStatuses(responses), ", ")),
			Keyword: "status", Contract: "openapi.yaml" + opPointer + "/responses", Inferred: opAll,
			Expected: "one of the statuses " + strings.Join(documentedStatuses(responses), ", "), Observed: code,
		}}
	}
	if resp.Ref != "" {
		respPointer = resp.Ref
	}
	respAll := false
	if resp.Value != nil {
		respAll, _ = inferredMark(resp.Value.Extensions)
	}
	var out []Problem
	var schemaErrs []*openapi3.SchemaError
	collectSchemaErrors(err, &schemaErrs)
	for _, se := range schemaErrs {
		d := describeSchemaError(se)
		field := d.field
		keyword := se.SchemaField
		if keyword == "enum" && !ofType(se.Schema, se.Value) {
			keyword = "type" // kin-openapi checks enum first: a value of another type breaks the type
		}
		p := Problem{
			Text:     d.text,
			Field:    field,
			Keyword:  keyword,
			Contract: "openapi.yaml" + respPointer,
			Inferred: respAll,
			Expected: strings.TrimPrefix(Message(se), "is invalid: "),
			Observed: d.observed,
		}
		if se.SchemaField == "required" {
			p.Observed = "no " + strconv.Quote(field)
		}
		if place, ok := s.places[se.Schema]; ok {
			p.Contract = "openapi.yaml" + place.pointer
			if se.SchemaField == "required" {
				p.Contract += "/required"
			}
			p.Inferred = p.Inferred || place.all || place.keywords[keyword]
		}
		out = append(out, p)
	}
	var plain []error
	flatten(err, &plain)
	for _, e := range plain {
		var re *openapi3filter.ResponseError
		var se *openapi3.SchemaError
		switch {
		case errors.As(e, &re) && re.Err == nil:
			out = append(out, Problem{Text: re.Reason, Keyword: "header", Contract: "openapi.yaml" + respPointer,
				Inferred: respAll, Expected: re.Reason, Observed: "otherwise"})
		case !errors.As(e, &se) && len(schemaErrs) == 0:
			out = append(out, Problem{Text: e.Error(), Contract: "openapi.yaml" + respPointer, Inferred: respAll,
				Expected: "what " + respPointer + " describes", Observed: e.Error()})
		}
	}
	slices.SortFunc(out, func(a, b Problem) int { return strings.Compare(a.Text, b.Text) })
	return slices.CompactFunc(out, func(a, b Problem) bool { return a.Text == b.Text })
}

// ofType reports whether v (decoded JSON) is of a type sc allows (any when it names none).
func ofType(sc *openapi3.Schema, v any) bool {
	if sc == nil || sc.Type == nil || len(*sc.Type) == 0 {
		return true
	}
	for _, t := range sc.Type.Slice() {
		switch x := v.(type) {
		case string:
			if t == "string" {
				return true
			}
		case bool:
			if t == "boolean" {
				return true
			}
		case float64:
			if t == "number" || t == "integer" && x == float64(int64(x)) {
				return true
			}
		case []any:
			if t == "array" {
				return true
			}
		case map[string]any:
			if t == "object" {
				return true
			}
		case nil:
			if t == "null" || sc.Nullable {
				return true
			}
		}
	}
	return false
}
