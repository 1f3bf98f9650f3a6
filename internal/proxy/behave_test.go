package proxy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/proxy"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// breaks changes one kind of answer of the mock on its way to the proxy (or one callback on its
// way to the relay); it reports whether it touched it.
type breaks = testenv.Break

// breaksCallbacks changes what the mock sends to the relay: it may rewrite the request, or
// answer it itself (true) so the relay never sees it.
type breaksCallbacks func(r *http.Request, body []byte, w http.ResponseWriter) (rewritten []byte, answered bool)

// flow is the mock, maybe a breaker of its answers, the validating proxy on a frozen clock in front
// (relaying, maybe through a breaker of callbacks), and an ATS receiving callbacks and events.
type flow struct {
	t      *testing.T
	mock   *testenv.Env
	w      *world
	clock  *clock.Virtual
	tok    string
	ats    *recorder
	atsURL string
	seen   int // exchanges the proxy had judged at the last settle
}

var proxyT0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func newFlow(t *testing.T, answers breaks, callbacks breaksCallbacks) *flow {
	t.Helper()
	f := &flow{t: t, mock: testenv.New(t), clock: clock.NewFrozen(proxyT0)}
	f.ats = &recorder{h: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }}
	atsSrv := httptest.NewServer(f.ats)
	t.Cleanup(atsSrv.Close)
	f.atsURL = atsSrv.URL
	target := f.mock.URL
	if answers != nil {
		target = testenv.Breaker(t, f.mock.URL, nil, answers)
	}
	// The relay's public URL is a front for the proxy that breaks callbacks when asked to.
	front := httptest.NewUnstartedServer(nil)
	f.w = startAt(t, target, func(o *proxy.Options) {
		o.Clock = f.clock
		o.RelayURL = "http://" + front.Listener.Addr().String()
	})
	px, _ := url.Parse(f.w.url)
	rp := httputil.NewSingleHostReverseProxy(px)
	front.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if callbacks != nil {
			b, _ := io.ReadAll(r.Body)
			out, answered := callbacks(r, b, w)
			if answered {
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(out)), int64(len(out))
			r.Header.Set("Content-Length", strconv.Itoa(len(out)))
		}
		rp.ServeHTTP(w, r)
	})
	front.Start()
	t.Cleanup(front.Close)
	f.tok = f.token()
	return f
}

func (f *flow) token() string {
	f.t.Helper()
	a := f.call("POST", "/connect_ats/access_token", "", "Authorization", "Basic "+basic(testenv.DemoID, testenv.DemoSecret))
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(a.body), &v); err != nil || a.status != 200 {
		f.t.Fatalf("token: %d %s", a.status, a.body)
	}
	f.w.settle(f.t, 0) // issued on the proxy's clock before the test moves it
	return v.AccessToken
}

func basic(id, secret string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(id, secret)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// call sends a request through the proxy with the flow's token.
func (f *flow) call(method, path, body string, header ...string) answer {
	f.t.Helper()
	return f.w.do(f.t, method, path, body, append([]string{"Authorization", "Bearer " + f.tok}, header...)...)
}

// create invites an applicant through the proxy, the results going to the ATS.
func (f *flow) create() string {
	f.t.Helper()
	a := f.call("POST", "/connect_ats/applications", strings.Replace(validBody, "http://ats.example/cb", f.atsURL+"/results", 1))
	var v struct {
		ReferenceID string `json:"reference_id"`
	}
	if err := json.Unmarshal([]byte(a.body), &v); err != nil || a.status != 201 {
		f.t.Fatalf("create: %d %s", a.status, a.body)
	}
	return v.ReferenceID
}

// app calls an operation about ref through the proxy.
func (f *flow) app(method, ref, action, body string) answer {
	f.t.Helper()
	return f.call(method, "/connect_ats/applications/"+ref+"/"+action, body)
}

// control calls the mock's control API through the proxy.
func (f *flow) control(path string) {
	f.t.Helper()
	if a := f.w.do(f.t, "POST", "/_mock/"+path, ""); a.status >= 300 {
		f.t.Fatalf("control %s: %d %s", path, a.status, a.body)
	}
}

// completeUnseen completes ref in the mock, not through the proxy (as the applicant would).
func (f *flow) completeUnseen(ref string) {
	f.t.Helper()
	if _, err := f.mock.App.Service.Complete(ref, service.Completion{}); err != nil {
		f.t.Fatal(err)
	}
}

// atsGot waits until the ATS has had n requests to path.
func (f *flow) atsGot(path string, n int) []recorded {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []recorded
		for _, r := range f.ats.got() {
			if strings.HasPrefix(r.uri, path) {
				got = append(got, r)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the ATS got %d requests to %s, want %d", len(got), path, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// findings settles the proxy and returns every finding of the run, counted or not.
func (f *flow) findings() []dispatch.Violation {
	f.t.Helper()
	return findings(f.w.settle(f.t, 0))
}

// hire is a hire body the contract accepts.
const hire = `{"add_to_team":"true","start_date":"2025-07-01"}`

func TestBehaviourBrokenUpstreamsAreReported(t *testing.T) {
	resultsBody := map[string]any{"results_url": "https://x.example/r", "scores": map[string]any{}, "fit": "high", "detailed_scores": []any{}}
	tests := map[string]struct {
		answers   breaks
		callbacks breaksCallbacks
		drive     func(f *flow)
		kind      string   // of the one finding expected; "" for none
		want      []string // in its message
		evidence  int      // exchanges it cites
	}{
		"an honest lifecycle": {
			drive: func(f *flow) {
				ref := f.create()
				f.app("GET", ref, "status", "")
				f.app("GET", ref, "results", "")
				f.control("applications/" + ref + "/complete")
				f.atsGot("/results", 1)
				f.app("GET", ref, "results?locale=nl", "")
				f.app("GET", ref, "results?locale=nl", "")
				f.app("POST", ref, "hire_applicant", hire)
				f.app("GET", ref, "status", "")
				f.app("DELETE", ref, "anonymize_application", "")
				f.app("GET", ref, "results", "")
				f.app("GET", ref, "status", "")
			},
		},
		"a hire accepted after anonymization": {
			answers: acceptHire,
			drive: func(f *flow) {
				ref := f.create()
				f.app("DELETE", ref, "anonymize_application", "")
				f.app("POST", ref, "hire_applicant", hire)
			},
			kind: dispatch.KindState, evidence: 2,
			want: []string{"hireApplicant", "answered 200 while the application is anonymized", "anonymizeApplication answered 200", "only when completed", "nothing can have moved it there"},
		},
		"a hire accepted before completion, none announced": {
			answers: acceptHire,
			drive: func(f *flow) {
				// One completion announced through the relay: the target reaches it.
				first := f.create()
				f.completeUnseen(first)
				f.atsGot("/results", 1)
				ref := f.create()
				f.app("POST", ref, "hire_applicant", hire)
			},
			kind: dispatch.KindState, evidence: 2,
			want: []string{"hireApplicant", "last seen invited", "createApplication answered 201", "nothing announced a move to completed"},
		},
		"a hire before completion when the relay never heard from the target": {
			answers: acceptHire,
			drive: func(f *flow) {
				ref := f.create()
				f.app("POST", ref, "hire_applicant", hire) // the applicant may have completed unannounced
			},
		},
		"results before completion, after the invitation expired": {
			answers: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if onPath(r, "GET", "/results") && *status == 409 {
					*status = 200
					replace(body, resultsBody)
					return true
				}
				return false
			},
			drive: func(f *flow) {
				ref := f.create()
				f.control("applications/" + ref + "/expire_invitation")
				f.app("GET", ref, "results", "")
			},
			kind: dispatch.KindState, evidence: 2,
			want: []string{"getResults", "answered 200 while the application is expired", "expireInvitation (control API) answered 200"},
		},
		"a status that never moves past invited": {
			answers: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if onPath(r, "GET", "/status") && body["status"] == "completed" {
					body["status"] = "invited"
					return true
				}
				return false
			},
			drive: func(f *flow) {
				ref := f.create()
				f.completeUnseen(ref)
				f.atsGot("/results", 1)
				f.app("GET", ref, "status", "")
			},
			kind: dispatch.KindState, evidence: 2,
			want: []string{"getStatus", "answered status invited", "the results callback about", "no way from there to invited"},
		},
		"a hire that does not stick": {
			answers: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if onPath(r, "GET", "/status") && body["status"] == "hired" {
					body["status"] = "completed"
					return true
				}
				return false
			},
			drive: func(f *flow) {
				ref := f.create()
				f.control("applications/" + ref + "/complete")
				f.atsGot("/results", 1) // a callback in flight makes what the proxy knows uncertain
				f.app("POST", ref, "hire_applicant", hire)
				f.app("GET", ref, "status", "")
			},
			kind: dispatch.KindState, evidence: 2,
			want: []string{"getStatus", "answered status completed", "hireApplicant answered 200"},
		},
		"results that change after completion": {
			answers: func() breaks {
				var mu sync.Mutex
				n := 0
				return func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
					if !onPath(r, "GET", "/results") || *status != 200 {
						return false
					}
					mu.Lock()
					defer mu.Unlock()
					if n++; n == 2 {
						body["fit"] = map[string]string{"low": "high", "medium": "high", "high": "low"}[body["fit"].(string)]
						return true
					}
					return false
				}
			}(),
			drive: func(f *flow) {
				ref := f.create()
				f.control("applications/" + ref + "/complete")
				f.app("GET", ref, "results", "")
				f.app("GET", ref, "results", "")
			},
			kind: dispatch.KindState, evidence: 2,
			want: []string{"getResults", "other results than at exchange", "x-lifecycle stable"},
		},
		"results refused while completed": {
			answers: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if onPath(r, "GET", "/results") && *status == 200 {
					*status = 409
					replace(body, map[string]any{"errors": map[string]any{"detail": "not yet"}})
					return true
				}
				return false
			},
			drive: func(f *flow) {
				ref := f.create()
				f.completeUnseen(ref)   // announced by the callback alone: no answer of the
				f.atsGot("/results", 1) // control API runs at the same time
				f.app("GET", ref, "results", "")
			},
			kind: dispatch.KindState, evidence: 2,
			want: []string{"getResults", "answered 409, but the application is completed", "the results callback about"},
		},
		"422 where the contract guessed 409": {
			answers: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if onPath(r, "POST", "/hire_applicant") && *status == 409 {
					*status = 422 // in the contract's 422 shape
					replace(body, map[string]any{"errors": map[string]any{"application": []any{"cannot be hired in its state"}}})
					return true
				}
				return false
			},
			drive: func(f *flow) {
				ref := f.create()
				f.app("DELETE", ref, "anonymize_application", "")
				f.app("POST", ref, "hire_applicant", hire)
			},
			kind: dispatch.KindInferred, evidence: 2,
			want: []string{"the contract guessed 409", "when the application is anonymized", "the service answered 422"},
		},
		"a token accepted after its lifetime": {
			drive: func(f *flow) {
				f.clock.Advance(16 * time.Minute) // the proxy's clock; the mock's stands still
				f.call("GET", "/connect_ats/jobs", "")
			},
			kind: dispatch.KindToken, evidence: 2,
			want: []string{"listJobs", "answered 200 to a token issued 16m0s before", "createAccessToken answered 200", "documented lifetime of 15m0s (x-token-ttl)"},
		},
		"a token used within its lifetime": {
			drive: func(f *flow) {
				f.clock.Advance(15 * time.Minute)
				f.call("GET", "/connect_ats/jobs", "")
			},
		},
		"a 401 with another scheme's challenge": {
			answers: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if *status == 401 {
					h.Set("WWW-Authenticate", `Basic realm="equalture"`)
					return true
				}
				return false
			},
			drive: func(f *flow) {
				f.w.do(f.t, "GET", "/connect_ats/jobs", "", "Authorization", "Bearer SFMyNTY.e30.c2ln")
			},
			kind: dispatch.KindToken, evidence: 1,
			want: []string{"listJobs", `a "Basic" challenge`, "documents Bearer"},
		},
		"a 401 in another realm": {
			answers: func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
				if *status == 401 {
					h.Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
					return true
				}
				return false
			},
			drive: func(f *flow) {
				f.w.do(f.t, "GET", "/connect_ats/jobs", "", "Authorization", "Bearer SFMyNTY.e30.c2ln")
			},
			kind: dispatch.KindInferred, evidence: 1,
			want: []string{`the contract guessed realm "equalture"`, `the service answered "api"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFlow(t, tc.answers, tc.callbacks)
			tc.drive(f)
			fs := f.findings()
			var counted []dispatch.Violation
			for _, v := range fs {
				if v.Kind != dispatch.KindRequest {
					counted = append(counted, v)
				}
			}
			if tc.kind == "" {
				if len(counted) > 0 {
					t.Fatalf("an honest flow reported: %+v", counted)
				}
				return
			}
			if len(counted) != 1 || counted[0].Kind != tc.kind {
				t.Fatalf("findings %+v, want one of kind %s", counted, tc.kind)
			}
			v := counted[0]
			for _, s := range tc.want {
				if !strings.Contains(v.Message, s) && !strings.Contains(evidenceText(v), s) {
					t.Errorf("the finding does not say %q:\n%s\n%s", s, v.Message, evidenceText(v))
				}
			}
			if len(v.Evidence) != tc.evidence || v.Contract == "" {
				t.Errorf("evidence %+v, contract %q: want %d exchanges and where the contract says it", v.Evidence, v.Contract, tc.evidence)
			}
			for i := 1; i < len(v.Evidence); i++ {
				if v.Evidence[i].Exchange <= v.Evidence[i-1].Exchange {
					t.Errorf("evidence out of order: %+v", v.Evidence)
				}
			}
			r := f.w.proxy.Report()
			if want := 1; tc.kind != dispatch.KindInferred && r.Violations != want || tc.kind == dispatch.KindInferred && (r.Violations != 0 || r.Guesses != 1) {
				t.Errorf("report counts %d violations, %d guesses", r.Violations, r.Guesses)
			}
		})
	}
}

func evidenceText(v dispatch.Violation) string {
	var b strings.Builder
	for _, ev := range v.Evidence {
		b.WriteString(ev.What + "\n")
	}
	return b.String()
}

// replace makes body hold what with holds, and nothing else.
func replace(body, with map[string]any) {
	clear(body)
	maps.Copy(body, with)
}

// acceptHire is a target that hires in any state: the 409 a hire in the wrong state earns becomes
// a 200.
func acceptHire(r *http.Request, status *int, _ http.Header, body map[string]any) bool {
	if onPath(r, "POST", "/hire_applicant") && *status == 409 {
		*status = 200
		replace(body, map[string]any{"message": "hired", "reference_id": "d2c37d4d-b8d4-46a9-b230-42a246ad6153"})
		return true
	}
	return false
}
