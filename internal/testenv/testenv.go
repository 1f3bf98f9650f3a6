// Package testenv runs the whole mock on a real listener for the project's own tests, on a frozen
// clock, and checks every answer of the vendor and control APIs against their contracts. (Go ATS
// teams use the public equaltest package instead.)
package testenv

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/apiclient"
	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/egress"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/service"
)

// T0 is where the frozen clock starts.
var T0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const (
	DemoID       = "demo-client"
	DemoSecret   = "demo-secret"
	OtherID      = "other-client"
	OtherSecret  = "other-secret"
	EngineerJob  = "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01"
	AccountJob   = "5d6b8a0e-2f7c-4c1e-8b1a-9f0e3d2c1b02"
	DraftJob     = "9e2f4a6c-1b3d-4e5f-8a7b-6c5d4e3f2a03"
	OtherJob     = "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c04"
	UnknownUUID  = "00000000-0000-4000-8000-000000000000"
	CallbackURL  = "http://127.0.0.1:9/applications/8a3e2c8e-5b0f-4c55-9a1d-2f4b6c8d0e11" // loopback discard port: nothing leaves the machine
	ContentJSON  = "application/json"
	MaxBodyBytes = 1 << 20
)

// Env is the mock on a real listener, on a frozen clock, with every vendor and control API answer
// it gives checked against its contract.
type Env struct {
	t       testing.TB
	App     *app.App
	Clock   *clock.Virtual
	URL     string
	vendor  *apiclient.Client
	control *apiclient.Client
}

// New starts the mock; opts adjust its options.
func New(t testing.TB, opts ...func(*app.Options)) *Env {
	t.Helper()
	return NewWrapped(t, nil, opts...)
}

// NewWrapped starts the mock behind wrap (a middleware that sees every request, e.g. to check
// every page a browser gets; none when nil); opts adjust its options.
func NewWrapped(t testing.TB, wrap func(http.Handler) http.Handler, opts ...func(*app.Options)) *Env {
	t.Helper()
	// The URL is known from the listener before the server starts: the handler is set before
	// any connection can read it.
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	clk := clock.NewFrozen(T0)
	o := app.Options{
		Service:    service.Config{PublicURL: url},
		Egress:     egress.Config{Listen: []string{srv.Listener.Addr().String()}},
		Seed:       7,
		SigningKey: []byte("test-key"),
		Clock:      clk,
	}
	for _, f := range opts {
		f(&o)
	}
	a, err := app.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	srv.Config.Handler = a.Handler
	if wrap != nil {
		srv.Config.Handler = wrap(a.Handler)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return &Env{t: t, App: a, Clock: clk, URL: srv.URL,
		vendor:  &apiclient.Client{Base: srv.URL, Contract: a.Spec},
		control: &apiclient.Client{Base: srv.URL, Contract: a.ControlSpec},
	}
}

// Sub returns the environment reporting to subtest t.
func (h *Env) Sub(t testing.TB) *Env {
	c := *h
	c.t = t
	return &c
}

// Response is an answer, checked against its contract.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object, failing the test when it is not one.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.Body, err)
	}
	return v
}

// ErrorField returns the messages of field in an error body ("detail" as a one-item list).
func (r Response) ErrorField(t testing.TB, field string) []string {
	t.Helper()
	errs, ok := r.JSON(t)["errors"].(map[string]any)
	if !ok {
		t.Fatalf("body %s has no errors object", r.Body)
	}
	switch v := errs[field].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, len(v))
		for i, m := range v {
			out[i], _ = m.(string)
		}
		return out
	default:
		return nil
	}
}

// ReqOpt sets something on a request (credentials, a header).
type ReqOpt = apiclient.Option

// Basic, Bearer and Header are the request options tests use.
var (
	Basic  = apiclient.Basic
	Bearer = apiclient.Bearer
	Header = apiclient.Header
)

// Do sends a request and checks the answer against the vendor or the control contract (pages are
// in neither); a 5xx nobody asked for (with a fault rule or Prefer) fails the test.
func (h *Env) Do(method, path, body string, opts ...ReqOpt) Response {
	h.t.Helper()
	c := h.vendor
	if strings.HasPrefix(path, "/_mock/") {
		c = h.control
	}
	r, err := c.Do(context.Background(), method, path, []byte(body), opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	if r.Status >= 500 && r.Header.Get(fault.Header) == "" && r.Header.Get("Preference-Applied") == "" {
		h.t.Fatalf("%s %s answered %d: %s", method, path, r.Status, r.Body)
	}
	if r.Violation != "" {
		h.t.Fatalf("response breaks the contract: %s\nbody: %s", r.Violation, r.Body)
	}
	return Response{Status: r.Status, Header: r.Header, Body: r.Body}
}

// Token gets an access token for a client.
func (h *Env) Token(id, secret string) string {
	h.t.Helper()
	r := h.Do(http.MethodPost, "/connect_ats/access_token", "", Basic(id, secret))
	if r.Status != http.StatusOK {
		h.t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	tok, _ := r.JSON(h.t)["access_token"].(string)
	return tok
}

func CreateBody(job, invitation string) string {
	inv := ""
	if invitation != "" {
		inv = `"invitation_type":"` + invitation + `",`
	}
	return `{"job_id":"` + job + `","callback_url":"` + CallbackURL + `",` + inv +
		`"applicant_details":{"first_name":"Rembrandt","last_name":"Van Rijn","email":"rembrandt@example.com"}}`
}

// Create makes an application and returns its reference_id and the whole answer.
func (h *Env) Create(tok, job, invitation string) (string, map[string]any) {
	h.t.Helper()
	r := h.Do(http.MethodPost, "/connect_ats/applications", CreateBody(job, invitation), Bearer(tok))
	if r.Status != http.StatusCreated {
		h.t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	v := r.JSON(h.t)
	ref, _ := v["reference_id"].(string)
	return ref, v
}

// Complete completes ref with drawn scores, as the assessment would.
func (h *Env) Complete(ref string) {
	h.t.Helper()
	if _, err := h.App.Service.Complete(ref, service.Completion{}); err != nil {
		h.t.Fatal(err)
	}
}

func WantStatus(t testing.TB, r Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status = %d, want %d; body %s", r.Status, want, r.Body)
	}
}

// Settle waits (up to 10 s) until every callback attempt a's clock has made due is made and
// recorded; the test fails if that does not happen.
func Settle(t testing.TB, a *app.App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Service.Settled(ctx); err != nil {
		t.Fatalf("never settled: %v", err)
	}
}
