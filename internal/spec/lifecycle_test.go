package spec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/spec"
)

func TestContractStatesItsLifecycle(t *testing.T) {
	s := load(t, assets.VendorSpec())
	lc := s.Lifecycle()
	if want := []string{"invited", "started", "completed", "hired", "anonymized", "expired"}; !reflect.DeepEqual(lc.States, want) {
		t.Fatalf("states %v, want getStatus's enum %v", lc.States, want)
	}
	if lc.Initial != "invited" || !lc.Inferred {
		t.Fatalf("initial %q inferred %v", lc.Initial, lc.Inferred)
	}
	tests := map[string]struct {
		op      string
		allowed []string
		to      string
	}{
		"hire":      {"hireApplicant", []string{"completed"}, "hired"},
		"results":   {"getResults", []string{"completed", "hired"}, ""},
		"link":      {"getPublicLink", []string{"completed", "hired"}, ""},
		"anonymize": {"anonymizeApplication", lc.States, "anonymized"},
		"create":    {"createApplication", lc.States, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, ok := lc.Rule(tc.op)
			if !ok {
				t.Fatalf("%s has no x-lifecycle", tc.op)
			}
			var allowed []string
			for _, st := range lc.States {
				if r.Allows(st) {
					allowed = append(allowed, st)
				}
			}
			if !reflect.DeepEqual(allowed, tc.allowed) || r.To != tc.to {
				t.Fatalf("%s allows %v and moves to %q, want %v and %q", tc.op, allowed, r.To, tc.allowed, tc.to)
			}
		})
	}
	if got := lc.Moves("invited"); !reflect.DeepEqual(got, []string{"anonymized", "expired", "started"}) {
		t.Errorf("moves from invited %v", got)
	}
	if got := lc.Moves("completed"); !reflect.DeepEqual(got, []string{"anonymized", "hired"}) {
		t.Errorf("moves from completed %v", got)
	}
	if got := lc.Reachable([]string{"completed"}, nil); !reflect.DeepEqual(got, []string{"anonymized", "completed", "hired"}) {
		t.Errorf("reachable from completed %v", got)
	}
	if tr := lc.Signalled("assessment_finished"); tr == nil || tr.To != "completed" {
		t.Errorf("assessment_finished announces %+v", tr)
	}
	if ttl, ok := s.TokenTTL(); !ok || ttl != 15*time.Minute {
		t.Errorf("token TTL %v %v, want the seed's 15 minutes", ttl, ok)
	}
}

func TestControlContractReportsTheSameStates(t *testing.T) {
	c := load(t, assets.ControlSpec())
	r, ok := c.Lifecycle().Rule("completeApplication")
	if !ok || r.Reports != "status" {
		t.Fatalf("completeApplication x-lifecycle %+v %v", r, ok)
	}
	if r, _ := c.Lifecycle().Rule("reset"); !r.Resets {
		t.Errorf("reset does not say it resets")
	}
	if r, _ := c.Lifecycle().Rule("advanceClock"); r.Clock != "now" {
		t.Errorf("advanceClock does not say it moves the clock")
	}
}

func TestBrokenLifecyclesAreRefused(t *testing.T) {
	base := string(assets.VendorSpec())
	tests := map[string]struct{ old, new, want string }{
		"an unknown state":    {"x-lifecycle: {requires: [completed], conflict: 409, to: hired}", "x-lifecycle: {requires: [done], conflict: 409, to: hired}", `hireApplicant.requires names state "done"`},
		"no conflict status":  {"x-lifecycle: {requires: [completed], conflict: 409, to: hired}", "x-lifecycle: {requires: [completed], to: hired}", "names no conflict status"},
		"an undocumented one": {"x-lifecycle: {requires: [completed], conflict: 409, to: hired}", "x-lifecycle: {requires: [completed], conflict: 410, to: hired}", "answers 410 in another state"},
		"an unknown field":    {"x-lifecycle: {creates: true}", "x-lifecycle: {goes: invited}", `unknown field "goes"`},
		"an unknown signal":   {"signals: [assessment_started]", "signals: [assessment_opened]", `signals "assessment_opened"`},
		"a bad TTL":           {"x-token-ttl: 15m", "x-token-ttl: soon", `x-token-ttl "soon"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(base, tc.old) {
				t.Fatalf("openapi.yaml has no %q", tc.old)
			}
			_, err := spec.Load(context.Background(), []byte(strings.Replace(base, tc.old, tc.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestTheDomainsLifecycleIsTheContracts: the rules the domain gets are read from both contracts,
// and contracts whose rules the domain lacks or cannot apply stop the mock from starting, saying
// which rule.
func TestTheDomainsLifecycleIsTheContracts(t *testing.T) {
	lc, err := spec.DomainLifecycle(load(t, assets.VendorSpec()), load(t, assets.ControlSpec()))
	if err != nil {
		t.Fatal(err)
	}
	r := lc.Rules()
	if got := fmt.Sprint(r.Moves[domain.ActComplete]); got != "{[invited started] completed map[invited:[started]]}" {
		t.Errorf("complete: %s (from control-openapi.yaml's lever, through openapi.yaml's transitions)", got)
	}
	if got := fmt.Sprint(r.Moves[domain.ActHire], r.Lapse, r.Results); got != "{[completed] hired map[]} [invited started] [completed hired]" {
		t.Errorf("hire, lapse, results: %s", got)
	}

	const (
		hire   = "x-lifecycle: {requires: [completed], conflict: 409, to: hired}"
		start  = "x-lifecycle: {requires: [invited, started], conflict: 409, to: started, reports: status}"
		done   = "x-lifecycle: {requires: [invited, started], conflict: 409, to: completed, reports: status}"
		lapse  = "{from: [invited, started], to: expired, by: time}"
		states = "enum: [invited, started, completed, hired, anonymized, expired]"
	)
	tests := map[string]struct {
		vendor, control [2]string // a change: old, new
		want            string
	}{
		"hire leading elsewhere": {vendor: [2]string{hire, "x-lifecycle: {requires: [completed], conflict: 409, to: completed}"},
			want: `hire leads to "completed"; the domain's hire leads to "hired"`},
		"hire without a rule": {vendor: [2]string{hire, ""}, want: "openapi.yaml: hireApplicant states no x-lifecycle"},
		"a lever without a move": {control: [2]string{start, "x-lifecycle: {reports: status}"},
			want: "control-openapi.yaml: startApplication's x-lifecycle names no state it moves to (to)"},
		"a lever naming an unknown state": {control: [2]string{start, "x-lifecycle: {requires: [invited, opened], conflict: 409, to: started, reports: status}"},
			want: `startApplication's x-lifecycle names state "opened"`},
		"a lever making a move the transitions do not": {control: [2]string{done, "x-lifecycle: {requires: [invited, started, hired], conflict: 409, to: completed, reports: status}"},
			want: "completeApplication is allowed from hired, but openapi.yaml's transitions have no way from there to completed"},
		"an applicant's move no lever makes": {control: [2]string{start, "x-lifecycle: {requires: [started], conflict: 409, to: started, reports: status}"},
			want: "moves the applicant from invited to started, which control-openapi.yaml's startApplication does not allow"},
		"the clock doing more than lapse": {vendor: [2]string{lapse, "{from: [invited, started], to: anonymized, by: time}"},
			want: "the domain's clock only makes invitations lapse (to expired)"},
		"a state the domain does not know": {vendor: [2]string{states, "enum: [invited, started, completed, hired, anonymized, expired, archived]"},
			want: `openapi.yaml's states name "archived", which the domain does not know`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			docs := [2][]byte{assets.VendorSpec(), assets.ControlSpec()}
			for i, c := range [2][2]string{tc.vendor, tc.control} {
				if c[0] == "" {
					continue
				}
				if !bytes.Contains(docs[i], []byte(c[0])) {
					t.Fatalf("no %q to change", c[0])
				}
				docs[i] = bytes.Replace(docs[i], []byte(c[0]), []byte(c[1]), 1)
			}
			vendor, err := spec.Load(context.Background(), docs[0])
			if err != nil {
				t.Fatalf("the changed openapi.yaml does not load: %v", err)
			}
			_, err = spec.DomainLifecycle(vendor, load(t, docs[1]))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestReasonsAndChallenges(t *testing.T) {
	s := load(t, assets.VendorSpec())
	names := func(rs []spec.Reason) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	tests := map[string]struct {
		op     string
		status int
		want   []string
	}{
		"bearer 401":  {"listJobs", 401, []string{"expired", "invalid", "malformed", "missing", "revoked"}},
		"basic 401":   {"createAccessToken", 401, []string{"invalid", "missing"}},
		"hire 409":    {"hireApplicant", 409, []string{"anonymized", "expired", "hired", "invited", "started"}},
		"results 409": {"getResults", 409, []string{"anonymized", "expired", "invited", "started"}},
		"hire 422":    {"hireApplicant", 422, []string{"add_to_team", "start_date"}},
		"create 422":  {"createApplication", 422, []string{"applicant_details", "applicant_details.email", "applicant_details.first_name", "applicant_details.last_name", "callback_url", "invitation_type", "job_id"}},
		"webhook 409": {"registerWebhook", 409, []string{"limit"}},
		"no reasons":  {"listJobs", 400, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := names(s.Reasons(tc.op, tc.status)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("reasons %v, want %v", got, tc.want)
			}
		})
	}
	c, ok := s.Challenge("listJobs")
	if !ok || c.Scheme != "Bearer" || c.Realm != "equalture" || c.Refused != "invalid_token" || !c.Guessed("realm") || c.Guessed("scheme") {
		t.Fatalf("listJobs challenge %+v %v", c, ok)
	}
	if c, ok := s.Challenge("createAccessToken"); !ok || c.Scheme != "Basic" {
		t.Fatalf("token challenge %+v %v", c, ok)
	}
}

// TestWhatTheContractGuessed: each problem of an answer is placed in the contract, and marked
// when the part it breaks is x-inferred (the whole of it, or the keyword broken).
func TestWhatTheContractGuessed(t *testing.T) {
	s := load(t, assets.VendorSpec())
	const ref = "/connect_ats/applications/d2c37d4d-b8d4-46a9-b230-42a246ad6153"
	tests := map[string]struct {
		method, path string
		status       int
		body         string
		inferred     bool
		contract     string
		keyword      string
	}{
		"a status value the contract did not guess": {"GET", ref + "/status", 200, `{"status":"in_progress"}`, true,
			"openapi.yaml#/components/schemas/ApplicationStatus/properties/status", "enum"},
		"a status of another type": {"GET", ref + "/status", 200, `{"status":3}`, false,
			"openapi.yaml#/components/schemas/ApplicationStatus/properties/status", "type"},
		"another error shape": {"GET", ref + "/status", 404, `{"error":"Not Found"}`, true,
			"openapi.yaml#/components/schemas/Error/required", "required"},
		"a created application without its id": {"POST", "/connect_ats/applications", 201, `{}`, false,
			"openapi.yaml#/components/schemas/CreatedApplication/required", "required"},
		"the token at another path": {"POST", "/connect_ats/access_token", 404, `{"errors":{"detail":"Not Found"}}`, true,
			"openapi.yaml#/paths/~1connect_ats~1access_token/post/responses", "status"},
		"an undocumented status": {"GET", "/connect_ats/jobs", 418, `{}`, false,
			"openapi.yaml#/paths/~1connect_ats~1jobs/get/responses", "status"},
		"a state conflict in another shape": {"POST", ref + "/hire_applicant", 409, `{"message":"no"}`, true,
			"openapi.yaml#/components/schemas/Error/required", "required"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			h := http.Header{"Content-Type": {"application/json"}}
			err := s.ValidateResponse(context.Background(), req, tc.status, h, []byte(tc.body))
			var re *spec.ResponseError
			if !errors.As(err, &re) || len(re.Problems) != 1 {
				t.Fatalf("err %v, want one problem", err)
			}
			p := re.Problems[0]
			if p.Inferred != tc.inferred || p.Contract != tc.contract || p.Keyword != tc.keyword {
				t.Fatalf("problem %+v, want inferred %v at %s (%s)", p, tc.inferred, tc.contract, tc.keyword)
			}
			broken, guessed := re.Split()
			if (guessed != nil) != tc.inferred || (broken != nil) == tc.inferred {
				t.Fatalf("split %v / %v", broken, guessed)
			}
			if tc.inferred && !strings.Contains(guessed.Guesses(), "the contract guessed") {
				t.Fatalf("guess %s", guessed.Guesses())
			}
		})
	}
}
