package proxy_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/coverage"
)

// TestProxyCoverage: the proxy counts what passes through it, with the reasons it can tell, serves
// it at its own /_mock/coverage and puts it in its report.
func TestProxyCoverage(t *testing.T) {
	f := newFlow(t, nil, nil)
	ref := f.create()
	f.app("POST", ref, "hire_applicant", hire)                             // 409: invited
	f.call("POST", "/connect_ats/applications", `{"job_id":"x"}`)          // 422: job_id, …
	f.w.do(t, "GET", "/connect_ats/jobs", "", "Authorization", "")         // 401: missing
	f.w.do(t, "GET", "/connect_ats/jobs", "", "Authorization", "Bearer x") // 401: malformed
	f.completeUnseen(ref)
	f.atsGot("/results", 1)
	f.w.settle(t, 0)
	a := f.w.do(t, "GET", "/_mock/coverage", "")
	var rep coverage.Report
	if err := json.Unmarshal([]byte(a.body), &rep); err != nil || a.status != 200 {
		t.Fatalf("coverage: %d %s", a.status, a.body)
	}
	met := map[string]bool{}
	for _, op := range rep.Operations {
		for _, s := range op.Statuses {
			if s.Count > 0 {
				met[op.OperationID+" "+s.Status] = true
			}
			for _, r := range s.Reasons {
				if r.Count > 0 {
					met[op.OperationID+" "+s.Status+" "+r.Reason] = true
				}
			}
		}
	}
	for _, cb := range rep.Callbacks {
		for _, o := range cb.Outcomes {
			if o.Count > 0 {
				met[cb.Callback+" "+o.Outcome] = true
			}
		}
	}
	for _, want := range []string{"createAccessToken 200", "createApplication 201", "hireApplicant 409 invited", "createApplication 422 job_id",
		"listJobs 401 missing", "listJobs 401 malformed", "applicationResults 2xx"} {
		if !met[want] {
			t.Errorf("%s not met; met: %v", want, met)
		}
	}
	if r := f.w.proxy.Report(); r.Coverage.Covered != rep.Covered || !strings.Contains(r.Summary(), "coverage: the traffic met") {
		t.Errorf("the report's coverage %d, served %d:\n%s", r.Coverage.Covered, rep.Covered, r.Summary())
	}
}
