// Package spec loads an OpenAPI 3.0 contract once (document, validation, router) and validates
// requests, responses and callback payloads against it with kin-openapi, turning kin-openapi's
// errors into the mock's API errors with the offending field named.
package spec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/equalture/equalture-mock/internal/apierr"
)

// Spec is a loaded, validated contract with its router.
type Spec struct {
	Doc    *openapi3.T
	router routers.Router
	// formats are the string formats kin-openapi does not check by default.
	formats []openapi3.SchemaValidationOption
}

// Operation is an operation of the contract.
type Operation struct {
	ID     string
	Method string
	Path   string
	*openapi3.Operation
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// formatValidators checks uuid, email and uri, which kin-openapi leaves unchecked by default.
// They are passed per call, never registered globally.
func formatValidators() []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidators(map[string]openapi3.StringFormatValidator{
			"uuid": openapi3.NewCallbackValidator(func(s string) error {
				if !uuidRE.MatchString(s) {
					return errors.New("must be a UUID")
				}
				return nil
			}),
			"email": openapi3.NewCallbackValidator(func(s string) error {
				a, err := mail.ParseAddress(s)
				if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
					return errors.New("must be an email address like name@example.com")
				}
				return nil
			}),
			"uri": openapi3.NewCallbackValidator(func(s string) error {
				u, err := url.Parse(s)
				if err != nil || u.Scheme == "" || u.Host == "" {
					return errors.New("must be an absolute URL")
				}
				return nil
			}),
			"date": openapi3.NewCallbackValidator(func(s string) error {
				if !dateRE.MatchString(s) {
					return errors.New("must be an ISO 8601 date (YYYY-MM-DD)")
				}
				return nil
			}),
		}),
	}
}

var dateRE = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$`)

// Load parses and validates an OpenAPI 3.0 document and builds its router once. The router
// matches paths only: the document's (absolute) servers are replaced by "/" for routing.
func Load(ctx context.Context, data []byte) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("spec: parse: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("spec: invalid: %w", err)
	}
	routed := *doc
	routed.Servers = openapi3.Servers{{URL: "/"}}
	r, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("spec: router: %w", err)
	}
	return &Spec{Doc: doc, router: r, formats: formatValidators()}, nil
}

// Operations returns the contract's operations by operationId (callbacks excluded).
func (s *Spec) Operations() map[string]Operation {
	ops := make(map[string]Operation)
	for path, item := range s.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[op.OperationID] = Operation{ID: op.OperationID, Method: method, Path: path, Operation: op}
		}
	}
	return ops
}

// CheckHandlers fails unless ids (the operations a server has handlers for) and the contract's
// operations are the same set, so a contract and its server cannot drift apart.
func (s *Spec) CheckHandlers(ids []string) error {
	ops := s.Operations()
	have := make(map[string]bool, len(ids))
	var problems []string
	for _, id := range ids {
		have[id] = true
		if _, ok := ops[id]; !ok {
			problems = append(problems, fmt.Sprintf("handler %q names no operation of the contract", id))
		}
	}
	for id := range ops {
		if !have[id] {
			problems = append(problems, fmt.Sprintf("operation %q has no handler", id))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("contract and handlers differ: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Examples returns, per operation and status, the JSON example the contract gives for the
// response (the first named example when there are several).
func (s *Spec) Examples() map[string]map[int][]byte {
	out := make(map[string]map[int][]byte)
	for id, op := range s.Operations() {
		out[id] = make(map[int][]byte)
		for code, ref := range op.Responses.Map() {
			n, err := strconv.Atoi(code)
			if err != nil || ref.Value == nil {
				continue
			}
			var ex any
			if mt := ref.Value.Content.Get("application/json"); mt != nil {
				ex = mt.Example
				if ex == nil && len(mt.Examples) > 0 {
					names := make([]string, 0, len(mt.Examples))
					for name := range mt.Examples {
						names = append(names, name)
					}
					sort.Strings(names)
					if e := mt.Examples[names[0]]; e != nil && e.Value != nil {
						ex = e.Value.Value
					}
				}
			}
			if ex == nil {
				ex = map[string]any{"errors": map[string]string{"detail": http.StatusText(n)}}
			}
			b, err := json.Marshal(ex)
			if err == nil {
				out[id][n] = b
			}
		}
	}
	return out
}

// Matches reports whether r's path is an operation path of the contract (any method).
func (s *Spec) Matches(r *http.Request) bool {
	_, _, err := s.router.FindRoute(r)
	return err == nil || errors.Is(err, routers.ErrMethodNotAllowed)
}

// Route is a matched operation and its path parameters.
type Route struct {
	*routers.Route
	Params map[string]string
}

// FindRoute matches r to an operation; no match is a 404, a known path with another method a 405
// naming the allowed methods.
func (s *Spec) FindRoute(r *http.Request) (Route, error) {
	route, params, err := s.router.FindRoute(r)
	if err == nil {
		return Route{Route: route, Params: params}, nil
	}
	if errors.Is(err, routers.ErrMethodNotAllowed) {
		allowed := s.allowed(r)
		return Route{}, apierr.New(apierr.MethodNotAllowed, "Method %s is not allowed on %s; allowed: %s",
			r.Method, r.URL.Path, strings.Join(allowed, ", ")).WithHeader("Allow", strings.Join(allowed, ", "))
	}
	return Route{}, apierr.New(apierr.NotFound, "Not Found: no operation at %s %s", r.Method, r.URL.Path)
}

func (s *Spec) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, _, err := s.router.FindRoute(probe); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// ValidateRequest validates r (security through auth, parameters, body) against route and returns
// an *apierr.Error: 401 from auth, 413 oversized, 415 wrong content type, 400 malformed JSON or bad
// parameter, 422 schema violations with every offending field named by dotted path. The body is
// left readable for the handler.
func (s *Spec) ValidateRequest(ctx context.Context, r *http.Request, route Route, auth openapi3filter.AuthenticationFunc) error {
	in := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: route.Params,
		Route:      route.Route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:      auth,
			MultiError:              true,
			SkipSettingDefaults:     true,
			SchemaValidationOptions: s.formats,
		},
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		return requestError(err)
	}
	return nil
}

// requestError converts kin-openapi's request validation error into one API error, the most
// fundamental problem first: auth, size, media type, malformed JSON, parameters, then fields.
func requestError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return apierr.New(apierr.TooLarge, "Request body too large (limit %d bytes)", tooLarge.Limit)
	}
	var errs []error
	flatten(err, &errs)
	for _, e := range errs {
		var sec *openapi3filter.SecurityRequirementsError
		if errors.As(e, &sec) {
			for _, inner := range sec.Errors {
				var ae *apierr.Error
				if errors.As(inner, &ae) {
					return ae
				}
			}
			return apierr.New(apierr.Unauthorized, "Unauthorized: %v", sec).WithHeader("WWW-Authenticate", `Bearer realm="equalture"`)
		}
	}
	var (
		params = &apierr.Error{Code: apierr.BadRequest, Detail: "Bad Request"}
		fields = &apierr.Error{Code: apierr.Invalid}
	)
	for _, e := range errs {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) {
			return &apierr.Error{Code: apierr.BadRequest, Detail: "Bad Request: " + e.Error()}
		}
		switch {
		case re.Parameter != nil:
			addSchemaErrors(params, re.Parameter.Name, re.Err, re.Reason)
		case re.RequestBody == nil:
			return apierr.New(apierr.BadRequest, "Bad Request: %s", re.Error())
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			return apierr.New(apierr.BadRequest, "Missing request body: send a JSON object")
		case strings.HasPrefix(re.Reason, "header Content-Type has unexpected value"):
			ct := r0(re)
			return apierr.New(apierr.UnsupportedMediaType, "Unsupported Content-Type %q: send application/json", ct)
		case re.Reason == "failed to decode request body":
			return apierr.New(apierr.BadRequest, "Malformed JSON: %s", decodeCause(re.Err))
		default:
			addSchemaErrors(fields, "", re.Err, re.Reason)
		}
	}
	if len(params.Fields) > 0 {
		return params
	}
	if len(fields.Fields) > 0 {
		return fields
	}
	return apierr.New(apierr.BadRequest, "Bad Request")
}

func r0(re *openapi3filter.RequestError) string {
	if re.Input != nil && re.Input.Request != nil {
		return re.Input.Request.Header.Get("Content-Type")
	}
	return ""
}

// decodeCause keeps the JSON decoder's message and drops kin-openapi's wrapping.
func decodeCause(err error) string {
	var pe *openapi3filter.ParseError
	if errors.As(err, &pe) && pe.Cause != nil {
		return pe.Cause.Error()
	}
	if err == nil {
		return "invalid JSON"
	}
	return err.Error()
}

func flatten(err error, out *[]error) {
	var me openapi3.MultiError
	if errors.As(err, &me) && len(me) > 0 {
		if _, isReq := err.(*openapi3filter.RequestError); !isReq {
			for _, e := range me {
				flatten(e, out)
			}
			return
		}
	}
	*out = append(*out, err)
}

// addSchemaErrors adds each schema error under err to e, keyed by prefix plus its dotted path.
func addSchemaErrors(e *apierr.Error, prefix string, err error, reason string) {
	var schemaErrs []*openapi3.SchemaError
	collectSchemaErrors(err, &schemaErrs)
	if len(schemaErrs) == 0 {
		field := prefix
		if field == "" {
			field = "body"
		}
		msg := reason
		var pe *openapi3filter.ParseError
		if errors.As(err, &pe) {
			msg = "is invalid: " + pe.Reason
		} else if msg == "" && err != nil {
			msg = "is invalid: " + err.Error()
		}
		e.Add(field, msg)
		return
	}
	for _, se := range schemaErrs {
		e.Add(FieldPath(prefix, se), Message(se))
	}
}

func collectSchemaErrors(err error, out *[]*openapi3.SchemaError) {
	if err == nil {
		return
	}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			collectSchemaErrors(e, out)
		}
		return
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		*out = append(*out, se)
	}
}

// FieldPath is se's location as a dotted path under prefix ("applicant_details.email"); the
// whole value is "body" (or prefix).
func FieldPath(prefix string, se *openapi3.SchemaError) string {
	parts := se.JSONPointer()
	if prefix != "" {
		parts = append([]string{prefix}, parts...)
	}
	if len(parts) == 0 {
		return "body"
	}
	return strings.Join(parts, ".")
}

// Message is a short, Phoenix-style message for se that never echoes the value.
func Message(se *openapi3.SchemaError) string {
	sc := se.Schema
	if sc != nil {
		if m, ok := sc.Extensions["x-error-message"].(string); ok && m != "" && se.SchemaField != "required" {
			return "is invalid: " + m
		}
	}
	switch se.SchemaField {
	case "required":
		return "can't be blank"
	case "minLength":
		if s, ok := se.Value.(string); ok && s == "" {
			return "can't be blank"
		}
		return fmt.Sprintf("should be at least %d character(s)", sc.MinLength)
	case "maxLength":
		return fmt.Sprintf("should be at most %d character(s)", *sc.MaxLength)
	case "type":
		return fmt.Sprintf("is invalid: must be %s", typeName(sc))
	case "enum":
		vals := make([]string, 0, len(sc.Enum))
		for _, v := range sc.Enum {
			vals = append(vals, fmt.Sprint(v))
		}
		return "is invalid: must be one of " + strings.Join(vals, ", ")
	case "format":
		if se.Origin != nil {
			return "is invalid: " + formatReason(se.Origin)
		}
		return fmt.Sprintf("is invalid: must be a valid %s", sc.Format)
	case "pattern":
		return "has invalid format"
	case "minimum", "maximum", "minItems", "maxItems", "minProperties", "maxProperties":
		return "is invalid: " + se.Reason
	default:
		if se.Reason != "" {
			return "is invalid: " + se.Reason
		}
		return "is invalid"
	}
}

func formatReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

func typeName(sc *openapi3.Schema) string {
	if sc == nil || sc.Type == nil || len(*sc.Type) == 0 {
		return "a valid value"
	}
	names := make([]string, 0, len(*sc.Type))
	for _, t := range sc.Type.Slice() {
		switch t {
		case "object", "array", "integer":
			names = append(names, "an "+t)
		default:
			names = append(names, "a "+t)
		}
	}
	return strings.Join(names, " or ")
}

// ValidateResponse checks a response to req against the contract: a documented status, the
// documented headers, and the body schema. The error names the operation, the status and every
// offending field.
func (s *Spec) ValidateResponse(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: no operation in the contract matches (%v)", req.Method, req.URL.Path, err)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:   true,
		MultiError:              true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: s.formats,
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 header,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return fmt.Errorf("operation %s (%s %s) answered %d against the contract: %s",
			route.Operation.OperationID, req.Method, route.Path, status, Describe(err))
	}
	return nil
}

// Describe lists a validation error's problems one per field, without kin-openapi's schema dumps.
func Describe(err error) string {
	var schemaErrs []*openapi3.SchemaError
	collectSchemaErrors(err, &schemaErrs)
	var lines []string
	for _, se := range schemaErrs {
		lines = append(lines, fmt.Sprintf("field %q %s (%s)", FieldPath("", se), Message(se), se.Reason))
	}
	var plain []error
	flatten(err, &plain)
	for _, e := range plain {
		var re *openapi3filter.ResponseError
		if errors.As(e, &re) && re.Err == nil {
			lines = append(lines, re.Reason)
			continue
		}
		var se *openapi3.SchemaError
		if !errors.As(e, &se) && len(schemaErrs) == 0 {
			lines = append(lines, e.Error())
		}
	}
	lines = slices.Compact(lines)
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}

// CallbackSchema returns the request-body schema of callback name on operationID.
func (s *Spec) CallbackSchema(operationID, name string) (*openapi3.Schema, error) {
	op, ok := s.Operations()[operationID]
	if !ok {
		return nil, fmt.Errorf("spec: no operation %q", operationID)
	}
	cb := op.Callbacks[name]
	if cb == nil || cb.Value == nil {
		return nil, fmt.Errorf("spec: operation %q has no callback %q", operationID, name)
	}
	for _, item := range cb.Value.Map() {
		for _, cop := range item.Operations() {
			if cop.RequestBody != nil && cop.RequestBody.Value != nil {
				if mt := cop.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
					return mt.Schema.Value, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("spec: callback %q of %q has no JSON request body", name, operationID)
}

// ValidateValue validates a decoded JSON value (maps, slices, float64...) against schema as a
// request body, with the contract's string formats.
func (s *Spec) ValidateValue(schema *openapi3.Schema, v any) error {
	opts := append([]openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.MultiErrors()}, s.formats...)
	if err := schema.VisitJSON(v, opts...); err != nil {
		return errors.New(Describe(err))
	}
	return nil
}
