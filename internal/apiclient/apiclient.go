// Package apiclient calls an API one of the mock's contracts describes — the vendor API (the mock's
// or the real service's) or the mock's control API — and checks every answer against that
// contract: documented status, headers, body schema. The contract suite, the scenario runner, the
// test environment and equaltest's control client all call through it, so an answer is judged the
// same way everywhere.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/redact"
	"github.com/equalture/equalture-mock/internal/spec"
)

// DefaultTimeout bounds a request when the client sets no timeout.
const DefaultTimeout = 30 * time.Second

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 4 << 20

// Client calls one API and checks its answers.
type Client struct {
	// Base is the API's base URL: "http://host:8080", or "http://host:8080/_mock" for the control
	// API (with Prefix "/_mock").
	Base string
	// Contract is the API's contract.
	Contract *spec.Spec
	// Prefix is what the contract's paths start with that Base already holds ("/_mock" for the
	// control API); empty for the vendor API.
	Prefix string
	// HTTP sends the requests (a client that follows no redirects when nil: a redirect is an answer).
	HTTP *http.Client
	// Timeout bounds each request (DefaultTimeout when 0).
	Timeout time.Duration
	// Options apply to every request before the call's own (the control API's admin token).
	Options []Option
}

// Option sets something on a request: credentials, a header.
type Option func(*http.Request)

// Basic authenticates with client credentials.
func Basic(id, secret string) Option { return func(r *http.Request) { r.SetBasicAuth(id, secret) } }

// Bearer authenticates with a token.
func Bearer(tok string) Option {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

// Header sets a header.
func Header(k, v string) Option { return func(r *http.Request) { r.Header.Set(k, v) } }

// Response is an answer, already checked against the contract.
type Response struct {
	// Operation names the call: "listJobs (GET /connect_ats/jobs)", "getResults (GET
	// /connect_ats/applications/…/results?locale=nl)", or "GET /path" when the contract has no
	// operation for it.
	Operation string
	Status    int
	Header    http.Header
	Body      []byte
	// Violation says how the answer breaks the contract ("" when it honours it, or when the
	// contract has no operation for the request: its 404s and 405s are not the contract's).
	Violation string
	// Guesses, when the answer breaks only parts the contract guessed (x-inferred), says so as
	// news about the contract ("the contract guessed …; the service answered …"): Violation is
	// then not a broken service. Empty otherwise.
	Guesses string
}

// JSON decodes the body as an object (nil when it is not one).
func (r Response) JSON() map[string]any {
	var v map[string]any
	_ = json.Unmarshal(r.Body, &v)
	return v
}

// Field returns a top-level string field of the body.
func (r Response) Field(name string) string {
	s, _ := r.JSON()[name].(string)
	return s
}

// ErrorMessages returns the messages the error body holds for field ("detail" included).
func (r Response) ErrorMessages(field string) []string {
	errs, _ := r.JSON()["errors"].(map[string]any)
	switch v := errs[field].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, m := range v {
			s, _ := m.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// String is the answer for messages: the operation, the status and the body, cut, secrets in it
// replaced by hints.
func (r Response) String() string {
	b := string(redact.JSON(r.Body))
	if len(b) > 600 {
		b = b[:600] + "…"
	}
	return fmt.Sprintf("%s answered %d %s", r.Operation, r.Status, b)
}

// Do sends a request to path (relative to Base, query included) with body as JSON when it is not
// empty, and checks the answer.
func (c *Client) Do(ctx context.Context, method, path string, body []byte, opts ...Option) (Response, error) {
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Base, "/")+path, rd)
	if err != nil {
		return Response{}, err
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for _, o := range c.Options {
		o(req)
	}
	for _, o := range opts {
		o(req)
	}
	return c.Send(req)
}

// DoJSON is Do with v marshalled as the body.
func (c *Client) DoJSON(ctx context.Context, method, path string, v any, opts ...Option) (Response, error) {
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			return Response{}, err
		}
	}
	return c.Do(ctx, method, path, body, opts...)
}

// Send sends a prepared request within the timeout, reads the answer and, when the request is
// one of the API's operations, checks the answer against the contract.
func (c *Client) Send(req *http.Request) (Response, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	parent := req.Context()
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	req = req.WithContext(ctx)
	// failed names the operation and, when the client's own timeout ran out, says so.
	failed := func(doing string, err error) (Response, error) {
		op := c.operation(req)
		if ctx.Err() != nil && parent.Err() == nil {
			return Response{Operation: op}, fmt.Errorf("%s did not answer within %s (%s): %w", op, timeout, doing, err)
		}
		return Response{Operation: op}, fmt.Errorf("%s: %s: %w", op, doing, err)
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return failed("sending the request", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return failed("reading the answer", err)
	}
	r := Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	var verdict error
	r.Operation, verdict = c.judge(req, r.Status, r.Header, b)
	if verdict != nil {
		r.Violation = verdict.Error()
		var re *spec.ResponseError
		if errors.As(verdict, &re) {
			if broken, guessed := re.Split(); broken == nil {
				r.Guesses = guessed.Guesses()
			}
		}
	}
	return r, nil
}

func (c *Client) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return noRedirects
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// judge judges an answer to req: it names the operation and returns how the answer breaks the
// contract (a *spec.ResponseError). Requests outside Base, and requests the contract has no
// operation for (an unknown path, a method a path does not have), are not the contract's to judge.
func (c *Client) judge(req *http.Request, status int, header http.Header, body []byte) (string, error) {
	operation, vreq := c.resolve(req)
	if vreq == nil {
		return operation, nil
	}
	return operation, c.Contract.ValidateResponse(req.Context(), vreq, status, header, body)
}

// operation names req for messages.
func (c *Client) operation(req *http.Request) string {
	op, _ := c.resolve(req)
	return op
}

// resolve names req's operation ("listJobs (GET /connect_ats/jobs)") and returns req as the
// contract knows it, or nil when the contract has no operation for it.
func (c *Client) resolve(req *http.Request) (string, *http.Request) {
	vreq, ok := c.contractRequest(req)
	if !ok {
		return req.Method + " " + req.URL.String(), nil
	}
	operation := req.Method + " " + vreq.URL.Path
	if req.URL.RawQuery != "" { // which locale, which filter: part of what was asked
		operation += "?" + req.URL.RawQuery
	}
	route, err := c.Contract.FindRoute(vreq)
	if err != nil {
		return operation, nil
	}
	return route.Operation.OperationID + " (" + operation + ")", vreq
}

// contractRequest is req as the contract knows it: its path without the part of Base the
// contract's paths lack, with Prefix in front. It reports false for a request outside Base.
func (c *Client) contractRequest(req *http.Request) (*http.Request, bool) {
	base, err := url.Parse(strings.TrimRight(c.Base, "/"))
	if err != nil || !strings.EqualFold(base.Host, req.URL.Host) {
		return nil, false
	}
	rest, ok := strings.CutPrefix(req.URL.Path, base.Path)
	if !ok || rest != "" && !strings.HasPrefix(rest, "/") {
		return nil, false
	}
	vreq := req.Clone(req.Context())
	vreq.URL.Path, vreq.URL.RawPath = c.Prefix+rest, ""
	return vreq, true
}
