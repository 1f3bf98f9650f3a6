package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/proxy"
	"github.com/equalture/equalture-mock/internal/spec"
)

const (
	ref       = "d2c37d4d-b8d4-46a9-b230-42a246ad6153"
	job       = "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01"
	validBody = `{"job_id":"` + job + `","callback_url":"http://ats.example/cb","applicant_details":{"first_name":"A","last_name":"B","email":"a@example.com"}}`
)

// contracts are the embedded contracts, loaded once per process.
func contracts(t *testing.T) (*spec.Spec, *spec.Spec) {
	t.Helper()
	vendor, err := spec.Vendor()
	if err != nil {
		t.Fatal(err)
	}
	control, err := spec.Control()
	if err != nil {
		t.Fatal(err)
	}
	return vendor, control
}

// logBuffer collects log lines from concurrent handlers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// world is a proxy on a real listener in front of an upstream.
type world struct {
	proxy *proxy.Proxy
	url   string
	log   *logBuffer
}

func start(t *testing.T, upstream http.Handler, opts ...func(*proxy.Options)) *world {
	t.Helper()
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	return startAt(t, up.URL, opts...)
}

func startAt(t *testing.T, target string, opts ...func(*proxy.Options)) *world {
	t.Helper()
	v, c := contracts(t)
	srv := httptest.NewUnstartedServer(nil)
	w := &world{url: "http://" + srv.Listener.Addr().String(), log: &logBuffer{}}
	o := proxy.Options{Target: target, Contract: v, ControlContract: c,
		Logger: slog.New(slog.NewTextHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, f := range opts {
		f(&o)
	}
	if o.RelayURL == relayToSelf {
		o.RelayURL = w.url
	}
	p, err := proxy.New(o)
	if err != nil {
		t.Fatal(err)
	}
	w.proxy = p
	srv.Config.Handler = p
	srv.Start()
	t.Cleanup(srv.Close)
	return w
}

// relayToSelf as Options.RelayURL stands for the proxy's own URL, known once it listens.
const relayToSelf = "self"

type answer struct {
	status int
	header http.Header
	body   string
}

func (w *world) do(t *testing.T, method, path, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, w.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer SFMyNTY.e30.c2ln")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// settle waits until the proxy has judged every exchange in flight (an answer streams to the
// client before the proxy has judged it whole) and wants at least n judged.
func (w *world) settle(t *testing.T, n int) proxy.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.proxy.Settled(ctx); err != nil {
		t.Fatalf("the proxy did not settle: %v", err)
	}
	r := w.proxy.Report()
	if r.Exchanges < n {
		t.Fatalf("the proxy judged %d exchanges, want %d", r.Exchanges, n)
	}
	return r
}

// respond is an upstream that answers every request with status and body.
func respond(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func findings(r proxy.Report) []dispatch.Violation {
	var out []dispatch.Violation
	for _, op := range r.Operations {
		out = append(out, op.Findings...)
	}
	return out
}

// TestBrokenUpstreamsAreReported puts the proxy in front of deliberately broken upstreams and
// wants each break reported with its operation and field, passed on to the client unchanged.
func TestBrokenUpstreamsAreReported(t *testing.T) {
	tests := map[string]struct {
		upstream           http.HandlerFunc
		method, path, body string
		strict             bool
		violations         int      // counted
		kinds              []string // of every finding, in order
		want               []string // in the findings
	}{
		"an honest answer": {
			upstream: respond(200, `{"status":"completed"}`),
			method:   "GET", path: "/connect_ats/applications/" + ref + "/status",
		},
		"a wrong type": {
			upstream: respond(200, `{"status":3}`),
			method:   "GET", path: "/connect_ats/applications/" + ref + "/status",
			violations: 1, kinds: []string{"response"},
			want: []string{"getStatus", "answered 200", `field "status" is invalid`, "(got 3)"},
		},
		"a missing field": {
			upstream: respond(201, `{"assessment_url":"https://x.example/a"}`),
			method:   "POST", path: "/connect_ats/applications", body: validBody,
			violations: 1, kinds: []string{"response"},
			want: []string{"createApplication", "201", `field "reference_id" can't be blank`},
		},
		"an undocumented status": {
			upstream: respond(http.StatusTeapot, `{}`),
			method:   "GET", path: "/connect_ats/jobs",
			violations: 1, kinds: []string{"response"},
			want: []string{"listJobs", "418", "status is not supported", "(200, 400, 401, 413, 429, 500, 503)"},
		},
		"a 401 without its challenge": {
			upstream: respond(401, `{"errors":{"detail":"no"}}`),
			method:   "GET", path: "/connect_ats/jobs",
			violations: 1, kinds: []string{"response"},
			want: []string{"listJobs", "401", "WWW-Authenticate"},
		},
		"an invalid request refused as documented": {
			upstream: respond(422, `{"errors":{"applicant_details.email":["can't be blank"]}}`),
			method:   "POST", path: "/connect_ats/applications", body: strings.Replace(validBody, `,"email":"a@example.com"`, "", 1),
			kinds: []string{"request"},
			want:  []string{"createApplication", "the request breaks the contract", `field "applicant_details.email" can't be blank`},
		},
		"an invalid request, counted when strict": {
			upstream: respond(422, `{"errors":{"applicant_details.email":["can't be blank"]}}`),
			method:   "POST", path: "/connect_ats/applications", body: strings.Replace(validBody, `,"email":"a@example.com"`, "", 1),
			strict: true, violations: 1, kinds: []string{"request"},
		},
		"an invalid request accepted": {
			upstream: respond(201, `{"reference_id":"`+ref+`"}`),
			method:   "POST", path: "/connect_ats/applications", body: strings.Replace(validBody, `,"email":"a@example.com"`, "", 1),
			violations: 1, kinds: []string{"request", "accepted"},
			want: []string{"answered 201 to a request the contract refuses", `"applicant_details.email"`},
		},
		"a request without a token let through": {
			upstream: respond(200, `[]`),
			method:   "GET", path: "/connect_ats/jobs", body: "",
			violations: 1, kinds: []string{"request", "accepted"},
			want: []string{"listJobs", "answered 200 to a request the contract refuses", "no Bearer token"},
		},
		"no answer at all": {
			upstream: func(w http.ResponseWriter, r *http.Request) {
				conn, _, _ := http.NewResponseController(w).Hijack()
				_ = conn.Close()
			},
			method: "GET", path: "/connect_ats/jobs",
			violations: 1, kinds: []string{"upstream"},
			want: []string{"listJobs", "the target did not answer"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := start(t, tc.upstream, func(o *proxy.Options) { o.StrictRequests = tc.strict })
			var header []string
			if name == "a request without a token let through" {
				header = []string{"Authorization", ""}
			}
			got := w.do(t, tc.method, tc.path, tc.body, header...)
			if name == "no answer at all" {
				if got.status != http.StatusBadGateway {
					t.Fatalf("status %d, want 502", got.status)
				}
			} else if got.status != answerOf(tc.upstream).status || got.body != answerOf(tc.upstream).body {
				t.Fatalf("the client got %d %s, not the upstream's answer %+v", got.status, got.body, answerOf(tc.upstream))
			}
			report := w.settle(t, 1)
			fs := findings(report)
			var kinds []string
			var all strings.Builder
			for _, f := range fs {
				kinds = append(kinds, f.Kind)
				all.WriteString(f.Message + "\n")
			}
			if strings.Join(kinds, ",") != strings.Join(tc.kinds, ",") || report.Violations != tc.violations {
				t.Fatalf("findings %v (%d counted), want kinds %v (%d counted):\n%s", kinds, report.Violations, tc.kinds, tc.violations, all.String())
			}
			for _, s := range tc.want {
				if !strings.Contains(all.String(), s) {
					t.Errorf("the findings do not say %q:\n%s", s, all.String())
				}
			}
			// The journal keeps them, under the control API's journal query.
			j := w.do(t, "GET", "/_mock/journal?violations=true", "")
			var jr struct {
				Count    int
				Requests []struct {
					OperationID string `json:"operation_id"`
					Violations  []dispatch.Violation
				}
			}
			if err := json.Unmarshal([]byte(j.body), &jr); err != nil || j.status != 200 {
				t.Fatalf("journal: %d %s", j.status, j.body)
			}
			if want := min(len(tc.kinds), 1); jr.Count != want {
				t.Fatalf("the journal holds %d exchanges with violations, want %d: %s", jr.Count, want, j.body)
			}
			if tc.violations > 0 && !strings.Contains(w.log.String(), "contract violation") {
				t.Errorf("no violation logged:\n%s", w.log.String())
			}
		})
	}
}

// answerOf is what respond-made upstreams answer (the cases' only other upstream drops the line).
func answerOf(h http.HandlerFunc) answer {
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest("GET", "/", nil))
	return answer{status: rec.Code, body: rec.Body.String()}
}

// other is a second application.
const other = "5f0c6f5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f"

func TestJUnitAndSummary(t *testing.T) {
	w := start(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/connect_ats/jobs":
			respond(200, `[{"id":"`+job+`","name":"Engineer"}]`)(rw, r)
		case "/connect_ats/applications/" + other + "/status":
			respond(200, `{"status":"in_progress"}`)(rw, r) // a value the contract did not guess
		default:
			respond(200, `{"status":7}`)(rw, r) // broken
		}
	}))
	w.do(t, "GET", "/connect_ats/jobs", "")
	w.do(t, "GET", "/connect_ats/applications/"+ref+"/status", "")
	w.do(t, "GET", "/connect_ats/applications/"+ref+"/status", "")
	w.do(t, "GET", "/connect_ats/applications/"+other+"/status", "")
	w.do(t, "GET", "/somewhere/else", "")
	r := w.settle(t, 5)
	var b bytes.Buffer
	if err := r.WriteJUnit(&b, time.Now()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if doc.Tests != 2 || doc.Failures != 1 {
		t.Fatalf("want one case per operation seen (2), one failing:\n%s", b.String())
	}
	cases := doc.Suites[0].Cases
	if cases[0].Name != "getStatus (GET /connect_ats/applications/{reference_id}/status)" || cases[0].Failure == nil ||
		!strings.Contains(cases[0].Failure.Message, `2 violation(s)`) || !strings.Contains(cases[0].Failure.Message, `field "status"`) ||
		!strings.Contains(cases[0].Failure.Message, `(got 7)`) {
		t.Errorf("the failing case does not name the operation and the field:\n%s", b.String())
	}
	if !strings.Contains(b.String(), `not counted — inferred: getStatus`) || !strings.Contains(b.String(), `the service answered "in_progress"`) {
		t.Errorf("the guess is not in the case's output:\n%s", b.String())
	}
	if cases[1].Name != "listJobs (GET /connect_ats/jobs)" || cases[1].Failure != nil {
		t.Errorf("listJobs:\n%s", b.String())
	}
	sum := r.Summary()
	for _, want := range []string{"5 exchange(s)", "2 violation(s) of openapi.yaml", "1 unvalidated", "✗ getStatus", "✓ listJobs",
		"1 time(s) the service did otherwise than the contract guessed", "1 guess(es) of the contract contradicted"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary does not say %q:\n%s", want, sum)
		}
	}
}

func TestPassesThroughWhatItCannotValidate(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	w := start(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		respond(299, `not even JSON`)(rw, r)
	}))
	for _, path := range []string{"/en/assessments/1/token/x?y=1", "/connect_ats/nowhere", "/_mock/applications?client_id=demo-client"} {
		if got := w.do(t, "GET", path, ""); got.status != 299 || got.body != "not even JSON" {
			t.Fatalf("GET %s: %d %s, want the upstream's answer", path, got.status, got.body)
		}
	}
	// A method the contract lacks on a path it has is passed through too.
	if got := w.do(t, "DELETE", "/connect_ats/jobs", ""); got.status != 299 {
		t.Fatalf("DELETE jobs: %d", got.status)
	}
	// The journal is the proxy's own.
	if got := w.do(t, "GET", "/_mock/journal", ""); got.status != 200 || !strings.Contains(got.body, `"count":`) {
		t.Fatalf("journal: %d %s", got.status, got.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "GET /en/assessments/1/token/x?y=1,GET /connect_ats/nowhere,GET /_mock/applications?client_id=demo-client,DELETE /connect_ats/jobs"; strings.Join(seen, ",") != want {
		t.Fatalf("upstream saw %v, want %s", seen, want)
	}
	r := w.settle(t, 3) // the control API's requests are not the contract's exchanges
	if r.Violations != 0 || r.Unvalidated != 3 {
		t.Fatalf("report %+v: want no violation, 3 unvalidated", r)
	}
	if got := strings.Count(w.log.String(), "not in the contract: passed through unvalidated"); got != 3 {
		t.Errorf("%d warnings, want one per vendor path the contract lacks:\n%s", got, w.log.String())
	}
}

func TestPreservesHeadersAndBodies(t *testing.T) {
	var (
		mu   sync.Mutex
		got  http.Header
		body []byte
		uri  string
	)
	w := start(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got, uri = r.Header.Clone(), r.URL.RequestURI()
		body, _ = io.ReadAll(r.Body)
		mu.Unlock()
		rw.Header().Set("X-Upstream", "yes")
		rw.Header().Add("Set-Cookie", "a=1")
		rw.Header().Add("Set-Cookie", "b=2")
		respond(201, `{"reference_id":"`+ref+`"}`)(rw, r)
	}))
	// Odd spacing, key order and an unknown field: the body arrives byte for byte.
	sent := "{ \"applicant_details\" : {\"email\":\"a@example.com\",\"last_name\":\"B\",\"first_name\":\"A\"},\n\t\"zz\": [1, 2.50],\"job_id\":\"" + job + "\", \"callback_url\":\"http://ats.example/cb?a=1&b=2\" }"
	a := w.do(t, "POST", "/connect_ats/applications?trace=1", sent, "X-Request-Id", "r-1", "User-Agent", "my-ats/2", "X-Forwarded-For", "10.0.0.1")
	if a.status != 201 || a.header.Get("X-Upstream") != "yes" || len(a.header.Values("Set-Cookie")) != 2 {
		t.Fatalf("answer %d %v", a.status, a.header)
	}
	mu.Lock()
	gotHeader, gotBody, gotURI := got, body, uri
	mu.Unlock()
	if string(gotBody) != sent {
		t.Fatalf("the body was changed:\n got %s\nwant %s", gotBody, sent)
	}
	for k, v := range map[string]string{"X-Request-Id": "r-1", "User-Agent": "my-ats/2", "X-Forwarded-For": "10.0.0.1", "Authorization": "Bearer SFMyNTY.e30.c2ln"} {
		if gotHeader.Get(k) != v {
			t.Errorf("upstream got %s %q, want %q", k, gotHeader.Get(k), v)
		}
	}
	if gotURI != "/connect_ats/applications?trace=1" {
		t.Errorf("upstream got %s", gotURI)
	}
	if r := w.settle(t, 1); r.Violations != 0 || len(findings(r)) != 0 {
		t.Errorf("an honest exchange reported: %+v", r)
	}
	// No X-Forwarded-For is added when the client sent none.
	w.do(t, "GET", "/connect_ats/jobs", "")
	mu.Lock()
	defer mu.Unlock()
	if _, ok := got["X-Forwarded-For"]; ok {
		t.Errorf("the proxy added X-Forwarded-For: %v", got)
	}
}

func TestTargetWithABasePath(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/connect_ats/jobs" {
			respond(404, `{"errors":{"detail":"Not Found"}}`)(rw, r)
			return
		}
		respond(200, `[]`)(rw, r)
	}))
	t.Cleanup(up.Close)
	w := startAt(t, up.URL+"/api/v1")
	if a := w.do(t, "GET", "/connect_ats/jobs", ""); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
}

// TestStreams: the first bytes of an answer reach the client before the target has finished it,
// and the whole answer is still judged.
func TestStreams(t *testing.T) {
	release := make(chan struct{})
	w := start(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(rw, `[{"id":"`+job+`","name":"Engineer"}`+"\n")
		_ = http.NewResponseController(rw).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(rw, `,{"id":"`+job+`","name":7}]`)
	}))
	req, _ := http.NewRequest("GET", w.url+"/connect_ats/jobs", nil)
	req.Header.Set("Authorization", "Bearer x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || !strings.Contains(first, "Engineer") {
		t.Fatalf("first chunk %q, %v", first, err)
	}
	close(release) // only now does the target finish
	rest, _ := io.ReadAll(br)
	if !strings.HasSuffix(string(rest), `"name":7}]`) {
		t.Fatalf("rest %q", rest)
	}
	if fs := findings(w.settle(t, 1)); len(fs) != 1 || !strings.Contains(fs[0].Message, `field "1.name"`) {
		t.Fatalf("the streamed answer was not judged whole: %+v", fs)
	}
}

func TestBodyLimit(t *testing.T) {
	called := false
	w := start(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { called = true }),
		func(o *proxy.Options) { o.MaxBodyBytes = 64 })
	a := w.do(t, "POST", "/connect_ats/applications", validBody)
	if a.status != http.StatusRequestEntityTooLarge || called {
		t.Fatalf("an oversized body: %d (upstream called: %v)", a.status, called)
	}
}

func TestNewRefusesTargetsThatAreNotAbsoluteHTTP(t *testing.T) {
	v, c := contracts(t)
	for _, target := range []string{"", "localhost:8080", "api.example.com", "/connect_ats", "ftp://api.example.com", "http://", "mailto:a@example.com"} {
		if _, err := proxy.New(proxy.Options{Target: target, Contract: v, ControlContract: c}); err == nil {
			t.Errorf("New accepted target %q", target)
		}
	}
	if _, err := proxy.New(proxy.Options{Target: "https://app.equalture.com", Contract: v, ControlContract: c}); err != nil {
		t.Errorf("New refused an https target: %v", err)
	}
}
