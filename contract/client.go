package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/spec"
)

// Client calls the target and checks every answer against the contract.
type Client struct {
	Base     string
	Contract *spec.Spec
	HTTP     *http.Client
	// Prefix is what the contract's paths start with that Base already holds ("/_mock" for the
	// control API at http://host/_mock); empty for the vendor API.
	Prefix string
	// Auth applies to every request before the call's own (the control API's admin token).
	Auth []Auth
}

// Response is an answer, already checked against the contract.
type Response struct {
	// Operation names the call: "listJobs (GET /connect_ats/jobs)".
	Operation string
	Status    int
	Header    http.Header
	Body      []byte
	// Violation is what breaks the contract in this answer ("" when it honours it).
	Violation string
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

// ErrorMessages returns the messages the Phoenix error body holds for field ("detail" included).
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

func (r Response) String() string {
	b := string(r.Body)
	if len(b) > 600 {
		b = b[:600] + "…"
	}
	return fmt.Sprintf("%s answered %d %s", r.Operation, r.Status, b)
}

// Auth sets a request's credentials.
type Auth func(*http.Request)

// Basic authenticates with client credentials.
func Basic(id, secret string) Auth { return func(r *http.Request) { r.SetBasicAuth(id, secret) } }

// Bearer authenticates with an access token.
func Bearer(tok string) Auth {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

// Header sets a raw header.
func Header(k, v string) Auth { return func(r *http.Request) { r.Header.Set(k, v) } }

// Do sends a request to the vendor API; a JSON body is sent as application/json unless a
// Header auth overrides Content-Type.
func (c *Client) Do(method, path, body string, auth ...Auth) (Response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return Response{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for _, a := range c.Auth {
		a(req)
	}
	for _, a := range auth {
		a(req)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	r := Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	// Validate against the path as the contract knows it (without the target's base path).
	vreq := req.Clone(ctx)
	vreq.URL.Path = c.Prefix + "/" + strings.TrimLeft(path[:indexOrLen(path, '?')], "/")
	r.Operation = method + " " + vreq.URL.Path
	if route, err := c.Contract.FindRoute(vreq); err == nil {
		r.Operation = route.Operation.OperationID + " (" + r.Operation + ")"
	}
	if err := c.Contract.ValidateResponse(ctx, vreq, r.Status, r.Header, b); err != nil {
		r.Violation = err.Error()
	}
	return r, nil
}

func indexOrLen(s string, c byte) int {
	if i := strings.IndexByte(s, c); i >= 0 {
		return i
	}
	return len(s)
}
