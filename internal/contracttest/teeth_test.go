package contracttest

// The teeth: every break of the contract a proxy makes in the mock's answers is caught by the suite
// with a message naming the operation and the field.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/testenv"
)

const jobID = "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01"

// suite is the contract suite's binary, built once per source state (testenv.ContractSuite), as
// CI and the Docker image build it.
func suite(t *testing.T) string { return testenv.ContractSuite(t) }

// mock is the whole mock on a real listener (a frozen clock, which the suite moves through the
// control API where it needs time to pass).
func mock(t *testing.T) string { return testenv.New(t).URL }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// suiteEnv is this process's environment without the developer's own EQUALTURE_CONTRACT_*
// settings, plus settings.
func suiteEnv(settings ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "EQUALTURE_CONTRACT_") })
	return append(env, settings...)
}

// targetEnv points the suite at base (and its control API, when control is not empty) with the
// mock's fixture clients.
func targetEnv(base, control string) []string {
	return []string{
		"EQUALTURE_CONTRACT_BASE_URL=" + base,
		"EQUALTURE_CONTRACT_CLIENT_ID=demo-client",
		"EQUALTURE_CONTRACT_CLIENT_SECRET=demo-secret",
		"EQUALTURE_CONTRACT_CLIENT2_ID=other-client",
		"EQUALTURE_CONTRACT_CLIENT2_SECRET=other-secret",
		"EQUALTURE_CONTRACT_JOB_ID=" + jobID,
		"EQUALTURE_CONTRACT_CONTROL_URL=" + control,
	}
}

// runSuite runs the suite binary and returns its exit code and output.
func runSuite(t *testing.T, args, settings []string) (int, string) {
	t.Helper()
	cmd := exec.Command(suite(t), args...)
	cmd.Env = suiteEnv(settings...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("running the suite: %v", err)
	return 0, ""
}

// run runs the specs matching focus against base and returns the suite's exit code and output.
func run(t *testing.T, base, control, focus string, extraEnv ...string) (int, string) {
	t.Helper()
	code, out := runSuite(t, []string{"-ginkgo.no-color", "-ginkgo.focus=" + focus}, append(targetEnv(base, control), extraEnv...))
	if strings.Contains(out, "Ran 0 of") {
		t.Fatalf("-ginkgo.focus=%q selects no spec:\n%s", focus, out)
	}
	return code, out
}

func TestSuitePassesAgainstTheMockThroughAnHonestProxy(t *testing.T) {
	t.Parallel()
	base := mock(t)
	code, out := run(t, testenv.Breaker(t, base, nil, nil), base+"/_mock", "")
	if code != 0 {
		t.Fatalf("the suite fails against the unbroken mock:\n%s", out)
	}
}

func TestSuiteRunsOnlySafeSpecsAgainstATargetWithoutControlAPI(t *testing.T) {
	t.Parallel()
	base := mock(t)
	code, out := runSuite(t, []string{"-ginkgo.no-color", "-ginkgo.v"}, targetEnv(base, ""))
	if code != 0 {
		t.Fatalf("the safe specs fail against the mock:\n%s", out)
	}
	for _, want := range []string{"running only safe specs", "[readonly]", "Skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, tail(out))
		}
	}
	// -ginkgo.v names every spec run with its labels, e.g. "… [destructive, control]".
	if ran := regexp.MustCompile(`(?m)^.*\[[^\]]*\b(destructive|control)\b[^\]]*\]$`).FindAllString(out, -1); len(ran) > 0 {
		t.Errorf("ran against what looks like the real service:\n%s", strings.Join(ran, "\n"))
	}
}

func TestSuiteRunsInParallelProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite with the ginkgo CLI")
	}
	// A fixed receiver port: process n must listen on port+n-1 rather than collide.
	port := freePort(t)
	cmd := exec.Command("go", "tool", "ginkgo", "-p", "--procs=2", "--no-color", "./contract")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = suiteEnv("EQUALTURE_CONTRACT_RECEIVER_ADDR=127.0.0.1:" + strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ginkgo -p: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Running in parallel across 2 processes") {
		t.Fatalf("not run in parallel:\n%s", out)
	}
}

// freePort returns a loopback port that is free, as is the next one.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		next, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1))
		ln.Close()
		if err == nil {
			next.Close()
			return p
		}
	}
	t.Fatal("no two adjacent free ports")
	return 0
}

func TestSuiteCatchesBrokenAnswers(t *testing.T) {
	t.Parallel()
	is := func(method, suffix string) func(*http.Request) bool {
		return func(r *http.Request) bool { return r.Method == method && strings.HasSuffix(r.URL.Path, suffix) }
	}
	tests := map[string]struct {
		inject func(*http.Request)
		mutate testenv.Break
		focus  string
		want   []string
	}{
		"a missing required field": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(http.MethodPost, "/connect_ats/applications")(r) && *status == 201 {
					delete(body, "reference_id")
					return true
				}
				return false
			},
			focus: "creates one by email",
			want:  []string{"createApplication", "201", `"reference_id"`, "can't be blank"},
		},
		"a wrong type": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(http.MethodPost, "/connect_ats/applications")(r) && *status == 201 {
					body["reference_id"] = 12345
					return true
				}
				return false
			},
			focus: "creates one by email",
			want:  []string{"createApplication", `"reference_id"`, "must be a string"},
		},
		"a wrong type (status as a number)": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(http.MethodGet, "/status")(r) && *status == 200 {
					body["status"] = 1
					return true
				}
				return false
			},
			focus: "creates one by email",
			want:  []string{"getStatus", "200", `field "status" is invalid`},
		},
		"a value outside the contract's enum": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(http.MethodGet, "/status")(r) && *status == 200 {
					body["status"] = "in_progress"
					return true
				}
				return false
			},
			focus: "creates one by email",
			want:  []string{"getStatus", `"status"`, "must be one of invited"},
		},
		"an undocumented status": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(http.MethodGet, "/connect_ats/jobs")(r) && *status == 200 {
					*status = http.StatusTeapot
					return true
				}
				return false
			},
			focus: "lists the client's jobs",
			want:  []string{"listJobs", "418", "status is not supported"},
		},
		"an undocumented success status": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(http.MethodGet, "/connect_ats/jobs")(r) && *status == 200 {
					*status = http.StatusAccepted
					return true
				}
				return false
			},
			focus: "lists the client's jobs",
			want:  []string{"listJobs", "202", "status is not supported"},
		},
		"an unauthenticated request let through": {
			inject: func(r *http.Request) {
				if r.URL.Path == "/connect_ats/jobs" && r.Header.Get("Authorization") == "" {
					r.Header.Set("Authorization", "Bearer "+tokenFor(r))
				}
			},
			focus: "without a token",
			want:  []string{"listJobs (GET /connect_ats/jobs) answered 200", "to equal", "401"},
		},
		"a wrong error shape": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if *status == 404 {
					delete(body, "errors")
					body["error"] = "Not Found"
					return true
				}
				return false
			},
			focus: "reference_id nobody has",
			want:  []string{"getStatus", "404", `"errors"`},
		},
		"a 401 without its challenge": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if *status == 401 {
					h.Del("WWW-Authenticate")
					return true
				}
				return false
			},
			focus: "bad Basic credentials",
			want:  []string{"createAccessToken", "401", "WWW-Authenticate"},
		},
		"a state rule broken (results before completion)": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(http.MethodGet, "/results")(r) && *status == 409 {
					*status = 200
					for k := range body {
						delete(body, k)
					}
					body["results_url"], body["scores"], body["fit"], body["detailed_scores"] = "https://x.example/r", map[string]any{}, "high", []any{}
					return true
				}
				return false
			},
			focus: "before completion",
			want:  []string{"getResults", "answered 200", "to equal", "409"},
		},
	}
	base := mock(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			expectCaught(t, name, testenv.Breaker(t, base, tc.inject, tc.mutate), base+"/_mock", tc.focus, tc.want)
		})
	}
}

// expectCaught runs the specs focus selects against a broken target and fails the test unless
// the suite fails, naming each of want.
func expectCaught(t *testing.T, name, target, control, focus string, want []string) {
	t.Helper()
	code, out := run(t, target, control, focus)
	if code == 0 {
		t.Fatalf("the suite passed a mock with %s:\n%s", name, out)
	}
	t.Logf("caught: %s", failure(out))
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the failure does not say %q:\n%s", w, tail(out))
		}
	}
}

func TestSuiteCatchesABrokenCallback(t *testing.T) {
	t.Parallel()
	base := mock(t)
	receiverAddr := freeAddr(t)
	// The mock calls back through this proxy, which drops "fit" before the suite's receiver sees it.
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: receiverAddr})
	director := rp.Director
	rp.Director = func(r *http.Request) {
		director(r)
		b, _ := io.ReadAll(r.Body)
		var v map[string]any
		if json.Unmarshal(b, &v) == nil {
			delete(v, "fit")
			b, _ = json.Marshal(v)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		r.Header.Set("Content-Length", strconv.Itoa(len(b)))
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	code, out := run(t, base, base+"/_mock", "PUTs the results",
		"EQUALTURE_CONTRACT_RECEIVER_ADDR="+receiverAddr, "EQUALTURE_CONTRACT_RECEIVER_URL="+srv.URL)
	if code == 0 {
		t.Fatalf("the suite passed a callback without fit:\n%s", out)
	}
	t.Logf("caught: %s", failure(out))
	for _, w := range []string{"applicationResults", `"fit"`, "can't be blank"} {
		if !strings.Contains(out, w) {
			t.Errorf("the failure does not say %q:\n%s", w, tail(out))
		}
	}
}

// tokenFor fetches a real token from the mock the proxied request goes to.
func tokenFor(r *http.Request) string {
	req, _ := http.NewRequest(http.MethodPost, "http://"+r.URL.Host+"/connect_ats/access_token", nil)
	req.SetBasicAuth("demo-client", "demo-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var v struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return v.AccessToken
}

// failure is the suite's first failure message, for the log of a caught break.
func failure(out string) string {
	_, after, ok := strings.Cut(out, "[FAILED] ")
	if !ok {
		return tail(out)
	}
	msg, _, _ := strings.Cut(after, "\n  In [")
	return msg
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}
