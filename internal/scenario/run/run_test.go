package run_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/scenario"
	"github.com/equalture/equalture-mock/internal/scenario/run"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/mockserver"
)

// inProcess is a fresh default mock per scenario, as `scenario run` starts it.
var inProcess = run.InProcess{New: func(base string) (run.Mock, error) {
	return mockserver.New(mockserver.Config{PublicURL: base})
}}

// runner runs scenarios against a fresh in-process mock each, like `scenario run` without a
// target; out gets the progress lines.
func runner(t *testing.T, out *bytes.Buffer) *run.Runner {
	t.Helper()
	sp, err := spec.Vendor()
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := receiver.New("127.0.0.1:0", "", sp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rcv.Close() })
	return &run.Runner{Receiver: rcv, Contract: sp, Out: out, Target: inProcess}
}

func parse(t *testing.T, file, src string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Parse(file, []byte(src))
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	return s
}

func TestLibraryPasses(t *testing.T) {
	files, err := scenario.Expand([]string{"../../../scenarios"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 14 {
		t.Fatalf("the library has %d scenarios, want at least 14", len(files))
	}
	var out bytes.Buffer
	r := runner(t, &out)
	for _, f := range files {
		s, err := scenario.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res := r.Run(context.Background(), s)
		if !res.Passed() {
			t.Errorf("%s failed: %v\n%s", f, res.Failure, res.Output)
			continue
		}
		t.Logf("%-45s %3d steps %s", f, res.Steps, time.Since(start).Round(time.Millisecond))
	}
}

func TestWrongExpectationFailsClearly(t *testing.T) {
	s := parse(t, "wrong.yaml", `name: Deliberately wrong
steps:
  - request: {method: POST, path: /connect_ats/access_token, auth: basic}
  - name: jobs answer 200, not 201
    request: {method: GET, path: /connect_ats/jobs, auth: bearer}
    expect:
      status: 201
      json: {0.name: Janitor, 1.id: {matches: '^x'}}
  - name: never runs
    request: {method: GET, path: /connect_ats/jobs, auth: bearer}
`)
	var out bytes.Buffer
	res := runner(t, &out).Run(context.Background(), s)
	if res.Passed() {
		t.Fatal("a wrong expectation passed")
	}
	if got, want := res.Steps, 1; got != want {
		t.Errorf("%d steps passed, want %d", got, want)
	}
	msg := res.Failure.Error()
	for _, want := range []string{
		`scenario "Deliberately wrong" failed at step 2 "jobs answer 200, not 201" (wrong.yaml:4)`,
		"status: expected 201, got 200",
		`json 0.name: expected "Janitor", got "First assessment job - Engineer"`,
		`json 1.id: expected a match for /^x/, got "5d6b8a0e-2f7c-4c1e-8b1a-9f0e3d2c1b02"`,
		"answer: 200 [",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure does not say %q:\n%s", want, msg)
		}
	}
	if got, want := res.Failure.Summary(), `step 2 "jobs answer 200, not 201" (wrong.yaml:4): status: expected 201, got 200`; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	for _, want := range []string{"✗ 2 jobs answer 200, not 201 — GET /connect_ats/jobs → 200", "✘ FAILED Deliberately wrong"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "never runs") {
		t.Errorf("a step after the failure ran:\n%s", out.String())
	}
}

func TestFailureMessages(t *testing.T) {
	tests := map[string]struct {
		src  string
		want []string
	}{
		"callback never comes": {`name: x
steps:
  - callback: {path: /nothing, timeout: 200ms}
`, []string{`step 1 "callback at /nothing" (f.yaml:3)`, "expected callback 1 at /nothing within 200ms, the receiver got 0"}},
		"wait finds nothing": {`name: x
steps:
  - wait: {outbox: {to: nobody@example.com}, timeout: 300ms}
`, []string{"waited 300ms for at least 1 emails matching to=nobody@example.com, found 0"}},
		"timeout not expected": {`name: x
steps:
  - control: {add_fault: {path: /connect_ats/jobs, latency: 1s, times: 1}}
  - request: {method: GET, path: /connect_ats/jobs, timeout: 100ms}
`, []string{"no answer within the step's timeout of 100ms"}},
		"timeout expected, answer came": {`name: x
steps:
  - request: {method: POST, path: /connect_ats/access_token, auth: basic}
    expect: {error: timeout}
`, []string{"expected no answer within the 30s timeout, got an answer: 200"}},
		"no status named, not 2xx": {`name: x
steps:
  - request: {method: GET, path: /connect_ats/jobs}
`, []string{"status: expected a 2xx (the step names no status), got 401"}},
		"capture missing": {`name: x
steps:
  - request: {method: POST, path: /connect_ats/access_token, auth: basic}
    capture: {ref: reference_id}
`, []string{"capture ref: reference_id is not in the answer"}},
		"control conflict": {`name: x
steps:
  - control: {complete: 00000000-0000-4000-8000-000000000000}
`, []string{`step 1 "complete 00000000-0000-4000-8000-000000000000"`, "got 404"}},
		"header": {`name: x
steps:
  - request: {method: GET, path: /connect_ats/jobs}
    expect: {status: 401, headers: {WWW-Authenticate: {contains: Basic}, X-Nope: {exists: true}}}
`, []string{`header WWW-Authenticate: expected it to contain "Basic", got "Bearer realm=\"equalture\""`, "header X-Nope: expected it to exist, it is missing"}},
		"typed equals": {`name: x
steps:
  - request: {method: POST, path: /connect_ats/access_token, auth: basic}
  - request: {method: GET, path: /connect_ats/applications/00000000-0000-4000-8000-000000000000/public_link, auth: bearer}
    expect: {status: 404, json: {errors.detail: 404}}
`, []string{`json errors.detail: expected 404, got "Not Found"`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			res := runner(t, &out).Run(context.Background(), parse(t, "f.yaml", tc.src))
			if res.Passed() {
				t.Fatalf("passed:\n%s", out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Failure.Error(), w) {
					t.Errorf("failure does not say %q:\n%s", w, res.Failure.Error())
				}
			}
		})
	}
}

// fixed is a target that is always the same server.
type fixed string

func (f fixed) Start(context.Context) (string, func(), error) { return string(f), func() {}, nil }

func TestContractViolationsFailTheStep(t *testing.T) {
	// A vendor that answers jobs with a number for an id, and sends a callback without fit.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"id": 5, "name": "Engineer"}]`))
	}))
	t.Cleanup(bad.Close)
	var out bytes.Buffer
	r := runner(t, &out)
	r.Target = fixed(bad.URL)
	res := r.Run(context.Background(), parse(t, "bad.yaml", `name: x
steps:
  - request: {method: GET, path: /connect_ats/jobs, auth: {header: Bearer whatever}}
    expect: {status: 200}
`))
	if res.Passed() || !strings.Contains(res.Failure.Error(), "the answer breaks openapi.yaml") || !strings.Contains(res.Failure.Error(), "listJobs") {
		t.Fatalf("a contract violation passed or is not named: %v", res.Failure)
	}

	r.Target = inProcess
	res = r.Run(context.Background(), parse(t, "cb.yaml", `name: x
steps:
  - name: something PUTs a payload without fit to our receiver
    request:
      method: PUT
      url: ${receiver}/cb
      json: {results_url: "https://x.example/1", scores: {}, detailed_scores: []}
  - callback: {path: /cb}
`))
	if res.Passed() || !strings.Contains(res.Failure.Error(), "callback payload breaks the contract") || !strings.Contains(res.Failure.Error(), "fit") {
		t.Fatalf("a callback without fit passed or is not named: %v", res.Failure)
	}

	res = r.Run(context.Background(), parse(t, "cb2.yaml", `name: x
steps:
  - name: a bad callback nobody waits for
    request: {method: PUT, url: "${receiver}/unwatched", json: {fit: 3}}
`))
	if res.Passed() || !strings.Contains(res.Failure.Error(), "after the last step") || !strings.Contains(res.Failure.Error(), "/unwatched") {
		t.Fatalf("a bad callback nobody waited for passed: %v", res.Failure)
	}
}

func TestSetupAndVariables(t *testing.T) {
	var out bytes.Buffer
	res := runner(t, &out).Run(context.Background(), parse(t, "setup.yaml", `name: Setup
setup:
  client: {client_id: other-client, client_secret: other-secret}
  clock: {set: "2030-01-02T03:04:05Z", freeze: true}
  faults:
    - {method: GET, path: /connect_ats/jobs, status: 503, times: 1}
steps:
  - request: {method: POST, path: /connect_ats/access_token, auth: basic}
  - name: the setup fault answers first
    request: {method: GET, path: /connect_ats/jobs, auth: bearer}
    expect: {status: 503}
  - name: then other-client's own job
    request: {method: GET, path: /connect_ats/jobs, auth: bearer}
    expect: {json: {0.id: "${job_id}", $: {length: 1}}}
    capture: {jobs: $, first: "0"}
  - name: the clock is where setup put it, and stays
    control: {call: {method: GET, path: /_mock/clock}}
    expect: {json: {now: {matches: '^2030-01-02T03:04:05'}, frozen: true}}
  - name: a captured value keeps its JSON type when used whole
    request: {method: PUT, url: "${receiver}/echo", json: {fit: high, results_url: "${base_url}/r", scores: {}, detailed_scores: "${jobs}"}}
  - callback: {path: /echo}
    expect:
      json: {detailed_scores: {equals: "${jobs}"}, detailed_scores.0: {equals: "${first}"}, results_url: {contains: "${base_url}"}}
      attempts: 1
`))
	// The payload is not a valid callback (detailed_scores are jobs), so the callback step fails
	// on the contract; every step before it passed.
	if res.Passed() || res.Steps != 5 || !strings.Contains(res.Failure.Error(), "callback payload breaks the contract") {
		t.Fatalf("steps %d, failure %v\n%s", res.Steps, res.Failure, out.String())
	}
}

func TestReceiverPlans(t *testing.T) {
	var out bytes.Buffer
	res := runner(t, &out).Run(context.Background(), parse(t, "receiver.yaml", `name: Receiver plans
steps:
  - receiver: {path: /flaky, respond: [500, down, 200]}
  - request: {method: PUT, url: "${receiver}/flaky", json: {}}
    expect: {status: 500}
  - request: {method: PUT, url: "${receiver}/flaky", json: {}}
    expect: {error: connection}
  - request: {method: PUT, url: "${receiver}/flaky", json: {}}
    expect: {status: 200}
  - request: {method: PUT, url: "${receiver}/flaky", json: {}}
    expect: {status: 200}
  - receiver: {path: /slow, delay: 300ms}
  - request: {method: PUT, url: "${receiver}/slow", json: {}, timeout: 100ms}
    expect: {error: timeout}
  - receiver: {path: /gone, down: true}
  - request: {method: PUT, url: "${receiver}/gone", json: {}}
    expect: {error: connection}
`))
	// The empty payloads break the callback schema: the run fails after the last step, on them.
	if res.Steps != 9 || !strings.Contains(res.Failure.Error(), "after the last step") {
		t.Fatalf("steps %d, failure %v\n%s", res.Steps, res.Failure, out.String())
	}
}

func TestJUnit(t *testing.T) {
	var out bytes.Buffer
	r := runner(t, &out)
	pass := parse(t, "a.yaml", "name: A & <pass>\nsteps:\n  - request: {method: GET, path: /healthz}\n")
	fail := parse(t, "b.yaml", "name: B\nsteps:\n  - request: {method: GET, path: /healthz}\n    expect: {status: 500, body: {contains: '<\"&'}}\n")
	results := r.RunAll(context.Background(), []*scenario.Scenario{pass, fail, pass})
	var b bytes.Buffer
	if err := run.WriteJUnit(&b, results, time.Now()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				File    string `xml:"file,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Out string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if doc.XMLName.Local != "testsuites" || doc.Tests != 3 || doc.Failures != 1 || len(doc.Suites) != 1 ||
		doc.Suites[0].Tests != 3 || doc.Suites[0].Failures != 1 || len(doc.Suites[0].Cases) != 3 {
		t.Fatalf("counts wrong:\n%s", b.String())
	}
	c := doc.Suites[0].Cases
	if c[0].Name != "A & <pass>" || c[0].Failure != nil || c[1].Failure == nil || c[1].File != "b.yaml" {
		t.Fatalf("cases wrong:\n%s", b.String())
	}
	if got, want := c[1].Failure.Message, `step 1 "GET /healthz" (b.yaml:3): status: expected 500, got 200`; got != want {
		t.Errorf("failure message = %q, want %q", got, want)
	}
	if !strings.Contains(c[1].Failure.Text, `body: expected it to contain "<\"&"`) || !strings.Contains(c[1].Out, "✘ FAILED B") {
		t.Errorf("failure text or output wrong:\n%s", b.String())
	}
	if !strings.Contains(out.String(), "3 scenarios: 2 passed, 1 failed") {
		t.Errorf("summary wrong:\n%s", out.String())
	}
}

// The complete example in docs/scenarios.md runs and passes.
func TestDocsExample(t *testing.T) {
	for _, file := range []string{"docs/scenarios.md"} {
		doc, err := os.ReadFile("../../../" + file)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(string(doc), "## A complete example")
		if !ok {
			t.Fatalf("%s has no complete example", file)
		}
		_, rest, _ = strings.Cut(rest, "```yaml\n")
		src, _, _ := strings.Cut(rest, "```")
		var out bytes.Buffer
		if res := runner(t, &out).Run(context.Background(), parse(t, file, src)); !res.Passed() {
			t.Fatalf("the example in %s fails: %v\n%s", file, res.Failure, res.Output)
		}
	}
}

func TestBrokenWiresAreConnectionErrors(t *testing.T) {
	var out bytes.Buffer
	res := runner(t, &out).Run(context.Background(), parse(t, "wires.yaml", `name: Broken wires
setup:
  faults:
    - {path: /connect_ats/jobs, break: garbage, times: 1}
    - {path: /connect_ats/jobs, break: empty_response, times: 1}
    - {path: /connect_ats/jobs, break: connection_reset, times: 1}
steps:
  - {request: {method: GET, path: /connect_ats/jobs}, expect: {error: connection}}
  - {request: {method: GET, path: /connect_ats/jobs}, expect: {error: connection}}
  - {request: {method: GET, path: /connect_ats/jobs}, expect: {error: connection}}
  - {request: {method: GET, path: /connect_ats/jobs}, expect: {status: 401}}
`))
	if !res.Passed() {
		t.Fatalf("%v\n%s", res.Failure, res.Output)
	}
	if !strings.Contains(res.Output, "✓ 1 GET /connect_ats/jobs → no answer") {
		t.Errorf("progress:\n%s", res.Output)
	}
}

func TestReceiverBehindAPathPrefix(t *testing.T) {
	sp, err := spec.Vendor()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := receiver.New("127.0.0.1:0", "receiver:9900", sp); err == nil {
		t.Fatal("a relative receiver URL was accepted")
	}
	rcv, err := receiver.New("127.0.0.1:0", "http://127.0.0.1:1/hooks/", sp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rcv.Close() })
	if got, want := rcv.URL, "http://127.0.0.1:1/hooks"; got != want {
		t.Fatalf("URL = %q, want %q", got, want)
	}
	rcv.Set("/s1/x", []receiver.Answer{503}, 0)
	// The receiver's real address: a proxy in front may strip /hooks or pass it on.
	addr := strings.TrimPrefix(rcv.Addr(), "http://")
	for _, p := range []string{"/hooks/s1/x", "/s1/x"} {
		req, _ := http.NewRequest(http.MethodPut, "http://"+addr+p, strings.NewReader(`{}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Errorf("PUT %s answered %d, want 503", p, resp.StatusCode)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	got, err := rcv.Wait(ctx, "/s1/x", 2)
	if err != nil || len(got) != 2 || got[0].Violation == "" {
		t.Fatalf("callbacks %+v, %v", got, err)
	}
}
