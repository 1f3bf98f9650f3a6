// Package spec loads an OpenAPI 3.0 contract once (document, validation, router) and validates
// requests, responses and callback payloads against it with kin-openapi, turning kin-openapi's
// errors into the mock's API errors with the offending field named. It reads the rules the
// contracts state in their extensions into typed values (x-lifecycle, x-token-ttl, x-challenge,
// x-reasons), and the contracts' x-lifecycle into the rules the domain enforces
// (DomainLifecycle): the lifecycle's one statement is the contracts', its one enforcer the
// domain.
package spec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

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
	// static memoizes the router's answer for the operations whose path has no parameter
	// (path → method → route): the hot paths skip the router's regexps.
	static map[string]map[string]*routers.Route
	// formats are the string formats kin-openapi does not check by default.
	formats []openapi3.SchemaValidationOption
	// lifecycle and tokenTTL are the contract's x-lifecycle and x-token-ttl.
	lifecycle *Lifecycle
	tokenTTL  time.Duration
	// places says where each schema is stated, and what of it the contract guessed.
	places map[*openapi3.Schema]schemaPlace
	// ops are the operations by operationId, indexed once.
	ops map[string]Operation
}

// Operation is an operation of the contract.
type Operation struct {
	ID     string
	Method string
	Path   string
	*openapi3.Operation
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// formatValidators checks uuid, email and uri, which kin-openapi leaves unchecked by default, and
// date with a clearer message. They are passed per call, never registered globally, and fail with
// a *formatError that Message finds again in the SchemaError.
func formatValidators() []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidators(map[string]openapi3.StringFormatValidator{
			"uuid": openapi3.NewCallbackValidator(func(s string) error {
				if !uuidRE.MatchString(s) {
					return &formatError{"must be a UUID"}
				}
				return nil
			}),
			"email": openapi3.NewCallbackValidator(func(s string) error {
				a, err := mail.ParseAddress(s)
				if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
					return &formatError{"must be an email address like name@example.com"}
				}
				return nil
			}),
			"uri": openapi3.NewCallbackValidator(func(s string) error {
				u, err := url.Parse(s)
				if err != nil || u.Scheme == "" || u.Host == "" {
					return &formatError{"must be an absolute URL"}
				}
				return nil
			}),
			"date": openapi3.NewCallbackValidator(func(s string) error {
				if !dateRE.MatchString(s) {
					return &formatError{"must be an ISO 8601 date (YYYY-MM-DD)"}
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
	s := &Spec{Doc: doc, router: r, formats: formatValidators(), static: make(map[string]map[string]*routers.Route),
		ops: make(map[string]Operation)}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			s.ops[op.OperationID] = Operation{ID: op.OperationID, Method: method, Path: path, Operation: op}
			if strings.Contains(path, "{") {
				continue
			}
			probe, err := http.NewRequest(method, path, nil)
			if err != nil {
				return nil, fmt.Errorf("spec: %s %s: %w", method, path, err)
			}
			route, _, err := r.FindRoute(probe)
			if err != nil {
				return nil, fmt.Errorf("spec: router misses %s %s: %w", method, path, err)
			}
			if s.static[path] == nil {
				s.static[path] = make(map[string]*routers.Route)
			}
			s.static[path][method] = route
		}
	}
	s.indexSchemas()
	if err := s.loadLifecycle(); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	if err := s.loadTokenTTL(); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	return s, nil
}

// Operations returns the contract's operations by operationId (callbacks excluded): the caller's
// copy of the index Load made.
func (s *Spec) Operations() map[string]Operation { return maps.Clone(s.ops) }

// CheckHandlers fails unless ids (the operations a server has handlers for) and the contract's
// operations are the same set, so a contract and its server cannot drift apart.
func (s *Spec) CheckHandlers(ids []string) error {
	ops := s.ops
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
	for id, op := range s.ops {
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
				out[id][n] = apierr.StatusBody(n)
				continue
			}
			b, err := json.Marshal(ex)
			if err == nil {
				out[id][n] = b
			}
		}
	}
	return out
}

// SecuritySchemes returns, per operation, the security scheme a client is asked for first (its
// own security, else the document's): what a 401's challenge names. Operations open to anyone are
// left out.
func (s *Spec) SecuritySchemes() map[string]string {
	out := make(map[string]string)
	for id, op := range s.ops {
		reqs := s.Doc.Security
		if op.Security != nil {
			reqs = *op.Security
		}
		for _, req := range reqs {
			if names := slices.Sorted(maps.Keys(req)); len(names) > 0 {
				out[id] = names[0]
				break
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
	if route := s.static[r.URL.Path][r.Method]; route != nil {
		return Route{Route: route}, nil
	}
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
	// The input and its options in one allocation: this runs on every request.
	v := &struct {
		in   openapi3filter.RequestValidationInput
		opts openapi3filter.Options
	}{
		in: openapi3filter.RequestValidationInput{Request: r, PathParams: route.Params, Route: route.Route},
		opts: openapi3filter.Options{
			AuthenticationFunc:      auth,
			MultiError:              true,
			SkipSettingDefaults:     true,
			SchemaValidationOptions: s.formats,
		},
	}
	v.in.Options = &v.opts
	if err := openapi3filter.ValidateRequest(ctx, &v.in); err != nil {
		return requestError(err, r)
	}
	return nil
}

// ValidateResponse checks a response to req against the contract: a documented status, the
// documented headers, and the body schema. The error (a *ResponseError) names the operation, the
// status and every offending field, each placed in the contract and marked when it was a guess.
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
		opPointer := OperationPointer(route.Path, req.Method)
		return &ResponseError{Operation: route.Operation.OperationID, Method: req.Method, Path: route.Path, Status: status,
			Problems: s.responseProblems(err, route.Operation, opPointer, status)}
	}
	return nil
}

// documentedStatuses lists the statuses (and ranges, and "default") responses documents, sorted.
func documentedStatuses(responses *openapi3.Responses) []string {
	codes := make([]string, 0, responses.Len())
	for code := range responses.Map() {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	return codes
}

// CallbackSchema returns the request-body schema of callback name on operationID.
func (s *Spec) CallbackSchema(operationID, name string) (*openapi3.Schema, error) {
	op, ok := s.ops[operationID]
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

// Callbacks returns the names of operationID's callbacks, sorted (none for an unknown operation).
func (s *Spec) Callbacks(operationID string) []string {
	op, ok := s.ops[operationID]
	if !ok {
		return nil
	}
	names := make([]string, 0, len(op.Callbacks))
	for name := range op.Callbacks {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ValidateCallback checks a callback the service sends — callback name of operationID, e.g.
// createApplication's applicationResults — against the contract: a method the callback documents,
// the header parameters it requires (present, and valid against their schemas), a Content-Type
// its request body declares, and the body against its schema. The error says what is wrong,
// naming the callback and every offending field with its value.
func (s *Spec) ValidateCallback(operationID, name, method string, header http.Header, body []byte) error {
	op, ok := s.ops[operationID]
	if !ok {
		return fmt.Errorf("spec: no operation %q", operationID)
	}
	cb := op.Callbacks[name]
	if cb == nil || cb.Value == nil {
		return fmt.Errorf("spec: operation %q has no callback %q", operationID, name)
	}
	var (
		cop     *openapi3.Operation
		methods []string
	)
	for _, item := range cb.Value.Map() {
		for m, o := range item.Operations() {
			methods = append(methods, m)
			if strings.EqualFold(m, method) {
				cop = o
			}
		}
	}
	sort.Strings(methods)
	if cop == nil {
		return fmt.Errorf("callback arrived as %s; the contract says %s", method, strings.Join(methods, " or "))
	}
	for _, ref := range cop.Parameters {
		p := ref.Value
		if p == nil || p.In != openapi3.ParameterInHeader {
			continue
		}
		v := header.Values(p.Name)
		switch {
		case len(v) == 0 && p.Required:
			return fmt.Errorf("callback header %s missing (%s)", p.Name, name)
		case len(v) > 0 && p.Schema != nil && p.Schema.Value != nil:
			if err := s.ValidateValue(p.Schema.Value, strings.Join(v, ", ")); err != nil {
				return fmt.Errorf("callback header %s breaks the contract (%s): %v", p.Name, name, err)
			}
		}
	}
	if cop.RequestBody == nil || cop.RequestBody.Value == nil {
		return nil
	}
	rb := cop.RequestBody.Value
	if ct := header.Get("Content-Type"); !declares(rb, ct) {
		return fmt.Errorf("callback Content-Type is %s; the contract says %s", ct, strings.Join(mediaTypes(rb), " or "))
	}
	mt := rb.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("callback body is not JSON: %v", err)
	}
	if err := s.ValidateValue(mt.Schema.Value, v); err != nil {
		return fmt.Errorf("callback payload breaks the contract (%s): %v", name, err)
	}
	return nil
}

// EventType returns the type of a webhook event: a POST whose body is a JSON object with a string
// "type" (false for anything else, such as a results PUT).
func EventType(method string, body []byte) (string, bool) {
	var env struct {
		Type *string `json:"type"`
	}
	if method != http.MethodPost || json.Unmarshal(body, &env) != nil || env.Type == nil {
		return "", false
	}
	return *env.Type, true
}

// ValidateEvent checks a webhook event the service sends to a webhook registered through
// operationID: its type must be one of the operation's callbacks, and the event that callback
// (ValidateCallback). It returns the event's type.
func (s *Spec) ValidateEvent(operationID, method string, header http.Header, body []byte) (string, error) {
	event, ok := EventType(method, body)
	if !ok {
		return "", errors.New("not a webhook event: want a POST of a JSON object with a type")
	}
	if events := s.Callbacks(operationID); !slices.Contains(events, event) {
		return event, fmt.Errorf("event type %q is not one the contract documents (%s)", event, strings.Join(events, ", "))
	}
	return event, s.ValidateCallback(operationID, event, method, header, body)
}

func mediaTypes(rb *openapi3.RequestBody) []string {
	out := make([]string, 0, len(rb.Content))
	for mt := range rb.Content {
		out = append(out, mt)
	}
	sort.Strings(out)
	return out
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
