// Package contracttest proves the contract suite has teeth: it runs the real suite binary against
// the mock through a proxy that breaks the mock's answers on purpose, and checks that every break
// is caught with a message naming the operation and the field.
package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/mockserver"
)

const jobID = "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01"

var (
	buildOnce sync.Once
	suiteBin  string
	buildErr  error
)

// suite builds the contract suite binary once per test run, as CI and the Docker image do.
func suite(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "contract-suite")
		if err != nil {
			buildErr = err
			return
		}
		suiteBin = filepath.Join(dir, "contract.test")
		out, err := exec.Command("go", "test", "-c", "-o", suiteBin, "../../contract").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building the contract suite: %v", buildErr)
	}
	return suiteBin
}

// mutation breaks one kind of answer; it reports whether it touched the response.
type mutation func(req *http.Request, status *int, header http.Header, body map[string]any) bool

// proxy serves target through a mutation.
func proxy(t *testing.T, target string, inject func(*http.Request), mutate mutation) string {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	director := rp.Director
	rp.Director = func(r *http.Request) {
		director(r)
		if inject != nil {
			inject(r)
		}
	}
	rp.ModifyResponse = func(resp *http.Response) error {
		if mutate == nil {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body.Close()
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		status := resp.StatusCode
		if mutate(resp.Request, &status, resp.Header, body) {
			if body != nil {
				b, _ = json.Marshal(body)
			}
			resp.StatusCode = status
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

func mock(t *testing.T) string {
	t.Helper()
	// The URL is known from the listener before the server starts: the handler is set before
	// any connection can read it.
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	a, err := app.New(context.Background(), app.Options{Server: mockserver.Config{PublicURL: url, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	srv.Config.Handler = a.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// run runs the suite binary against base and returns its exit code and output.
func run(t *testing.T, base, control, focus string, extraEnv ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(suite(t), "-ginkgo.no-color", "-ginkgo.focus="+focus)
	cmd.Env = append(os.Environ(),
		"EQUALTURE_CONTRACT_BASE_URL="+base,
		"EQUALTURE_CONTRACT_CLIENT_ID=demo-client",
		"EQUALTURE_CONTRACT_CLIENT_SECRET=demo-secret",
		"EQUALTURE_CONTRACT_CLIENT2_ID=other-client",
		"EQUALTURE_CONTRACT_CLIENT2_SECRET=other-secret",
		"EQUALTURE_CONTRACT_JOB_ID="+jobID,
		"EQUALTURE_CONTRACT_CONTROL_URL="+control,
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		var exit *exec.ExitError
		if !errAs(err, &exit) {
			t.Fatalf("running the suite: %v", err)
		}
		code = exit.ExitCode()
	}
	return code, string(out)
}

func errAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError) //nolint:errorlint // exec returns it unwrapped
	if ok {
		*target = e
	}
	return ok
}

func TestSuitePassesAgainstTheMockThroughAnHonestProxy(t *testing.T) {
	base := mock(t)
	code, out := run(t, proxy(t, base, nil, nil), base+"/_mock", "")
	if code != 0 {
		t.Fatalf("the suite fails against the unbroken mock:\n%s", out)
	}
}

func TestSuiteCatchesBrokenAnswers(t *testing.T) {
	is := func(method, suffix string) func(*http.Request) bool {
		return func(r *http.Request) bool { return r.Method == method && strings.HasSuffix(r.URL.Path, suffix) }
	}
	tests := map[string]struct {
		inject func(*http.Request)
		mutate mutation
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
		"an unauthenticated request let through": {
			inject: func(r *http.Request) {
				if r.URL.Path == "/connect_ats/jobs" && r.Header.Get("Authorization") == "" {
					r.Header.Set("Authorization", "Bearer "+tokenFor(r))
				}
			},
			focus: "without a token",
			want:  []string{"Expected", "401", "200"},
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
			focus: "unknown reference_id",
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
			want:  []string{"Expected", "409", "200"},
		},
	}
	base := mock(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, out := run(t, proxy(t, base, tc.inject, tc.mutate), base+"/_mock", tc.focus)
			if code == 0 {
				t.Fatalf("the suite passed a mock with %s:\n%s", name, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("the failure does not say %q:\n%s", w, tail(out))
				}
			}
		})
	}
}

func TestSuiteCatchesABrokenCallback(t *testing.T) {
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

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}
