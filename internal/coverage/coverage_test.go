package coverage_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/coverage"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/testenv"
)

func vendor(t *testing.T) *spec.Spec {
	t.Helper()
	sp, err := spec.Vendor()
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestRecorderCountsDocumentedItems(t *testing.T) {
	r := coverage.New(vendor(t))
	empty := r.Report()
	if empty.Covered != 0 || empty.Documented < 100 || len(empty.Missing) != empty.Documented {
		t.Fatalf("an empty report: %d of %d, %d missing", empty.Covered, empty.Documented, len(empty.Missing))
	}
	r.Exchange("listJobs", 200)
	r.Exchange("listJobs", 401, "expired", "not-a-documented-reason")
	r.Exchange("listJobs", 418)         // undocumented: not an item
	r.Exchange("nobodysOperation", 200) // not the contract's
	r.Exchange("hireApplicant", 409, "invited")
	r.Exchange("createApplication", 422, "job_id", "applicant_details.email")
	r.Callback(coverage.ResultsCallback, coverage.Failed)
	r.Callback("assessment_started", coverage.Gone)
	r.Callback("no_such_event", coverage.Accepted)
	rep := r.Report()
	// listJobs 200, 401, 401/expired; hire 409, 409/invited; create 422, 422/job_id, 422/email; two outcomes.
	if got, want := rep.Covered, 10; got != want {
		t.Fatalf("covered %d, want %d", got, want)
	}
	if rep.Documented != empty.Documented || rep.Percent <= 0 || rep.Percent >= 100 {
		t.Fatalf("%d of %d (%.1f%%)", rep.Covered, rep.Documented, rep.Percent)
	}
	if len(rep.Undocumented) != 1 || rep.Undocumented[0].OperationID != "listJobs" || rep.Undocumented[0].Status != "418" {
		t.Fatalf("undocumented %+v", rep.Undocumented)
	}
	// Each missing item says how to provoke it.
	want := map[string]string{
		"listJobs 401 revoked":               "POST /_mock/tokens/revoke",
		"listJobs 503 ":                      `{"method":"GET","path":"/connect_ats/jobs","status":503}`,
		"hireApplicant 409 hired":            "an application that is hired",
		"createApplication 422 callback_url": "send an invalid or missing `callback_url`",
		"applicationResults timeout":         "slower than the mock waits",
	}
	for _, m := range rep.Missing {
		k := m.OperationID + " " + m.Status + " " + m.Reason
		if m.Callback != "" {
			k = m.Callback + " " + m.Outcome
		}
		if m.How == "" {
			t.Errorf("%s: no way to provoke it", k)
		}
		if w, ok := want[k]; ok {
			if !strings.Contains(m.How, w) {
				t.Errorf("%s: %q does not say %q", k, m.How, w)
			}
			delete(want, k)
		}
	}
	if len(want) > 0 {
		t.Errorf("not among the missing: %v", want)
	}
	r.Reset()
	if r.Report().Covered != 0 {
		t.Fatal("Reset kept counts")
	}
}

func TestOutcomes(t *testing.T) {
	tests := map[string]struct {
		status  int
		err     error
		timeout bool
		want    string
	}{
		"200":       {200, nil, false, coverage.Accepted},
		"204":       {204, nil, false, coverage.Accepted},
		"410":       {410, nil, false, coverage.Gone},
		"400":       {400, nil, false, coverage.Refused},
		"503":       {503, nil, false, coverage.Failed},
		"a timeout": {0, nil, true, coverage.Timeout},
		"refused":   {0, http.ErrServerClosed, false, coverage.Unreachable},
		"no status": {0, nil, false, coverage.Unreachable},
	}
	for name, tc := range tests {
		if got := coverage.OutcomeOf(tc.status, tc.err, tc.timeout); got != tc.want {
			t.Errorf("%s: %s, want %s", name, got, tc.want)
		}
	}
}

// TestMockReasonsAreTheContracts: the reasons the mock gives its 401s are those openapi.yaml
// documents, and its challenges are the documented ones.
func TestMockReasonsAreTheContracts(t *testing.T) {
	sp := vendor(t)
	var documented []string
	for _, r := range sp.Reasons("listJobs", 401) {
		documented = append(documented, r.Name)
	}
	for _, reason := range []string{auth.ReasonMissing, auth.ReasonMalformed, auth.ReasonInvalid, auth.ReasonExpired, auth.ReasonRevoked} {
		if !slices.Contains(documented, reason) {
			t.Errorf("the mock answers 401 because %q, which openapi.yaml does not document (%v)", reason, documented)
		}
	}
	for op, scheme := range map[string]string{"listJobs": auth.SchemeBearer, "createAccessToken": auth.SchemeBasic} {
		c, ok := sp.Challenge(op)
		if !ok || !strings.HasPrefix(auth.Challenge(scheme), c.Scheme+" ") || !strings.Contains(auth.Challenge(scheme), `realm="`+c.Realm+`"`) {
			t.Errorf("%s: the mock challenges %s, the contract documents %+v", op, auth.Challenge(scheme), c)
		}
	}
}

// TestTheMockCountsItsTraffic drives the mock over real HTTP and reads GET /_mock/coverage
// (checked against control-openapi.yaml by the test environment): statuses with their reasons,
// faults and Prefer, callback outcomes from real receivers; reset keeps it, DELETE forgets it.
func TestTheMockCountsItsTraffic(t *testing.T) {
	answers := []int{500, 410}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(answers[0])
		if len(answers) > 1 {
			answers = answers[1:]
		}
	}))
	t.Cleanup(rcv.Close)
	h := testenv.New(t, func(o *app.Options) { o.Callbacks.Timeout = 5 * time.Second })
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	bearer := testenv.Bearer(tok)
	ref, _ := h.Create(tok, testenv.EngineerJob, "")
	h.Do("POST", "/connect_ats/applications/"+ref+"/hire_applicant", `{"add_to_team":true}`, bearer) // 409: invited
	h.Do("POST", "/connect_ats/applications", `{"job_id":"x"}`, bearer)                              // 422
	h.Do("GET", "/connect_ats/jobs", "", testenv.Bearer("not-a-token"))                              // 401 malformed
	h.Do("GET", "/connect_ats/jobs", "", bearer, testenv.Header("Prefer", "code=503"))               // 503, by Prefer
	body := strings.Replace(testenv.CreateBody(testenv.EngineerJob, ""), testenv.CallbackURL, rcv.URL+"/cb", 1)
	r := h.Do("POST", "/connect_ats/applications", body, bearer)
	var created struct {
		ReferenceID string `json:"reference_id"`
	}
	_ = json.Unmarshal(r.Body, &created)
	h.Complete(created.ReferenceID)
	testenv.Settle(t, h.App)
	if n := outcome(t, h, coverage.ResultsCallback, coverage.Failed); n != 1 {
		t.Fatalf("%d attempts answered 500 counted, want 1", n)
	}
	h.Clock.Advance(6 * time.Second) // the retry: 410
	testenv.Settle(t, h.App)
	if n := outcome(t, h, coverage.ResultsCallback, coverage.Gone); n != 1 {
		t.Fatalf("%d attempts answered 410 counted, want 1", n)
	}

	rep := report(t, h)
	for _, want := range []struct{ op, status, reason string }{
		{"createApplication", "201", ""}, {"hireApplicant", "409", "invited"}, {"createApplication", "422", "job_id"},
		{"createApplication", "422", "callback_url"}, {"listJobs", "401", "malformed"}, {"listJobs", "503", ""},
		{"createAccessToken", "200", ""},
	} {
		if n := count(rep, want.op, want.status, want.reason); n == 0 {
			t.Errorf("%+v not counted", want)
		}
	}
	if count(rep, "listJobs", "401", "expired") != 0 {
		t.Error("a reason nobody provoked is counted")
	}
	testenv.WantStatus(t, h.Do("POST", "/_mock/reset", ""), http.StatusNoContent)
	if after := report(t, h); after.Covered != rep.Covered {
		t.Fatalf("reset changed coverage: %d → %d", rep.Covered, after.Covered)
	}
	testenv.WantStatus(t, h.Do("DELETE", "/_mock/coverage", ""), http.StatusNoContent)
	if after := report(t, h); after.Covered != 0 {
		t.Fatalf("DELETE kept %d items", after.Covered)
	}
}

func report(t *testing.T, h *testenv.Env) coverage.Report {
	t.Helper()
	r := h.Do("GET", "/_mock/coverage", "")
	testenv.WantStatus(t, r, http.StatusOK)
	var rep coverage.Report
	if err := json.Unmarshal(r.Body, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func count(rep coverage.Report, op, status, reason string) int64 {
	for _, o := range rep.Operations {
		for _, s := range o.Statuses {
			if o.OperationID != op || s.Status != status {
				continue
			}
			if reason == "" {
				return s.Count
			}
			for _, r := range s.Reasons {
				if r.Reason == reason {
					return r.Count
				}
			}
		}
	}
	return -1
}

func outcome(t *testing.T, h *testenv.Env, callback, o string) int64 {
	for _, cb := range report(t, h).Callbacks {
		for _, x := range cb.Outcomes {
			if cb.Callback == callback && x.Outcome == o {
				return x.Count
			}
		}
	}
	return -1
}
