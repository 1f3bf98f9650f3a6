package scenario_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	equalturemock "github.com/equalture/equalture-mock"
	"github.com/equalture/equalture-mock/contract"
	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/scenario"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/mockserver"
)

// runner runs scenarios against a fresh in-process mock each, like `scenario run` without a target.
func runner(t *testing.T, out *bytes.Buffer) *scenario.Runner {
	t.Helper()
	sp, err := spec.Load(context.Background(), equalturemock.VendorSpec)
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := contract.NewReceiver("127.0.0.1:0", "", sp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Close() })
	return &scenario.Runner{
		Receiver: rcv, Contract: sp, Out: out, HTTP: &http.Client{Timeout: time.Minute},
		Target: func() (string, func(), error) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return "", nil, err
			}
			base := "http://" + ln.Addr().String()
			a, err := app.New(context.Background(), app.Options{Server: mockserver.Config{PublicURL: base, Seed: 2}})
			if err != nil {
				return "", nil, err
			}
			srv := &http.Server{Handler: a.Handler}
			go srv.Serve(ln)
			return base, func() { srv.Close(); a.Close(context.Background()) }, nil
		},
	}
}

func TestLibraryPasses(t *testing.T) {
	files, err := scenario.Expand([]string{"../../scenarios"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 14 {
		t.Fatalf("the library has %d scenarios", len(files))
	}
	var out bytes.Buffer
	r := runner(t, &out)
	for _, f := range files {
		s, err := scenario.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if res := r.Run(s); !res.Passed() {
			t.Errorf("%s failed: %s\n%s", f, res.Failure, out.String())
		}
	}
}

func TestWrongExpectationFailsClearly(t *testing.T) {
	src := `name: Deliberately wrong
steps:
  - request: {method: POST, path: /connect_ats/access_token, auth: basic}
  - name: jobs answer 200, not 201
    request: {method: GET, path: /connect_ats/jobs, auth: bearer}
    expect:
      status: 201
      json: {0.name: Janitor}
`
	s, err := scenario.Parse("wrong.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res := runner(t, &out).Run(s)
	if res.Passed() {
		t.Fatal("a wrong expectation passed")
	}
	for _, want := range []string{`step 2 "jobs answer 200, not 201"`, "wrong.yaml:4", "status: expected 201, got 200",
		`json 0.name: expected "Janitor", got "First assessment job - Engineer"`} {
		if !strings.Contains(res.Failure, want) {
			t.Errorf("failure %q does not say %q", res.Failure, want)
		}
	}
	if !strings.Contains(out.String(), "✘ FAILED Deliberately wrong") {
		t.Errorf("progress does not show the failure:\n%s", out.String())
	}
}

func TestContractViolationFailsTheStep(t *testing.T) {
	src := `name: Callback never comes
steps:
  - callback: {path: /nothing, timeout: 200ms}
`
	s, err := scenario.Parse("cb.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res := runner(t, &out).Run(s)
	if res.Passed() || !strings.Contains(res.Failure, "expected 1 callback(s)") {
		t.Fatalf("failure = %q", res.Failure)
	}
}

func TestBrokenFilesNameFileLineAndField(t *testing.T) {
	tests := map[string]struct {
		src  string
		want []string
	}{
		"unknown field": {"name: x\nsteps:\n  - request: {method: GET, path: /x, methd: POST}\n", []string{"bad.yaml", "line 3", "methd"}},
		"no kind":       {"name: x\nsteps:\n  - name: nothing\n", []string{"bad.yaml:3", "steps[0] (nothing)", "exactly one of"}},
		"two kinds":     {"name: x\nsteps:\n  - request: {method: GET, path: /x}\n    callback: {path: /y}\n", []string{"bad.yaml:3", "exactly one"}},
		"bad status":    {"name: x\nsteps:\n  - request: {method: GET, path: /x}\n    expect: {status: 42}\n", []string{"expect.status 42"}},
		"status text":   {"name: x\nsteps:\n  - request: {method: GET, path: /x}\n    expect: {status: ok}\n", []string{"bad.yaml", "line 4", "status"}},
		"bad regexp":    {"name: x\nsteps:\n  - request: {method: GET, path: /x}\n    expect: {json: {a: {matches: '('}}}\n", []string{"bad.yaml", "line 4", "regular expression"}},
		"var too early": {"name: x\nsteps:\n  - request: {method: GET, path: '/a/${ref}'}\n  - request: {method: GET, path: /b}\n    capture: {ref: id}\n", []string{"bad.yaml:3", "${ref} is used before"}},
		"bad duration":  {"name: x\nsteps:\n  - control: {advance_clock: soon}\n", []string{"advance_clock", "soon"}},
		"bad auth":      {"name: x\nsteps:\n  - request: {method: GET, path: /x, auth: oauth}\n", []string{"bad.yaml", "line 3", "oauth"}},
		"no name":       {"steps:\n  - request: {method: GET, path: /x}\n", []string{"bad.yaml: name is missing"}},
		"not yaml":      {"name: [", []string{"bad.yaml"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := scenario.Parse("bad.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("a broken file parsed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestJUnit(t *testing.T) {
	pass, _ := scenario.Parse("a.yaml", []byte("name: A\nsteps:\n  - request: {method: GET, path: /healthz}\n"))
	fail, _ := scenario.Parse("b.yaml", []byte("name: B\nsteps:\n  - request: {method: GET, path: /healthz}\n    expect: {status: 500}\n"))
	var out bytes.Buffer
	r := runner(t, &out)
	results := []scenario.Result{r.Run(pass), r.Run(fail)}
	file := filepath.Join(t.TempDir(), "report.xml")
	if err := scenario.WriteJUnit(file, results, time.Now()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
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
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b)
	}
	if doc.Tests != 2 || doc.Failures != 1 || len(doc.Suites[0].Cases) != 2 || doc.Suites[0].Cases[1].Failure == nil ||
		!strings.Contains(doc.Suites[0].Cases[1].Failure.Message, "expected 500") {
		t.Fatalf("report = %s", b)
	}
}
