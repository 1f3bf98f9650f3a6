package dispatch_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/spec"
)

const contract = `openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://api.example.com"}]
security: [{bearer: []}]
paths:
  /things:
    post:
      operationId: createThing
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties: {name: {type: string, minLength: 1}}
      responses:
        "201": {description: created, content: {application/json: {example: {name: example}}}}
        "401": {description: no}
        "422": {description: bad}
  /things/{id}:
    get:
      operationId: getThing
      security: []
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: ok}
        "404": {description: none}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
`

type world struct {
	srv      *httptest.Server
	mu       sync.Mutex
	seen     []dispatch.Result
	calls    []*dispatch.Call
	handlers map[string]dispatch.Handler
}

func (w *world) observe(c *dispatch.Call, res dispatch.Result) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, res)
	w.calls = append(w.calls, c)
}

func (w *world) last(t *testing.T) (*dispatch.Call, dispatch.Result) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.seen) == 0 {
		t.Fatal("nothing observed")
	}
	return w.calls[len(w.calls)-1], w.seen[len(w.seen)-1]
}

func newWorld(t *testing.T, mw ...dispatch.Middleware) *world {
	t.Helper()
	sp, err := spec.Load(context.Background(), []byte(contract))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{}
	w.handlers = map[string]dispatch.Handler{
		"createThing": func(rw http.ResponseWriter, c *dispatch.Call) error {
			if strings.Contains(string(c.Body), "panic") {
				panic("handler bug")
			}
			apierr.WriteJSON(rw, http.StatusCreated, map[string]string{"by": c.Principal})
			return nil
		},
		"getThing": func(rw http.ResponseWriter, c *dispatch.Call) error {
			if c.Params["id"] == "missing" {
				return apierr.New(apierr.NotFound, "No thing %s", c.Params["id"])
			}
			apierr.WriteJSON(rw, http.StatusOK, map[string]string{"id": c.Params["id"]})
			return nil
		},
	}
	d, err := dispatch.New(dispatch.Options{
		Spec:         sp,
		Handlers:     w.handlers,
		MaxBodyBytes: 64,
		Authenticate: func(r *http.Request, scheme string) (string, error) {
			if r.Header.Get("Authorization") != "Bearer good" {
				return "", apierr.New(apierr.Unauthorized, "bad token").WithHeader("WWW-Authenticate", `Bearer realm="t"`)
			}
			return "alice", nil
		},
		Identify:     func(r *http.Request) string { return "claimed:" + r.Header.Get("X-Who") },
		Middleware:   mw,
		Observers:    []dispatch.Observer{w.observe},
		CaptureBytes: 16,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(d)
	t.Cleanup(w.srv.Close)
	return w
}

func (w *world) do(t *testing.T, method, path, body string, header ...string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s answered %d with a body that is not a JSON object: %q", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header, v
}

func TestPipeline(t *testing.T) {
	w := newWorld(t)
	big := `{"name":"` + strings.Repeat("x", 100) + `"}`
	tests := map[string]struct {
		method, path, body string
		header             []string
		status             int
		op, principal      string
	}{
		"handled":             {"POST", "/things", `{"name":"a"}`, []string{"Authorization", "Bearer good"}, 201, "createThing", "alice"},
		"no auth needed":      {"GET", "/things/7", "", nil, 200, "getThing", ""},
		"handler error value": {"GET", "/things/missing", "", nil, 404, "getThing", ""},
		"unauthenticated":     {"POST", "/things", `{"name":"a"}`, []string{"Authorization", "Bearer bad"}, 401, "createThing", ""},
		"invalid body":        {"POST", "/things", `{"name":""}`, []string{"Authorization", "Bearer good"}, 422, "createThing", "alice"},
		"malformed JSON":      {"POST", "/things", `{"name":`, []string{"Authorization", "Bearer good"}, 400, "createThing", "alice"},
		// The limit comes before routing, validation and authentication: nothing reads more.
		"too large, unauthenticated": {"POST", "/things", big, nil, 413, "", ""},
		"too large, unknown path":    {"POST", "/nowhere", big, nil, 413, "", ""},
		"unknown path":               {"GET", "/nowhere", "", nil, 404, "", ""},
		"wrong method":               {"DELETE", "/things", "", nil, 405, "", ""},
		"panic":                      {"POST", "/things", `{"name":"panic"}`, []string{"Authorization", "Bearer good"}, 500, "createThing", "alice"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, _, body := w.do(t, tc.method, tc.path, tc.body, tc.header...)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if status >= 400 {
				if _, ok := body["errors"].(map[string]any); !ok {
					t.Fatalf("error answer %v is not the error shape", body)
				}
			}
			c, res := w.last(t)
			if res.Status != tc.status || c.Op != tc.op || c.Principal != tc.principal {
				t.Fatalf("observer saw status %d, op %q, principal %q; want %d, %q, %q", res.Status, c.Op, c.Principal, tc.status, tc.op, tc.principal)
			}
			if len(res.Body) > 16 || int64(len(c.Body)) > 64 {
				t.Fatalf("observer got %d bytes of answer and %d of request, beyond the bounds", len(res.Body), len(c.Body))
			}
		})
	}
}

func TestMiddlewareSeesTheRouteAndMayAnswer(t *testing.T) {
	var sawOp, sawWho string
	answer := func(next dispatch.Handler) dispatch.Handler {
		return func(rw http.ResponseWriter, c *dispatch.Call) error {
			sawOp, sawWho = c.Op, c.Who()
			if c.Request.Header.Get("X-Short") != "" {
				return apierr.New(apierr.TooManyRequests, "slow down")
			}
			return next(rw, c)
		}
	}
	w := newWorld(t, answer)
	if status, _, _ := w.do(t, "GET", "/things/1", "", "X-Short", "1", "X-Who", "bob"); status != 429 || sawOp != "getThing" || sawWho != "claimed:bob" {
		t.Fatalf("status %d, middleware saw op %q and who %q", status, sawOp, sawWho)
	}
	if status, _, _ := w.do(t, "GET", "/things/1", ""); status != 200 {
		t.Fatalf("passing through: %d", status)
	}
}

func TestPrefer(t *testing.T) {
	sp, err := spec.Load(context.Background(), []byte(contract))
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, dispatch.Prefer(sp, func(op string) string { return "Bearer realm=" + op }))
	tests := map[string]struct {
		prefer string
		status int
		check  func(http.Header, map[string]any) bool
	}{
		"example":     {"code=201", 201, func(_ http.Header, b map[string]any) bool { return b["name"] == "example" }},
		"status only": {"code=422", 422, func(_ http.Header, b map[string]any) bool { return b["errors"] != nil }},
		"challenge": {"code=401", 401, func(h http.Header, _ map[string]any) bool {
			return h.Get("WWW-Authenticate") == "Bearer realm=createThing"
		}},
		"undocumented": {"code=418", 400, func(_ http.Header, b map[string]any) bool {
			return strings.Contains(b["errors"].(map[string]any)["detail"].(string), "201, 401, 422")
		}},
		"not a number": {"code=abc", 400, nil},
		"other prefs":  {"return=minimal", 401, nil}, // no code: the request goes on, unauthenticated
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, h, body := w.do(t, "POST", "/things", `{"name":"a"}`, "Prefer", tc.prefer)
			if status != tc.status || tc.check != nil && !tc.check(h, body) {
				t.Fatalf("Prefer %s: %d %v %v", tc.prefer, status, h, body)
			}
		})
	}
}

func TestNewRefusesDrift(t *testing.T) {
	sp, err := spec.Load(context.Background(), []byte(contract))
	if err != nil {
		t.Fatal(err)
	}
	ok := func(http.ResponseWriter, *dispatch.Call) error { return nil }
	tests := map[string]map[string]dispatch.Handler{
		"missing": {"createThing": ok},
		"extra":   {"createThing": ok, "getThing": ok, "deleteThing": ok},
	}
	for name, handlers := range tests {
		if _, err := dispatch.New(dispatch.Options{Spec: sp, Handlers: handlers, MaxBodyBytes: 1}); err == nil {
			t.Errorf("%s: New accepted handlers that differ from the contract", name)
		}
	}
}

// TestProxyOptions: with ReportInvalid an invalid request reaches its handler with the problem on
// the Call; with Fallback what no bound handler takes goes to one handler; the body limit stands.
func TestProxyOptions(t *testing.T) {
	sp, err := spec.Load(context.Background(), []byte(contract))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		last *dispatch.Call
	)
	answer := func(by string, status int) dispatch.Handler {
		return func(rw http.ResponseWriter, c *dispatch.Call) error {
			mu.Lock()
			last = c
			mu.Unlock()
			apierr.WriteJSON(rw, status, map[string]any{"by": by, "op": c.Op})
			return nil
		}
	}
	d, err := dispatch.New(dispatch.Options{
		Spec:          sp,
		Handlers:      map[string]dispatch.Handler{"createThing": answer("createThing", http.StatusCreated)}, // getThing left out
		Fallback:      answer("fallback", http.StatusOK),
		ReportInvalid: true,
		MaxBodyBytes:  64,
		Authenticate: func(r *http.Request, scheme string) (string, error) {
			if r.Header.Get("Authorization") != "Bearer good" {
				return "", apierr.New(apierr.Unauthorized, "bad token")
			}
			return "alice", nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{srv: httptest.NewServer(d)}
	t.Cleanup(w.srv.Close)
	tests := map[string]struct {
		method, path, body string
		header             []string
		status             int
		by                 string
		invalid            apierr.Code // "" for a valid request
	}{
		"valid":                 {"POST", "/things", `{"name":"a"}`, []string{"Authorization", "Bearer good"}, 201, "createThing", ""},
		"invalid body":          {"POST", "/things", `{"name":""}`, []string{"Authorization", "Bearer good"}, 201, "createThing", apierr.Invalid},
		"malformed JSON":        {"POST", "/things", `{"name":`, []string{"Authorization", "Bearer good"}, 201, "createThing", apierr.BadRequest},
		"unauthenticated":       {"POST", "/things", `{"name":"a"}`, nil, 201, "createThing", apierr.Unauthorized},
		"an unbound operation":  {"GET", "/things/7", "", nil, 200, "fallback", ""},
		"an unknown path":       {"GET", "/nowhere", "", nil, 200, "fallback", ""},
		"a method not in it":    {"DELETE", "/things", "", nil, 200, "fallback", ""},
		"the body limit stands": {"POST", "/things", `{"name":"` + strings.Repeat("x", 100) + `"}`, []string{"Authorization", "Bearer good"}, 413, "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			mu.Lock()
			last = nil
			mu.Unlock()
			status, _, body := w.do(t, tc.method, tc.path, tc.body, tc.header...)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if tc.by == "" {
				return
			}
			if got := body["by"]; got != tc.by {
				t.Fatalf("answered by %v, want %s", got, tc.by)
			}
			mu.Lock()
			c := last
			mu.Unlock()
			if got := apierr.CodeOf(c.Invalid); tc.invalid == "" && c.Invalid != nil || tc.invalid != "" && got != tc.invalid {
				t.Fatalf("Call.Invalid = %v, want code %q", c.Invalid, tc.invalid)
			}
			if string(c.Body) != tc.body {
				t.Fatalf("the handler got body %q, want it as sent: %q", c.Body, tc.body)
			}
		})
	}
}

func TestFallbackBindsOnlyOperationsOfTheContract(t *testing.T) {
	sp, err := spec.Load(context.Background(), []byte(contract))
	if err != nil {
		t.Fatal(err)
	}
	ok := func(http.ResponseWriter, *dispatch.Call) error { return nil }
	if _, err := dispatch.New(dispatch.Options{Spec: sp, Handlers: map[string]dispatch.Handler{"deleteThing": ok}, Fallback: ok, MaxBodyBytes: 1}); err == nil {
		t.Error("New accepted a handler for no operation")
	}
	if _, err := dispatch.New(dispatch.Options{Spec: sp, Handlers: map[string]dispatch.Handler{"getThing": ok}, Fallback: ok, MaxBodyBytes: 1}); err != nil {
		t.Errorf("New refused a partial set with a fallback: %v", err)
	}
}

// TestChecksJoinValidation: a check (a rule needing the server's state) runs beside the schema's
// validation, and its 422 joins the schema's; it never runs for a request refused otherwise.
func TestChecksJoinValidation(t *testing.T) {
	sp, err := spec.Load(context.Background(), []byte(contract))
	if err != nil {
		t.Fatal(err)
	}
	var checked []string // the principal of each checked call
	check := func(c *dispatch.Call) error {
		checked = append(checked, c.Principal)
		var body struct{ Name, Tag string }
		_ = json.Unmarshal(c.Body, &body)
		var errs []error
		if body.Name == "taken" || body.Name == "" {
			errs = append(errs, apierr.Field("name", "is taken"))
		}
		if body.Tag == "x" {
			errs = append(errs, apierr.Field("tag", "does not exist"))
		}
		return apierr.Join(errs...)
	}
	ok := func(rw http.ResponseWriter, _ *dispatch.Call) error {
		apierr.WriteJSON(rw, http.StatusCreated, map[string]string{})
		return nil
	}
	d, err := dispatch.New(dispatch.Options{
		Spec:         sp,
		Handlers:     map[string]dispatch.Handler{"createThing": ok, "getThing": ok},
		Checks:       map[string]dispatch.Check{"createThing": check},
		MaxBodyBytes: 64,
		Authenticate: func(r *http.Request, _ string) (string, error) {
			if r.Header.Get("Authorization") != "Bearer good" {
				return "", apierr.New(apierr.Unauthorized, "bad token").WithHeader("WWW-Authenticate", `Bearer realm="t"`)
			}
			return "alice", nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{srv: httptest.NewServer(d)}
	t.Cleanup(w.srv.Close)
	tests := map[string]struct {
		body, auth  string
		status      int
		wantErrors  string // the errors object as JSON
		wantChecked bool
	}{
		"valid":                      {`{"name":"a"}`, "Bearer good", 201, "", true},
		"the check refuses":          {`{"name":"taken"}`, "Bearer good", 422, `{"name":["is taken"]}`, true},
		"both, joined":               {`{"name":"","tag":"x"}`, "Bearer good", 422, `{"name":["can't be blank"],"tag":["does not exist"]}`, true},
		"unauthenticated: unchecked": {`{"name":"taken"}`, "Bearer bad", 401, `{"detail":"bad token"}`, false},
		"malformed: unchecked":       {`{"name":`, "Bearer good", 400, "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			checked = nil
			status, _, body := w.do(t, http.MethodPost, "/things", tc.body, "Authorization", tc.auth)
			if status != tc.status {
				t.Fatalf("status = %d, want %d (%v)", status, tc.status, body)
			}
			if tc.wantErrors != "" {
				if got, _ := json.Marshal(body["errors"]); string(got) != tc.wantErrors {
					t.Fatalf("errors = %s, want %s", got, tc.wantErrors)
				}
			}
			if got := len(checked) == 1; got != tc.wantChecked {
				t.Fatalf("checked = %v, want checked %v", checked, tc.wantChecked)
			}
			if tc.wantChecked && checked[0] != "alice" {
				t.Fatalf("the check ran for %q, want the authenticated alice", checked[0])
			}
		})
	}
	if _, err := dispatch.New(dispatch.Options{Spec: sp, Handlers: map[string]dispatch.Handler{"createThing": ok, "getThing": ok},
		Checks: map[string]dispatch.Check{"deleteThing": check}, MaxBodyBytes: 64}); err == nil {
		t.Fatal("a check for no bound operation was accepted")
	}
}
