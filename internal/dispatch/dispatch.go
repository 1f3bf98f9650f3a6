// Package dispatch is the one request pipeline of every API the binary serves from a contract (the
// vendor API, the control API, and the validating proxy): read the body within a limit, route by
// the contract, let middleware (fault rules, Prefer, guards) act, validate the request and
// authenticate it with kin-openapi, and dispatch to the handler bound to the operationId. Observers
// (the journal, the request log) see every exchange after its answer, errors included.
//
// The mock refuses what the contract refuses. The proxy sets two options instead: ReportInvalid
// (an invalid request still reaches its handler, the problem noted on the Call) and Fallback (what
// no bound handler takes is handed to one handler rather than answered 404/405).
//
// What the pipeline learns about a request is written in one place, its *Call; handlers return
// errors as values, and one writer turns them into the contract's JSON error body.
package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/spec"
)

// Call is one request on its way through a Dispatcher.
type Call struct {
	// Request is the request, its body readable again.
	Request *http.Request
	// Start is when the dispatcher took the request (real time, for durations).
	Start time.Time
	// Body is the request body, read once within the limit. Nobody modifies it: observers keep it.
	Body []byte
	// BodyCut says reading stopped at the limit: Body holds only the start of a longer body.
	BodyCut bool
	// Route is the contract's operation for the request; Op is its operationId ("" when no
	// operation matched) and Params its path parameters.
	Route  spec.Route
	Op     string
	Params map[string]string
	// Principal is who authentication vouched for (the client id); empty until then.
	Principal string
	// Fault is the id of the fault rule that shaped the answer, if one did.
	Fault string
	// Invalid is why the request breaks the contract (an *apierr.Error, as the mock would answer
	// it), when Options.ReportInvalid let it through to its handler; nil otherwise.
	Invalid error
	// Violations are the ways the exchange broke the contract that handlers found and let pass (the
	// proxy's findings); observers see them with the answer.
	Violations []Violation
	// Err is the error the pipeline answered (an *apierr.Error, its Reason for coverage); nil when
	// the handler answered itself.
	Err error

	routeErr error
	identify func(*http.Request) string
	claimed  *string
	rec      recorder // the answer as observers see it (one allocation with the Call)
}

// Who returns the client the request is from: the authenticated one, or else the one it claims to
// be (fault rules and the journal need a name before, or without, authentication).
func (c *Call) Who() string {
	if c.Principal != "" {
		return c.Principal
	}
	if c.claimed == nil {
		who := ""
		if c.identify != nil {
			who = c.identify(c.Request)
		}
		c.claimed = &who
	}
	return *c.claimed
}

// Violation is one way an exchange broke the contract.
type Violation struct {
	// Kind says whose fault it is: KindRequest, KindResponse, KindAccepted, KindCallback,
	// KindUpstream, a broken rule of behaviour (KindState, KindToken, KindEvent), or news about
	// what the contract only guessed (KindInferred).
	Kind string `json:"kind"`
	// Message names the operation, the status and the field, with the offending value.
	Message string `json:"message"`
	// Evidence are the earlier exchanges a rule of behaviour was judged by, oldest first.
	Evidence []Evidence `json:"evidence,omitempty"`
	// Contract is where the contract states what was broken or guessed ("openapi.yaml#/…").
	Contract string `json:"contract,omitempty"`
}

// Evidence is an exchange a finding rests on.
type Evidence struct {
	// Exchange numbers the exchanges of the proxy's run, in the order they arrived.
	Exchange int64     `json:"exchange"`
	Time     time.Time `json:"time"`
	// What the exchange was and said: `getStatus answered 200 {"status":"invited"}`.
	What string `json:"what"`
}

// The kinds of violations.
const (
	KindRequest  = "request"  // the request breaks the contract
	KindResponse = "response" // the answer breaks the contract
	KindAccepted = "accepted" // the target accepted (2xx) a request the contract refuses
	KindCallback = "callback" // a callback the target sent breaks the contract
	KindUpstream = "upstream" // the target did not answer
	KindState    = "state"    // the target broke the lifecycle (x-lifecycle)
	KindToken    = "token"    // the target broke the tokens' rules (x-token-ttl, x-challenge)
	KindEvent    = "event"    // a webhook event broke the rules of events (order, signature)
	KindInferred = "inferred" // what the contract only guessed (x-inferred) is not what the target does: news, not a failure
)

// Violate notes a violation of the exchange for the observers.
func (c *Call) Violate(kind, format string, args ...any) {
	c.Violations = append(c.Violations, Violation{Kind: kind, Message: fmt.Sprintf(format, args...)})
}

// Handler answers a call, or returns the error to answer.
type Handler func(w http.ResponseWriter, c *Call) error

// Check judges a request by a rule that needs the server's state; its error is answered.
type Check func(c *Call) error

// Middleware wraps the rest of the pipeline: it runs after the body is read and the route is
// known, before validation and the handler.
type Middleware func(next Handler) Handler

// Result is what an observer learns of the answer.
type Result struct {
	// Status is the answer's status; 0 when the connection was broken on purpose instead.
	Status int
	// Body is the start of the response body (up to Options.CaptureBytes), the observers' to keep;
	// Size is the whole body's size.
	Body     []byte
	Size     int64
	Duration time.Duration
}

// Observer sees every exchange once it is answered.
type Observer func(c *Call, res Result)

// Authenticator checks a request against a security scheme of the contract and returns who it is
// from; the error is answered (an *apierr.Error with its challenge).
type Authenticator func(r *http.Request, scheme string) (principal string, err error)

// Options configure a Dispatcher.
type Options struct {
	// Spec is the contract: routes, validation, the operations handlers bind to.
	Spec *spec.Spec
	// Handlers binds an operationId to its handler; every operation of the contract needs one
	// unless Fallback is set.
	Handlers map[string]Handler
	// Checks are the rules of an operation's request that the contract cannot state because they
	// need the server's state (a job_id must be one of the client's published jobs), by
	// operationId. A check runs after validation when the request is valid or invalid in its
	// fields only (a 422): its 422 joins the validation's (apierr.Join), so one answer names every
	// problem. It reads the body as sent, whatever the schema made of it.
	Checks map[string]Check
	// Fallback, when set, takes every request no bound handler takes — a path or method the
	// contract lacks (instead of a 404 or 405), or an operation Handlers leaves out — without
	// validation; New then accepts handlers for some operations only. The proxy forwards these
	// upstream. Nil for the mock, which answers them 404/405 and binds every operation.
	Fallback Handler
	// ReportInvalid makes validation report instead of refuse: a request that breaks the contract
	// (a missing credential, a bad parameter or body) still reaches its handler, with the error the
	// mock would have answered in Call.Invalid. The body limit (413) still refuses. The proxy sets
	// it to forward what the client sent and judge the target's answer; the mock leaves it false.
	ReportInvalid bool
	// MaxBodyBytes limits request bodies (413 beyond).
	MaxBodyBytes int64
	// Authenticate checks the security schemes operations require (none needed when nil).
	Authenticate Authenticator
	// Identify names who a request claims to be, before or without authentication (optional).
	Identify func(*http.Request) string
	// Middleware wraps validation and the handler, the first outermost.
	Middleware []Middleware
	// Observers see every exchange, in order.
	Observers []Observer
	// CaptureBytes is how much of each response observers see (0: none).
	CaptureBytes int
	Logger       *slog.Logger
}

// Dispatcher is an http.Handler serving one contract.
type Dispatcher struct {
	opts  Options
	chain Handler
}

var _ http.Handler = (*Dispatcher)(nil)

// New binds the handlers and builds the pipeline once. It fails when the contract and the handlers
// differ: an operation without a handler, or a handler for no operation.
func New(o Options) (*Dispatcher, error) {
	if o.Spec == nil {
		return nil, errors.New("dispatch: no contract")
	}
	if o.MaxBodyBytes <= 0 {
		return nil, errors.New("dispatch: no body limit")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	for id := range o.Checks {
		if _, bound := o.Handlers[id]; !bound {
			return nil, fmt.Errorf("dispatch: check %q names no bound operation", id)
		}
	}
	ids := slices.Collect(maps.Keys(o.Handlers))
	if o.Fallback == nil {
		if err := o.Spec.CheckHandlers(ids); err != nil {
			return nil, fmt.Errorf("dispatch: %w", err)
		}
	} else {
		ops := o.Spec.Operations()
		for _, id := range ids {
			if _, ok := ops[id]; !ok {
				return nil, fmt.Errorf("dispatch: handler %q names no operation of the contract", id)
			}
		}
	}
	d := &Dispatcher{opts: o}
	d.chain = d.serve
	for i := len(o.Middleware) - 1; i >= 0; i-- {
		d.chain = o.Middleware[i](d.chain)
	}
	return d, nil
}

// ServeHTTP runs the pipeline.
func (d *Dispatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &Call{Request: r, Start: time.Now(), identify: d.opts.Identify}
	c.rec = recorder{ResponseWriter: w, capture: d.opts.CaptureBytes}
	rec := &c.rec
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel re-panicked on purpose
				d.observe(c, rec)
				panic(v)
			}
			d.WriteError(rec, &apierr.Error{Code: apierr.Internal, Detail: "Internal Server Error", Err: fmt.Errorf("panic: %v", v)})
		}
		d.observe(c, rec)
	}()
	err := d.readBody(rec, c)
	if err == nil {
		c.Route, c.routeErr = d.opts.Spec.FindRoute(r)
		if c.routeErr == nil {
			c.Op, c.Params = c.Route.Operation.OperationID, c.Route.Params
		}
		err = d.chain(rec, c)
	}
	if err != nil {
		c.Err = err
		d.WriteError(rec, err)
	}
}

func (d *Dispatcher) observe(c *Call, rec *recorder) {
	if len(d.opts.Observers) == 0 {
		return
	}
	res := Result{Status: rec.status, Body: rec.body, Size: rec.size, Duration: time.Since(c.Start)}
	for _, o := range d.opts.Observers {
		o(c, res)
	}
}

// readBody reads the body once, within the limit, and leaves it readable again for validation.
func (d *Dispatcher) readBody(w http.ResponseWriter, c *Call) error {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, d.opts.MaxBodyBytes))
	c.Body = b
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			c.BodyCut = true
			return apierr.New(apierr.TooLarge, "Request body too large (limit %d bytes)", tooLarge.Limit)
		}
		return apierr.New(apierr.BadRequest, "Cannot read the request body: %v", err)
	}
	if len(b) == 0 {
		r.Body = http.NoBody
	} else {
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return nil
}

// serve is the end of the pipeline: a route, a valid and authenticated request, its handler.
func (d *Dispatcher) serve(w http.ResponseWriter, c *Call) error {
	handler, bound := d.opts.Handlers[c.Op]
	switch {
	case c.routeErr == nil && bound:
	case d.opts.Fallback != nil:
		return d.opts.Fallback(w, c)
	default:
		return c.routeErr
	}
	var auth openapi3filter.AuthenticationFunc = openapi3filter.NoopAuthenticationFunc
	if d.opts.Authenticate != nil {
		auth = func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			who, err := d.opts.Authenticate(in.RequestValidationInput.Request, in.SecuritySchemeName)
			if err == nil {
				c.Principal = who
			}
			return err
		}
	}
	err := d.opts.Spec.ValidateRequest(c.Request.Context(), c.Request, c.Route, auth)
	if check := d.opts.Checks[c.Op]; check != nil && (err == nil || apierr.Is(err, apierr.Invalid)) {
		err = apierr.Join(err, check(c))
	}
	if err != nil {
		if !d.opts.ReportInvalid {
			return err
		}
		c.Invalid = err
	}
	return handler(w, c)
}

// WriteError answers err in the contract's error shape (internal causes are logged, not sent).
func (d *Dispatcher) WriteError(w http.ResponseWriter, err error) {
	apierr.Write(w, d.opts.Logger, err)
}

// recorder notes the status and the start of the body of a response.
type recorder struct {
	http.ResponseWriter
	capture int
	status  int
	body    []byte
	size    int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.size += int64(len(b))
	if room := r.capture - len(r.body); room > 0 {
		r.body = append(r.body, b[:min(len(b), room)]...)
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (fault rules hijack it).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// LogRequests logs every exchange at info level: method, path, status, operation, client, time
// taken and the fault rule, if any. Nothing is formatted when info is off.
func LogRequests(log *slog.Logger) Observer {
	return func(c *Call, res Result) {
		ctx := c.Request.Context()
		if !log.Enabled(ctx, slog.LevelInfo) {
			return
		}
		log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path), slog.Int("status", res.Status),
			slog.String("operation", c.Op), slog.String("client", c.Who()),
			slog.Duration("took", res.Duration), slog.String("fault", c.Fault))
	}
}
