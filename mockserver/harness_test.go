package mockserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/mockserver"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const (
	demoID       = "demo-client"
	demoSecret   = "demo-secret"
	otherID      = "other-client"
	otherSecret  = "other-secret"
	engineerJob  = "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01"
	accountJob   = "5d6b8a0e-2f7c-4c1e-8b1a-9f0e3d2c1b02"
	draftJob     = "9e2f4a6c-1b3d-4e5f-8a7b-6c5d4e3f2a03"
	otherJob     = "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c04"
	unknownUUID  = "00000000-0000-4000-8000-000000000000"
	callbackURL  = "https://ats.example.com/applications/8a3e2c8e-5b0f-4c55-9a1d-2f4b6c8d0e11"
	contentJSON  = "application/json"
	maxBodyBytes = 1 << 20
)

// harness is the mock on a real listener, on a frozen clock, with every vendor API response it
// gives validated against openapi.yaml.
type harness struct {
	t     *testing.T
	app   *app.App
	clock *clock.Virtual
	url   string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	clk := clock.NewFrozen(t0)
	a, err := app.New(context.Background(), app.Options{
		Server:     mockserver.Config{PublicURL: srv.URL, Seed: 7},
		SigningKey: []byte("test-key"),
		Clock:      clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	srv.Config.Handler = a.Handler
	return &harness{t: t, app: a, clock: clk, url: srv.URL}
}

// sub returns the harness reporting to subtest t.
func (h *harness) sub(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return v
}

// errorField returns the messages of field in an error body ("detail" as a one-item list).
func (r response) errorField(t *testing.T, field string) []string {
	t.Helper()
	errs, ok := r.json(t)["errors"].(map[string]any)
	if !ok {
		t.Fatalf("body %s has no errors object", r.body)
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

type reqOpt func(*http.Request)

func basic(id, secret string) reqOpt { return func(r *http.Request) { r.SetBasicAuth(id, secret) } }
func bearer(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}
func header(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// do sends a request and, for the vendor API, validates the response against the contract.
func (h *harness) do(method, path, body string, opts ...reqOpt) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", contentJSON)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode >= 500 {
		h.t.Fatalf("%s %s answered %d: %s", method, path, resp.StatusCode, b)
	}
	if strings.HasPrefix(path, "/connect_ats/") && resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound || isDocumented404(path, resp.StatusCode) {
		if err := h.app.Spec.ValidateResponse(context.Background(), req, resp.StatusCode, resp.Header, b); err != nil {
			h.t.Fatalf("response breaks the contract: %v\nbody: %s", err, b)
		}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// isDocumented404 tells the 404s the contract documents (an unknown application) from those of
// paths that are no operation at all.
func isDocumented404(path string, status int) bool {
	return status == http.StatusNotFound && strings.HasPrefix(path, "/connect_ats/applications/") && strings.Count(path, "/") == 4
}

func (h *harness) token(id, secret string) string {
	h.t.Helper()
	r := h.do(http.MethodPost, "/connect_ats/access_token", "", basic(id, secret))
	if r.status != http.StatusOK {
		h.t.Fatalf("token: %d %s", r.status, r.body)
	}
	tok, _ := r.json(h.t)["access_token"].(string)
	return tok
}

func createBody(job, invitation string) string {
	inv := ""
	if invitation != "" {
		inv = `"invitation_type":"` + invitation + `",`
	}
	return `{"job_id":"` + job + `","callback_url":"` + callbackURL + `",` + inv +
		`"applicant_details":{"first_name":"Rembrandt","last_name":"Van Rijn","email":"rembrandt@example.com"}}`
}

// create makes an application and returns its reference_id and the whole answer.
func (h *harness) create(tok, job, invitation string) (string, map[string]any) {
	h.t.Helper()
	r := h.do(http.MethodPost, "/connect_ats/applications", createBody(job, invitation), bearer(tok))
	if r.status != http.StatusCreated {
		h.t.Fatalf("create: %d %s", r.status, r.body)
	}
	v := r.json(h.t)
	ref, _ := v["reference_id"].(string)
	return ref, v
}

func (h *harness) complete(ref string) {
	h.t.Helper()
	a, err := h.app.Store.Lookup(ref)
	if err != nil {
		h.t.Fatal(err)
	}
	job, _ := h.app.Fixtures.Job(a.ClientID, a.JobID)
	gen := h.app.Server.Deps.Results
	if _, err := h.app.Store.Complete(ref, gen.Draw(ref, job)); err != nil {
		h.t.Fatal(err)
	}
}

func wantStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body %s", r.status, want, r.body)
	}
}
