package vendorapi_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/store"
	"github.com/equalture/equalture-mock/internal/testenv"
)

func TestListJobs(t *testing.T) {
	h := testenv.New(t)
	tests := map[string]struct {
		id, secret string
		want       []string
	}{
		"demo sees its published jobs, not the draft": {testenv.DemoID, testenv.DemoSecret, []string{testenv.EngineerJob, testenv.AccountJob}},
		"other client sees only its own":              {testenv.OtherID, testenv.OtherSecret, []string{testenv.OtherJob}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.Sub(t)
			r := h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(h.Token(tc.id, tc.secret)))
			testenv.WantStatus(t, r, http.StatusOK)
			var jobs []struct{ ID, Name string }
			if err := json.Unmarshal(r.Body, &jobs); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, j := range jobs {
				ids = append(ids, j.ID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Fatalf("job ids = %v, want %v", ids, tc.want)
			}
		})
	}
}

func TestCreateApplication(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)

	t.Run("email invitation goes to the outbox", func(t *testing.T) {
		h := h.Sub(t)
		ref, v := h.Create(tok, testenv.EngineerJob, "")
		if _, has := v["assessment_url"]; has {
			t.Fatalf("an email invitation answered an assessment_url: %v", v)
		}
		var found bool
		for _, m := range h.App.Service.Outbox(service.OutboxFilter{ClientID: testenv.DemoID}) {
			if m.ReferenceID == ref {
				found = true
				if m.To != "rembrandt@example.com" || !strings.HasPrefix(m.Link, h.URL+"/en/assessments/73799/token/SFMyNTY.") {
					t.Fatalf("email = %+v", m)
				}
				if !strings.Contains(m.Body, m.Link) {
					t.Fatalf("email body does not carry the link: %q", m.Body)
				}
			}
		}
		if !found {
			t.Fatal("no invitation email in the outbox")
		}
	})

	t.Run("one-time link answers an assessment_url on the mock", func(t *testing.T) {
		h := h.Sub(t)
		before := len(h.App.Service.Outbox(service.OutboxFilter{}))
		_, v := h.Create(tok, testenv.EngineerJob, "one_time_link")
		u, _ := v["assessment_url"].(string)
		if !strings.HasPrefix(u, h.URL+"/en/assessments/73799/token/SFMyNTY.") {
			t.Fatalf("assessment_url = %q", u)
		}
		if got := len(h.App.Service.Outbox(service.OutboxFilter{})); got != before {
			t.Fatalf("a one-time link sent an email (outbox %d → %d)", before, got)
		}
	})

	valid := testenv.CreateBody(testenv.EngineerJob, "")
	tests := map[string]struct {
		body        string
		contentType string
		wantStatus  int
		wantField   string // error field that must be named
		wantMessage string // substring of its first message
	}{
		"malformed JSON":              {`{"job_id":`, testenv.ContentJSON, 400, "detail", "Malformed JSON"},
		"seed's trailing commas":      {`{"job_id":"` + testenv.EngineerJob + `",}`, testenv.ContentJSON, 400, "detail", "Malformed JSON"},
		"empty body":                  {"", testenv.ContentJSON, 400, "detail", "Missing request body"},
		"text/plain":                  {valid, "text/plain", 415, "detail", "application/json"},
		"json with charset":           {valid, "application/json; charset=utf-8", 201, "", ""},
		"array body":                  {`[]`, testenv.ContentJSON, 422, "body", "must be an object"},
		"missing email":               {strings.Replace(valid, `,"email":"rembrandt@example.com"`, "", 1), testenv.ContentJSON, 422, "applicant_details.email", "can't be blank"},
		"bad email":                   {strings.Replace(valid, "rembrandt@example.com", "rembrandt", 1), testenv.ContentJSON, 422, "applicant_details.email", "email address"},
		"blank first name":            {strings.Replace(valid, "Rembrandt", "", 1), testenv.ContentJSON, 422, "applicant_details.first_name", "can't be blank"},
		"no applicant_details":        {`{"job_id":"` + testenv.EngineerJob + `","callback_url":"` + testenv.CallbackURL + `"}`, testenv.ContentJSON, 422, "applicant_details", "can't be blank"},
		"job id not a UUID":           {strings.Replace(valid, testenv.EngineerJob, "42", 1), testenv.ContentJSON, 422, "job_id", "UUID"},
		"job id a number":             {strings.Replace(valid, `"`+testenv.EngineerJob+`"`, "42", 1), testenv.ContentJSON, 422, "job_id", "must be a string"},
		"unknown job":                 {strings.Replace(valid, testenv.EngineerJob, testenv.UnknownUUID, 1), testenv.ContentJSON, 422, "job_id", "does not exist"},
		"another client's job":        {strings.Replace(valid, testenv.EngineerJob, testenv.OtherJob, 1), testenv.ContentJSON, 422, "job_id", "does not exist"},
		"unpublished job":             {strings.Replace(valid, testenv.EngineerJob, testenv.DraftJob, 1), testenv.ContentJSON, 422, "job_id", "not published"},
		"ftp callback_url":            {strings.Replace(valid, "http://127.0.0.1:9", "ftp://127.0.0.1:9", 1), testenv.ContentJSON, 422, "callback_url", "absolute http(s) URL"},
		"relative callback_url":       {strings.Replace(valid, "http://127.0.0.1:9", "", 1), testenv.ContentJSON, 422, "callback_url", "absolute"},
		"unknown invitation_type":     {testenv.CreateBody(testenv.EngineerJob, "sms"), testenv.ContentJSON, 422, "invitation_type", "email, one_time_link"},
		"unknown fields are accepted": {strings.Replace(valid, `{"job_id"`, `{"x_extra":1,"job_id"`, 1), testenv.ContentJSON, 201, "", ""},
		"body over 1 MiB":             {`{"pad":"` + strings.Repeat("a", testenv.MaxBodyBytes) + `"}`, testenv.ContentJSON, 413, "detail", "too large"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.Sub(t)
			r := h.Do(http.MethodPost, "/connect_ats/applications", tc.body, testenv.Bearer(tok), testenv.Header("Content-Type", tc.contentType))
			testenv.WantStatus(t, r, tc.wantStatus)
			if tc.wantField == "" {
				return
			}
			msgs := r.ErrorField(t, tc.wantField)
			if len(msgs) == 0 || !strings.Contains(msgs[0], tc.wantMessage) {
				t.Fatalf("errors.%s = %v, want a message with %q; body %s", tc.wantField, msgs, tc.wantMessage, r.Body)
			}
		})
	}

	t.Run("every invalid field is named at once", func(t *testing.T) {
		h := h.Sub(t)
		body := `{"job_id":"x","callback_url":"nope","applicant_details":{"email":"x"}}`
		r := h.Do(http.MethodPost, "/connect_ats/applications", body, testenv.Bearer(tok))
		testenv.WantStatus(t, r, 422)
		for _, f := range []string{"job_id", "callback_url", "applicant_details.email", "applicant_details.first_name", "applicant_details.last_name"} {
			if len(r.ErrorField(t, f)) == 0 {
				t.Errorf("field %s not named in %s", f, r.Body)
			}
		}
	})
}

// TestCreateApplicationNamesEveryProblemAtOnce: the job (and the callback host) are checked in the
// same pass as the contract's schema, so one 422 names every problem; a value the schema refused
// keeps the schema's message alone.
func TestCreateApplicationNamesEveryProblemAtOnce(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) { o.Egress.AllowHosts = []string{"127.0.0.1"} })
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	valid := testenv.CreateBody(testenv.EngineerJob, "")
	noEmail := strings.Replace(valid, `,"email":"rembrandt@example.com"`, "", 1)
	tests := map[string]struct {
		body string
		want map[string][]string // the whole errors object
	}{
		"no email and an unknown job": {strings.Replace(noEmail, testenv.EngineerJob, testenv.UnknownUUID, 1),
			map[string][]string{"applicant_details.email": {"can't be blank"}, "job_id": {"does not exist"}}},
		"no email and another client's job": {strings.Replace(noEmail, testenv.EngineerJob, testenv.OtherJob, 1),
			map[string][]string{"applicant_details.email": {"can't be blank"}, "job_id": {"does not exist"}}},
		"a draft job and a host not allowed": {strings.Replace(strings.Replace(valid, testenv.EngineerJob, testenv.DraftJob, 1), "127.0.0.1:9", "evil.example", 1),
			map[string][]string{"job_id": {"is not published"}, "callback_url": {"host evil.example is not allowed: the mock accepts callbacks to 127.0.0.1 only"}}},
		"a job that is no UUID is not looked up": {strings.Replace(noEmail, testenv.EngineerJob, "job-1", 1),
			map[string][]string{"applicant_details.email": {"can't be blank"}, "job_id": {"is invalid: must be a UUID"}}},
		"a job that is a number": {strings.Replace(valid, `"`+testenv.EngineerJob+`"`, "42", 1),
			map[string][]string{"job_id": {"is invalid: must be a string"}}},
		"a callback URL failing two checks alike is named once": {strings.Replace(valid, "http://127.0.0.1:9", "notaurl", 1),
			map[string][]string{"callback_url": {"is invalid: must be an absolute http(s) URL"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.Sub(t)
			r := h.Do(http.MethodPost, "/connect_ats/applications", tc.body, testenv.Bearer(tok))
			testenv.WantStatus(t, r, http.StatusUnprocessableEntity)
			var got struct{ Errors map[string][]string }
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Errors, tc.want) {
				t.Fatalf("errors = %v, want %v", got.Errors, tc.want)
			}
		})
	}
	if n := len(h.App.Service.Applications(store.Filter{ClientID: testenv.DemoID})); n != 0 {
		t.Fatalf("%d applications created from invalid requests", n)
	}
}

func TestLifecycle(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	ref, _ := h.Create(tok, testenv.EngineerJob, "")
	app := "/connect_ats/applications/" + ref

	status := func(want string) {
		t.Helper()
		r := h.Do(http.MethodGet, app+"/status", "", testenv.Bearer(tok))
		testenv.WantStatus(t, r, 200)
		if got := r.JSON(t)["status"]; got != want {
			t.Fatalf("status = %v, want %s", got, want)
		}
	}
	conflict := func(method, path, body, wantDetail string) {
		t.Helper()
		r := h.Do(method, app+path, body, testenv.Bearer(tok))
		testenv.WantStatus(t, r, http.StatusConflict)
		if d := r.ErrorField(t, "detail"); len(d) == 0 || !strings.Contains(d[0], wantDetail) {
			t.Fatalf("detail = %v, want %q", d, wantDetail)
		}
	}
	hire := `{"add_to_team":"true","start_date":"2025-07-01"}`

	status("invited")
	conflict(http.MethodGet, "/results", "", "invited, not completed")
	conflict(http.MethodGet, "/public_link", "", "invited, not completed")
	conflict(http.MethodPost, "/hire_applicant", hire, "invited, not completed")

	h.Complete(ref)
	status("completed")

	r := h.Do(http.MethodGet, app+"/results", "", testenv.Bearer(tok))
	testenv.WantStatus(t, r, 200)
	var res results.Results
	if err := json.Unmarshal(r.Body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.DetailedScores) != 5 || len(res.Scores) != 5 {
		t.Fatalf("results carry %d detailed scores and %d scores, want 5 each (the job's profile)", len(res.DetailedScores), len(res.Scores))
	}
	stored, _ := h.App.Service.Lookup(ref)
	job, _ := h.App.Fixtures.Job(testenv.DemoID, testenv.EngineerJob)
	if got, want := res.Fit, results.Fit(job, stored.Scores); got != want {
		t.Fatalf("fit = %s, want %s derived from the scores", got, want)
	}
	for _, d := range res.DetailedScores {
		if v, _ := stored.Scores.Get(d.TraitCode); d.TraitBucketScore != v || res.Scores[d.TraitName] != d.TraitBucketDescription {
			t.Fatalf("detailed score %+v disagrees with stored scores %v / summary %v", d, stored.Scores, res.Scores)
		}
	}
	if want := h.URL + "/dashboard/en/candidates/" + ref; res.ResultsURL != want {
		t.Fatalf("results_url = %q, want %q", res.ResultsURL, want)
	}

	nl := h.Do(http.MethodGet, app+"/results?locale=nl", "", testenv.Bearer(tok)).JSON(t)
	if _, ok := nl["scores"].(map[string]any)["Probleemoplossend vermogen"]; !ok {
		t.Fatalf("locale=nl results are not in Dutch: %v", nl["scores"])
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, app+"/results?locale=not-a-locale", "", testenv.Bearer(tok)), http.StatusBadRequest)
	if fr := h.Do(http.MethodGet, app+"/results?locale=fr", "", testenv.Bearer(tok)).JSON(t); fr["results_url"] != h.URL+"/dashboard/en/candidates/"+ref {
		t.Fatalf("unknown locale did not fall back to en: %v", fr["results_url"])
	}

	pl := h.Do(http.MethodGet, app+"/public_link?locale=nl", "", testenv.Bearer(tok))
	testenv.WantStatus(t, pl, 200)
	plv := pl.JSON(t)
	if plv["ttl"] != "120" || plv["ttl_units"] != "minutes" || !strings.HasPrefix(plv["url"].(string), h.URL+"/nl/candidate_results/"+ref+"/summary?token=SFMyNTY.") {
		t.Fatalf("public link = %v", plv)
	}

	r = h.Do(http.MethodPost, app+"/hire_applicant", hire, testenv.Bearer(tok))
	testenv.WantStatus(t, r, 200)
	if v := r.JSON(t); v["reference_id"] != ref || v["message"] != "Applicant has been successfully hired and added to team if configured" {
		t.Fatalf("hire answered %v", v)
	}
	status("hired")
	stored, _ = h.App.Service.Lookup(ref)
	if stored.Hire == nil || !stored.Hire.AddToTeam || !stored.Hire.AddedToTeam || stored.Hire.Team != "Engineering" || stored.Hire.StartDate != "2025-07-01" {
		t.Fatalf("hire recorded as %+v", stored.Hire)
	}
	conflict(http.MethodPost, "/hire_applicant", hire, "hired, not completed")
	testenv.WantStatus(t, h.Do(http.MethodGet, app+"/results", "", testenv.Bearer(tok)), 200)

	for i := 0; i < 2; i++ { // anonymize is idempotent
		r = h.Do(http.MethodDelete, app+"/anonymize_application", "", testenv.Bearer(tok))
		testenv.WantStatus(t, r, 200)
		if r.JSON(t)["reference_id"] != ref {
			t.Fatalf("anonymize answered %s", r.Body)
		}
	}
	status("anonymized")
	conflict(http.MethodGet, "/results", "", "anonymized")
	conflict(http.MethodGet, "/public_link", "", "anonymized")
	conflict(http.MethodPost, "/hire_applicant", hire, "anonymized")
	stored, _ = h.App.Service.Lookup(ref)
	if stored.Scores != nil || stored.Applicant.Email != "" {
		t.Fatalf("anonymized application keeps personal data or scores: %+v", stored)
	}
}

func TestAnonymizeFromAnyState(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	ref, _ := h.Create(tok, testenv.EngineerJob, "")
	testenv.WantStatus(t, h.Do(http.MethodDelete, "/connect_ats/applications/"+ref+"/anonymize_application", "", testenv.Bearer(tok)), 200)
	if _, err := h.App.Service.Complete(ref, service.Completion{}); err == nil {
		t.Fatal("an anonymized application could be completed")
	}
}

func TestHireBodies(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	tests := map[string]struct {
		job         string
		body        string
		wantStatus  int
		wantField   string
		wantAddedTo bool
	}{
		"boolean true, job with team":  {testenv.EngineerJob, `{"add_to_team":true}`, 200, "", true},
		"string false":                 {testenv.EngineerJob, `{"add_to_team":"false","start_date":"2026-01-05"}`, 200, "", false},
		"the seed's string true":       {testenv.EngineerJob, `{"add_to_team": "true", "start_date": "2025-07-01"}`, 200, "", true},
		"add_to_team TRUE":             {testenv.EngineerJob, `{"add_to_team":"TRUE"}`, 422, "add_to_team", false},
		"add_to_team null":             {testenv.EngineerJob, `{"add_to_team":null}`, 422, "add_to_team", false},
		"true on a job without a team": {testenv.AccountJob, `{"add_to_team":true}`, 200, "", false},
		"missing add_to_team":          {testenv.EngineerJob, `{"start_date":"2026-01-05"}`, 422, "add_to_team", false},
		"add_to_team yes":              {testenv.EngineerJob, `{"add_to_team":"yes"}`, 422, "add_to_team", false},
		"add_to_team 1":                {testenv.EngineerJob, `{"add_to_team":1}`, 422, "add_to_team", false},
		"bad start_date":               {testenv.EngineerJob, `{"add_to_team":true,"start_date":"2025-13-01"}`, 422, "start_date", false},
		"start_date not ISO":           {testenv.EngineerJob, `{"add_to_team":true,"start_date":"01/07/2025"}`, 422, "start_date", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.Sub(t)
			ref, _ := h.Create(tok, tc.job, "")
			h.Complete(ref)
			r := h.Do(http.MethodPost, "/connect_ats/applications/"+ref+"/hire_applicant", tc.body, testenv.Bearer(tok))
			testenv.WantStatus(t, r, tc.wantStatus)
			if tc.wantField != "" {
				if len(r.ErrorField(t, tc.wantField)) == 0 {
					t.Fatalf("%s not named in %s", tc.wantField, r.Body)
				}
				return
			}
			a, _ := h.App.Service.Lookup(ref)
			if a.Hire.AddedToTeam != tc.wantAddedTo {
				t.Fatalf("added to team = %v, want %v", a.Hire.AddedToTeam, tc.wantAddedTo)
			}
			// The leniency is the validation's view: the journal keeps the body as it was sent.
			if e := h.App.Journal.Latest(1); len(e) != 1 || string(e[0].RequestBody) != tc.body {
				t.Fatalf("journal keeps %q, want the body as sent %q", e[0].RequestBody, tc.body)
			}
		})
	}
}

func TestTenantIsolation(t *testing.T) {
	h := testenv.New(t)
	demo, other := h.Token(testenv.DemoID, testenv.DemoSecret), h.Token(testenv.OtherID, testenv.OtherSecret)
	ref, _ := h.Create(demo, testenv.EngineerJob, "")
	h.Complete(ref)
	requests := []struct{ method, path, body string }{
		{http.MethodGet, "/status", ""},
		{http.MethodGet, "/results", ""},
		{http.MethodGet, "/public_link", ""},
		{http.MethodPost, "/hire_applicant", `{"add_to_team":true}`},
		{http.MethodDelete, "/anonymize_application", ""},
	}
	for _, rq := range requests {
		t.Run(rq.method+rq.path, func(t *testing.T) {
			h := h.Sub(t)
			foreign := h.Do(rq.method, "/connect_ats/applications/"+ref+rq.path, rq.body, testenv.Bearer(other))
			unknown := h.Do(rq.method, "/connect_ats/applications/"+testenv.UnknownUUID+rq.path, rq.body, testenv.Bearer(other))
			testenv.WantStatus(t, foreign, http.StatusNotFound)
			if string(foreign.Body) != string(unknown.Body) {
				t.Fatalf("another client's application answers %s, an unknown one %s: they must not differ", foreign.Body, unknown.Body)
			}
		})
	}
	if r := h.Do(http.MethodGet, "/connect_ats/applications/"+ref+"/status", "", testenv.Bearer(demo)); r.JSON(t)["status"] != "completed" {
		t.Fatalf("the other client's requests changed the application: %s", r.Body)
	}
}

func TestPathParameters(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	r := h.Do(http.MethodGet, "/connect_ats/applications/1234-1234-4567-1111/status", "", testenv.Bearer(tok))
	testenv.WantStatus(t, r, http.StatusBadRequest)
	if m := r.ErrorField(t, "detail"); len(m) != 1 || !strings.Contains(m[0], "reference_id is invalid: must be a UUID") {
		t.Fatalf("400 detail = %v, want it to name reference_id", m)
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/applications/"+testenv.UnknownUUID+"/status", "", testenv.Bearer(tok)), http.StatusNotFound)
}

func TestUnknownRoutes(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	tests := map[string]struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		"unknown vendor path": {http.MethodGet, "/connect_ats/nope", 404, ""},
		"wrong method":        {http.MethodPut, "/connect_ats/jobs", 405, "GET"},
		"token with delete":   {http.MethodDelete, "/connect_ats/access_token", 405, "GET, POST"},
		"outside the API":     {http.MethodGet, "/nope", 404, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.Sub(t)
			r := h.Do(tc.method, tc.path, "", testenv.Bearer(tok))
			testenv.WantStatus(t, r, tc.wantStatus)
			if got := r.Header.Get("Allow"); got != tc.wantAllow {
				t.Fatalf("Allow = %q, want %q", got, tc.wantAllow)
			}
			if len(r.ErrorField(t, "detail")) != 1 {
				t.Fatalf("no JSON error detail: %s", r.Body)
			}
		})
	}
}

func TestReproducibleWithSeed(t *testing.T) {
	run := func() (refs []string, scores []map[string]int) {
		h := testenv.New(t)
		tok := h.Token(testenv.DemoID, testenv.DemoSecret)
		for i := 0; i < 3; i++ {
			ref, _ := h.Create(tok, testenv.EngineerJob, "")
			h.Complete(ref)
			a, _ := h.App.Service.Lookup(ref)
			refs, scores = append(refs, ref), append(scores, a.Scores.Map())
		}
		return refs, scores
	}
	r1, s1 := run()
	r2, s2 := run()
	if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(s1, s2) {
		t.Fatalf("same seed gave different runs:\n%v %v\n%v %v", r1, s1, r2, s2)
	}
	if reflect.DeepEqual(s1[0], s1[1]) && reflect.DeepEqual(s1[1], s1[2]) {
		t.Fatalf("three applications drew identical scores %v: the draw ignores the application", s1[0])
	}
}

func TestHealthz(t *testing.T) {
	h := testenv.New(t)
	r := h.Do(http.MethodGet, "/healthz", "")
	testenv.WantStatus(t, r, 200)
	if v := r.JSON(t); v["status"] != "ok" {
		t.Fatalf("healthz = %s", r.Body)
	}
	_ = time.Second
}
