package contracttest

// The suite against a real account: the specs of completed applications, hiring and callbacks
// catch broken answers, run from configured references without a control API, wait for a
// completion nobody drives through the suite, bound every request, and report a broken set-up once.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/store"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// TestSuiteCatchesBrokenCompletedAnswers: results, public links, hiring and the callback after a
// completion, each broken by the proxy, fail the suite naming the operation and the field.
func TestSuiteCatchesBrokenCompletedAnswers(t *testing.T) {
	t.Parallel()
	is := func(r *http.Request, method, suffix string) bool {
		return r.Method == method && strings.HasSuffix(r.URL.Path, suffix)
	}
	tests := map[string]struct {
		mutate testenv.Break
		focus  string
		want   []string
	}{
		"a relative results_url": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(r, http.MethodGet, "/results") && *status == 200 {
					body["results_url"] = "/dashboard/en/candidates/x"
					return true
				}
				return false
			},
			focus: "answer results in every documented locale",
			want:  []string{"getResults", `field "results_url" is invalid: must be an absolute URL`, `(got "/dashboard/en/candidates/x")`},
		},
		"results refused in one locale": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(r, http.MethodGet, "/results") && r.URL.Query().Get("locale") == "nl" {
					*status = http.StatusInternalServerError
					for k := range body {
						delete(body, k)
					}
					body["errors"] = map[string]any{"detail": "Internal Server Error"}
					return true
				}
				return false
			},
			focus: "answer results in every documented locale",
			want:  []string{"getResults", "results?locale=nl) answered 500", "to equal", "200"},
		},
		"a public link in hours": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(r, http.MethodGet, "/public_link") && *status == 200 {
					body["ttl_units"] = "hours"
					return true
				}
				return false
			},
			focus: "answer a public link in every documented locale",
			want:  []string{"getPublicLink", `field "ttl_units" is invalid: must be one of minutes`, `(got "hours")`},
		},
		"a public link that has expired already": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(r, http.MethodGet, "/public_link") && *status == 200 {
					body["ttl"] = "0"
					return true
				}
				return false
			},
			focus: "answer a public link in every documented locale",
			want:  []string{`field "ttl" of the answer: getPublicLink`, "answered 200"},
		},
		"a relative public link": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(r, http.MethodGet, "/public_link") && *status == 200 {
					body["url"] = "/en/candidate_results/x/summary"
					return true
				}
				return false
			},
			focus: "answer a public link in every documented locale",
			want:  []string{"getPublicLink", `field "url" is invalid: must be an absolute URL`},
		},
		"a completed application answering invited": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(r, http.MethodGet, "/status") && *status == 200 && body["status"] == "completed" {
					body["status"] = "invited"
					return true
				}
				return false
			},
			focus: "answer status completed or hired",
			want:  []string{`field "status" of the answer: getStatus`, `{"status":"invited"}`, "to be an element of"},
		},
		"a hire without its message": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(r, http.MethodPost, "/hire_applicant") && *status == 200 {
					delete(body, "message")
					return true
				}
				return false
			},
			focus: "hires it with the seed's string boolean",
			want:  []string{"hireApplicant", "200", `field "message" can't be blank`},
		},
		"a hire that does not stick": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if is(r, http.MethodGet, "/status") && body["status"] == "hired" {
					body["status"] = "completed"
					return true
				}
				return false
			},
			focus: "hires it with the seed's string boolean",
			want:  []string{`field "status" of the answer: getStatus`, `{"status":"completed"}`, `<string>: hired`},
		},
	}
	base := mock(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			expectCaught(t, name, testenv.Breaker(t, base, nil, tc.mutate), base+"/_mock", tc.focus, tc.want)
		})
	}
}

// TestSuiteCatchesABrokenCallbackAfterACompletion: the callback spec that needs no control API
// catches a callback breaking the contract (a proxy between the mock and the receiver breaks it).
func TestSuiteCatchesABrokenCallbackAfterACompletion(t *testing.T) {
	t.Parallel()
	base := mock(t)
	receiverAddr := freeAddr(t)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: receiverAddr})
	director := rp.Director
	rp.Director = func(r *http.Request) {
		director(r)
		rewriteJSON(r, func(v map[string]any) { v["results_url"] = "dashboard/x" })
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	code, out := run(t, base, base+"/_mock", "PUTs results that honour the contract",
		"EQUALTURE_CONTRACT_RECEIVER_ADDR="+receiverAddr, "EQUALTURE_CONTRACT_RECEIVER_URL="+srv.URL)
	if code == 0 {
		t.Fatalf("the suite passed a callback with a relative results_url:\n%s", out)
	}
	t.Logf("caught: %s", failure(out))
	for _, w := range []string{"applicationResults", `field "results_url" is invalid: must be an absolute URL`, `(got "dashboard/x")`} {
		if !strings.Contains(out, w) {
			t.Errorf("the failure does not say %q:\n%s", w, tail(out))
		}
	}
}

// completed makes n applications of demo-client and completes them, as a person would have on
// a real account.
func completed(t *testing.T, env *testenv.Env, n int) []string {
	t.Helper()
	tok := env.Token(testenv.DemoID, testenv.DemoSecret)
	var refs []string
	for range n {
		ref, _ := env.Create(tok, testenv.EngineerJob, "")
		env.Complete(ref)
		refs = append(refs, ref)
	}
	return refs
}

// TestSuiteChecksConfiguredReferencesWithoutAControlAPI runs the suite as against a real test
// account: no control URL, applications completed beforehand and named in the settings.
func TestSuiteChecksConfiguredReferencesWithoutAControlAPI(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	refs := completed(t, env, 3)
	settings := append(targetEnv(env.URL, ""),
		"EQUALTURE_CONTRACT_COMPLETED_REF="+refs[0]+", "+refs[1],
		"EQUALTURE_CONTRACT_HIREABLE_REF="+refs[2])
	args := []string{"-ginkgo.no-color", "-ginkgo.v", "-ginkgo.focus=Completed applications|Hiring a completed", "-ginkgo.label-filter=readonly || destructive"}

	code, out := runSuite(t, args, settings)
	if code != 0 {
		t.Fatalf("the suite fails against the configured references:\n%s", out)
	}
	if ran := regexp.MustCompile(`Ran (\d+) of`).FindStringSubmatch(out); ran == nil || ran[1] != "4" || strings.Contains(out, "[SKIPPED]") {
		t.Fatalf("want the 4 specs run, none skipped:\n%s", tail(out))
	}
	if a, err := env.App.Service.Lookup(refs[2]); err != nil || a.Status != domain.Hired {
		t.Fatalf("the hireable application is %v (%v), want hired", a.Status, err)
	}

	// The same through a proxy breaking the results: caught without a control API.
	broken := testenv.Breaker(t, env.URL, nil, func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
		if strings.HasSuffix(r.URL.Path, "/results") && *status == 200 {
			delete(body, "fit")
			return true
		}
		return false
	})
	code, out = runSuite(t, args[:3], append(targetEnv(broken, ""), "EQUALTURE_CONTRACT_COMPLETED_REF="+refs[0]))
	if code == 0 || !strings.Contains(out, `field "fit" can't be blank`) {
		t.Fatalf("the suite did not catch results without fit from configured references (exit %d):\n%s", code, tail(out))
	}

	// Without references the specs say which setting they need, and are skipped, not failed.
	code, out = runSuite(t, args, targetEnv(env.URL, ""))
	if code != 0 {
		t.Fatalf("the suite fails without references:\n%s", out)
	}
	for _, want := range []string{"set EQUALTURE_CONTRACT_COMPLETED_REF", "set EQUALTURE_CONTRACT_HIREABLE_REF", "0 Passed | 0 Failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, tail(out))
		}
	}
	if n := strings.Count(out, "[SKIPPED] needs "); n != 4 {
		t.Errorf("%d specs skipped with a reason, want 4:\n%s", n, tail(out))
	}
}

// TestSuiteWaitsForACompletionWithoutAControlAPI: the callback spec creates an application and
// waits while someone — here the test, as a person on the real service would — completes it.
func TestSuiteWaitsForACompletionWithoutAControlAPI(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() { // the applicant: completes every application with a callback to the suite
		defer close(done)
		for ctx.Err() == nil {
			for _, a := range env.App.Service.Applications(store.Filter{ClientID: testenv.DemoID}) {
				if a.Status == domain.Invited && strings.Contains(a.CallbackURL, "/contract/completion/") {
					_, _ = env.App.Service.Complete(a.ReferenceID, service.Completion{})
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	addr := freeAddr(t)
	code, out := runSuite(t, []string{"-ginkgo.no-color", "-ginkgo.v", "-ginkgo.focus=PUTs results that honour the contract", "-ginkgo.label-filter=callback"},
		append(targetEnv(env.URL, ""), "EQUALTURE_CONTRACT_RECEIVER_ADDR="+addr, "EQUALTURE_CONTRACT_RECEIVER_URL=http://"+addr,
			"EQUALTURE_CONTRACT_CALLBACK_TIMEOUT=20s"))
	if code != 0 || strings.Contains(out, "[SKIPPED]") || !strings.Contains(out, "Complete the assessment of application") {
		t.Fatalf("the callback spec did not pass on a completion it did not drive (exit %d):\n%s", code, tail(out))
	}

	// Without a receiver URL the target could reach, it says what to set.
	code, out = runSuite(t, []string{"-ginkgo.no-color", "-ginkgo.v", "-ginkgo.focus=PUTs results that honour the contract", "-ginkgo.label-filter=callback"},
		targetEnv(env.URL, ""))
	if code != 0 || !strings.Contains(out, "set EQUALTURE_CONTRACT_RECEIVER_URL") {
		t.Fatalf("without a receiver URL (exit %d):\n%s", code, tail(out))
	}
}

// TestSuiteBoundsEveryRequest: a target that never answers fails the spec within the request
// timeout, naming the operation.
func TestSuiteBoundsEveryRequest(t *testing.T) {
	t.Parallel()
	base := mock(t)
	u, _ := url.Parse(base)
	rp := httputil.NewSingleHostReverseProxy(u)
	stall := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/connect_ats/jobs" {
			<-r.Context().Done() // never answers
			return
		}
		rp.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(stall)
	t.Cleanup(srv.Close)
	start := time.Now()
	code, out := run(t, srv.URL, base+"/_mock", "lists the client's jobs", "EQUALTURE_CONTRACT_REQUEST_TIMEOUT=1s")
	took := time.Since(start)
	if code == 0 {
		t.Fatalf("the suite passed a target that never answers:\n%s", out)
	}
	t.Logf("caught: %s", failure(out))
	if !strings.Contains(out, "listJobs (GET /connect_ats/jobs) did not answer within 1s") {
		t.Errorf("the failure does not name the operation that timed out:\n%s", tail(out))
	}
	if took > 20*time.Second {
		t.Errorf("the suite took %s on a 1s request timeout", took)
	}
}

// TestSuiteReportsABrokenSetUpOnce: when the token or the jobs answer breaks, the suite says so
// once, naming the answer, instead of failing every spec with it.
func TestSuiteReportsABrokenSetUpOnce(t *testing.T) {
	t.Parallel()
	base := mock(t)
	tests := map[string]struct {
		mutate testenv.Break
		noJob  bool
		want   []string
	}{
		"a token answer without its token": {
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if r.Method == http.MethodPost && r.URL.Path == "/connect_ats/access_token" && *status == 200 {
					delete(body, "access_token")
					return true
				}
				return false
			},
			want: []string{"the token answer breaks openapi.yaml", `field "access_token" can't be blank`},
		},
		"a jobs answer with an undocumented status": {
			noJob: true,
			mutate: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if r.URL.Path == "/connect_ats/jobs" && *status == 200 {
					*status = http.StatusServiceUnavailable // documented, but with an error body
					return true
				}
				return false
			},
			want: []string{"the jobs answer breaks openapi.yaml", "listJobs (GET /connect_ats/jobs) answered 503"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			settings := targetEnv(testenv.Breaker(t, base, nil, tc.mutate), base+"/_mock")
			if tc.noJob {
				settings = slicesDelete(settings, "EQUALTURE_CONTRACT_JOB_ID=")
			}
			code, out := runSuite(t, []string{"-ginkgo.no-color"}, settings)
			if code == 0 {
				t.Fatalf("the suite passed a broken set-up:\n%s", out)
			}
			summary := out[strings.LastIndex(out, "Summarizing"):]
			if n := strings.Count(out, "the shared set-up is broken, so every spec"); n != 1 {
				t.Errorf("the set-up failure is reported %d times, want once:\n%s", n, tail(out))
			}
			setUp := out[strings.Index(out, "the shared set-up is broken, so every spec"):]
			for _, w := range tc.want {
				if !strings.Contains(setUp, w) {
					t.Errorf("the set-up failure does not name %q:\n%s", w, tail(out))
				}
			}
			if m := regexp.MustCompile(`Ran (\d+) of (\d+) Specs`).FindStringSubmatch(out); m == nil || m[1] == "0" {
				t.Errorf("want the specs that need no set-up run:\n%s", tail(out))
			}
			if n, _ := strconv.Atoi(regexp.MustCompile(`Summarizing (\d+) Failure`).FindStringSubmatch(out + "Summarizing 0 Failure")[1]); n > 2 {
				t.Errorf("%d failures for one broken answer:\n%s", n, summary)
			}
			t.Logf("reported: %s", failure(summary))
		})
	}
}

func slicesDelete(s []string, prefix string) []string {
	var out []string
	for _, v := range s {
		if !strings.HasPrefix(v, prefix) {
			out = append(out, v)
		}
	}
	return out
}

// rewriteJSON changes a JSON request body on its way through a proxy.
func rewriteJSON(r *http.Request, fn func(map[string]any)) {
	b, _ := io.ReadAll(r.Body)
	var v map[string]any
	if json.Unmarshal(b, &v) == nil {
		fn(v)
		b, _ = json.Marshal(v)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	r.Header.Set("Content-Length", strconv.Itoa(len(b)))
}

// TestSuiteCatchesATargetThatAcceptsInvalidRequests: under the negative label, a target that
// creates an application from an invalid body, or answers one with a 5xx, fails the suite.
func TestSuiteCatchesATargetThatAcceptsInvalidRequests(t *testing.T) {
	t.Parallel()
	base := mock(t)
	broken := testenv.Breaker(t, base, nil, func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
		if r.Method != http.MethodPost || r.URL.Path != "/connect_ats/applications" {
			return false
		}
		if *status != http.StatusUnprocessableEntity {
			return false
		}
		errs, _ := body["errors"].(map[string]any)
		for field := range errs {
			if strings.HasPrefix(field, "applicant_details") { // a 500 for these
				*status = http.StatusInternalServerError
				body["errors"] = map[string]any{"detail": "Internal Server Error"}
				return true
			}
		}
		*status = http.StatusCreated // and the others are accepted
		delete(body, "errors")
		body["reference_id"] = "d2c37d4d-b8d4-46a9-b230-42a246ad6153"
		return true
	})
	code, out := runSuite(t, []string{"-ginkgo.no-color", "-ginkgo.label-filter=negative", "-ginkgo.focus=createApplication"}, targetEnv(broken, base+"/_mock"))
	if code == 0 {
		t.Fatalf("the suite passed a target that accepts invalid requests:\n%s", out)
	}
	for _, w := range []string{"the target created application d2c37d4d-b8d4-46a9-b230-42a246ad6153 from an invalid request (createApplication: body.",
		"must get a 4xx", "createApplication (POST /connect_ats/applications) answered 500"} {
		if !strings.Contains(out, w) {
			t.Errorf("the failure does not say %q:\n%s", w, tail(out))
		}
	}
}
