package control_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/testenv"
)

func post(h *testenv.Env, path, body string) testenv.Response {
	return h.Do(http.MethodPost, path, body)
}

func TestClockMovesTokenExpiry(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)

	r := post(h, "/_mock/clock/advance", `{"by":"14m59s"}`)
	testenv.WantStatus(t, r, 200)
	if got := r.JSON(t)["now"]; got != testenv.T0.Add(14*time.Minute+59*time.Second).Format(time.RFC3339) {
		t.Fatalf("clock now = %v", got)
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(tok)), 200)

	post(h, "/_mock/clock/advance", `{"by":"2s"}`) // 15m01s after issue
	r = h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(tok))
	testenv.WantStatus(t, r, 401)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), "expired") {
		t.Fatalf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
	}
}

func TestClockLevers(t *testing.T) {
	h := testenv.New(t)
	tests := []struct {
		path, body string
		wantNow    time.Time
		wantFrozen bool
	}{
		{"/_mock/clock/set", `{"now":"2030-01-02T03:04:05Z"}`, time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), true},
		{"/_mock/clock/advance", `{"by":"1h"}`, time.Date(2030, 1, 2, 4, 4, 5, 0, time.UTC), true},
		{"/_mock/clock/freeze", "", time.Date(2030, 1, 2, 4, 4, 5, 0, time.UTC), true},
	}
	for _, tc := range tests {
		r := post(h, tc.path, tc.body)
		testenv.WantStatus(t, r, 200)
		v := r.JSON(t)
		if v["now"] != tc.wantNow.Format(time.RFC3339) || v["frozen"] != tc.wantFrozen {
			t.Fatalf("%s → %v, want now %v frozen %v", tc.path, v, tc.wantNow, tc.wantFrozen)
		}
	}
	if v := post(h, "/_mock/clock/unfreeze", "").JSON(t); v["frozen"] != false {
		t.Fatalf("unfreeze → %v", v)
	}
	v := post(h, "/_mock/clock/reset", "").JSON(t)
	now, _ := time.Parse(time.RFC3339Nano, v["now"].(string))
	if d := time.Since(now); d < -time.Minute || d > time.Minute || v["frozen"] != false {
		t.Fatalf("reset clock = %v, want real time, running", v)
	}
}

// Advance only moves forward: a negative duration would bring an expired public link back,
// unnoticed. Setting the clock can still go back, and its answer says so.
func TestClockGoesBackOnlyWhenSetSayingSo(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	ref, _ := h.Create(tok, testenv.EngineerJob, "")
	testenv.WantStatus(t, post(h, "/_mock/applications/"+ref+"/complete", ""), 200)
	link := h.Do(http.MethodGet, "/connect_ats/applications/"+ref+"/public_link", "", testenv.Bearer(tok)).JSON(t)["url"].(string)
	u, _ := url.Parse(link)
	page := func() int { return testenv.NewBrowser(t, h.URL).Get(u.RequestURI()).Status }
	testenv.WantStatus(t, post(h, "/_mock/clock/advance", `{"by":"121m"}`), 200)
	if got := page(); got != http.StatusGone {
		t.Fatalf("after 121 minutes the public link answers %d", got)
	}

	for _, by := range []string{"-121m", "-1ns", "-0.5h"} {
		r := post(h, "/_mock/clock/advance", `{"by":"`+by+`"}`)
		testenv.WantStatus(t, r, http.StatusUnprocessableEntity)
		if msgs := r.ErrorField(t, "by"); len(msgs) != 1 || !strings.Contains(msgs[0], "must not be negative") {
			t.Fatalf("advance %s: %v", by, msgs)
		}
	}
	if now := h.Clock.Now(); !now.Equal(testenv.T0.Add(121 * time.Minute)) {
		t.Fatalf("a refused advance moved the clock to %v", now)
	}
	if got := page(); got != http.StatusGone {
		t.Fatalf("the expired public link came back: %d", got)
	}
	testenv.WantStatus(t, post(h, "/_mock/clock/advance", `{"by":"0s"}`), 200)

	r := post(h, "/_mock/clock/set", `{"now":"`+testenv.T0.Add(time.Minute).Format(time.RFC3339)+`"}`)
	testenv.WantStatus(t, r, 200)
	v := r.JSON(t)
	if v["went_back"] != true || v["moved_by"] != "-2h0m0s" || !strings.Contains(v["note"].(string), "went back by 2h0m0s") {
		t.Fatalf("setting the clock back answers %v", v)
	}
	if got := page(); got != 200 {
		t.Fatalf("after setting the clock back the public link answers %d", got)
	}
	v = post(h, "/_mock/clock/set", `{"now":"`+testenv.T0.Add(time.Hour).Format(time.RFC3339)+`"}`).JSON(t)
	if v["went_back"] != false || v["moved_by"] != "59m0s" || v["note"] != nil {
		t.Fatalf("setting the clock forward answers %v", v)
	}
}

func TestPublicLinkExpiresAfter120Minutes(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	ref, _ := h.Create(tok, testenv.EngineerJob, "")
	testenv.WantStatus(t, post(h, "/_mock/applications/"+ref+"/complete", ""), 200)
	link := h.Do(http.MethodGet, "/connect_ats/applications/"+ref+"/public_link", "", testenv.Bearer(tok)).JSON(t)["url"].(string)
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	page := u.RequestURI()

	post(h, "/_mock/clock/advance", `{"by":"119m"}`)
	r := h.Do(http.MethodGet, page, "")
	testenv.WantStatus(t, r, 200)
	if !strings.Contains(string(r.Body), "Candidate results") {
		t.Fatalf("public page at 119 minutes: %s", r.Body)
	}
	post(h, "/_mock/clock/advance", `{"by":"2m"}`)
	testenv.WantStatus(t, h.Do(http.MethodGet, page, ""), http.StatusGone)
}

func TestLifecycleLevers(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	job, _ := h.App.Fixtures.Job(testenv.DemoID, testenv.EngineerJob)

	t.Run("start then complete with a chosen fit", func(t *testing.T) {
		h := h.Sub(t)
		ref, _ := h.Create(tok, testenv.EngineerJob, "")
		if got := post(h, "/_mock/applications/"+ref+"/start", "").JSON(t)["status"]; got != "started" {
			t.Fatalf("status after start = %v", got)
		}
		for _, fit := range []string{"high"} {
			v := post(h, "/_mock/applications/"+ref+"/complete", `{"fit":"`+fit+`"}`).JSON(t)
			scores := map[string]int{}
			for k, n := range v["scores"].(map[string]any) {
				scores[k] = int(n.(float64))
			}
			if got := results.Fit(job, domain.NewScores(scores)); got != fit || v["status"] != "completed" {
				t.Fatalf("completed with fit %s: status %v, scores %v give fit %s", fit, v["status"], scores, got)
			}
		}
		testenv.WantStatus(t, post(h, "/_mock/applications/"+ref+"/complete", ""), http.StatusConflict)
	})
	t.Run("each fit is reachable", func(t *testing.T) {
		h := h.Sub(t)
		for _, fit := range []string{"low", "medium", "high"} {
			ref, _ := h.Create(tok, testenv.EngineerJob, "")
			post(h, "/_mock/applications/"+ref+"/complete", `{"fit":"`+fit+`"}`)
			res := h.Do(http.MethodGet, "/connect_ats/applications/"+ref+"/results", "", testenv.Bearer(tok)).JSON(t)
			if res["fit"] != fit {
				t.Fatalf("asked fit %s, results say %v", fit, res["fit"])
			}
		}
	})
	t.Run("chosen scores", func(t *testing.T) {
		h := h.Sub(t)
		ref, _ := h.Create(tok, testenv.EngineerJob, "")
		v := post(h, "/_mock/applications/"+ref+"/complete", `{"scores":{"problem_solving_ability":1,"working_memory":5}}`).JSON(t)
		s := v["scores"].(map[string]any)
		if s["problem_solving_ability"] != 1.0 || s["working_memory"] != 5.0 || len(s) != len(job.Profile) {
			t.Fatalf("scores = %v", s)
		}
	})
	t.Run("bad completion input", func(t *testing.T) {
		h := h.Sub(t)
		ref, _ := h.Create(tok, testenv.EngineerJob, "")
		tests := map[string]struct {
			body, field string
		}{
			"trait not in profile": {`{"scores":{"risk_taking":3}}`, "scores.risk_taking"},
			"score out of range":   {`{"scores":{"working_memory":6}}`, "scores.working_memory"},
			"unknown fit":          {`{"fit":"great"}`, "fit"},
			"fit and scores":       {`{"fit":"high","scores":{"working_memory":3}}`, "fit"},
		}
		for name, tc := range tests {
			r := post(h, "/_mock/applications/"+ref+"/complete", tc.body)
			testenv.WantStatus(t, r, 422)
			if len(r.ErrorField(t, tc.field)) == 0 {
				t.Fatalf("%s: %s not named in %s", name, tc.field, r.Body)
			}
		}
	})
	t.Run("expire invitation", func(t *testing.T) {
		h := h.Sub(t)
		ref, v := h.Create(tok, testenv.EngineerJob, "one_time_link")
		if got := post(h, "/_mock/applications/"+ref+"/expire_invitation", "").JSON(t)["status"]; got != "expired" {
			t.Fatalf("status = %v", got)
		}
		u, _ := url.Parse(v["assessment_url"].(string))
		testenv.WantStatus(t, h.Do(http.MethodGet, u.RequestURI(), ""), http.StatusGone)
	})
	t.Run("unknown application", func(t *testing.T) {
		h := h.Sub(t)
		testenv.WantStatus(t, post(h, "/_mock/applications/"+testenv.UnknownUUID+"/complete", ""), 404)
		testenv.WantStatus(t, post(h, "/_mock/applications/nope/complete", ""), 400)
	})
}

func TestTokenLevers(t *testing.T) {
	h := testenv.New(t)
	demo, other := h.Token(testenv.DemoID, testenv.DemoSecret), h.Token(testenv.OtherID, testenv.OtherSecret)
	r := post(h, "/_mock/tokens/revoke", `{"client_id":"demo-client"}`)
	testenv.WantStatus(t, r, 200)
	rd := h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(demo))
	testenv.WantStatus(t, rd, 401)
	if !strings.Contains(rd.Header.Get("WWW-Authenticate"), "revoked") {
		t.Fatalf("WWW-Authenticate = %q", rd.Header.Get("WWW-Authenticate"))
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(other)), 200)

	testenv.WantStatus(t, post(h, "/_mock/tokens/expire", ""), 200)
	ro := h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(other))
	testenv.WantStatus(t, ro, 401)
	if !strings.Contains(ro.Header.Get("WWW-Authenticate"), "expired") {
		t.Fatalf("WWW-Authenticate = %q", ro.Header.Get("WWW-Authenticate"))
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(h.Token(testenv.OtherID, testenv.OtherSecret))), 200)
	testenv.WantStatus(t, post(h, "/_mock/tokens/expire", `{"client_id":"ghost"}`), 422)
}

func TestFaultRuleLimitedToTwoHits(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	r := post(h, "/_mock/faults", `{"method":"GET","path":"/connect_ats/jobs","status":429,"headers":{"Retry-After":"7"},"times":2}`)
	testenv.WantStatus(t, r, 201)
	id := r.JSON(t)["id"].(string)
	for i := 1; i <= 2; i++ {
		r := h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(tok))
		testenv.WantStatus(t, r, 429)
		if r.Header.Get("Retry-After") != "7" {
			t.Fatalf("hit %d: Retry-After = %q", i, r.Header.Get("Retry-After"))
		}
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(tok)), 200)
	var list struct {
		Faults []struct {
			ID            string
			Hits, Matched int
		}
	}
	if err := json.Unmarshal(h.Do(http.MethodGet, "/_mock/faults", "").Body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Faults) != 1 || list.Faults[0].Hits != 2 || list.Faults[0].Matched != 3 {
		t.Fatalf("faults = %+v, want one rule with 2 hits of 3 matches", list.Faults)
	}
	testenv.WantStatus(t, h.Do(http.MethodDelete, "/_mock/faults/"+id, ""), 204)
	testenv.WantStatus(t, h.Do(http.MethodDelete, "/_mock/faults/"+id, ""), 404)
}

func TestFaultMatching(t *testing.T) {
	h := testenv.New(t)
	demo, other := h.Token(testenv.DemoID, testenv.DemoSecret), h.Token(testenv.OtherID, testenv.OtherSecret)
	post(h, "/_mock/faults", `{"path":"/connect_ats/*","client_id":"other-client","status":503}`)
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(demo)), 200)
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(other)), 503)
	h.Do(http.MethodDelete, "/_mock/faults", "")

	post(h, "/_mock/faults", `{"path":"/connect_ats/jobs","nth":2,"status":500}`)
	for i, want := range []int{200, 500, 200} {
		if got := h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(demo)).Status; got != want {
			t.Fatalf("request %d answered %d, want %d (nth=2)", i+1, got, want)
		}
	}
}

func TestLatencyFault(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	const latency = 300 * time.Millisecond
	post(h, "/_mock/faults", `{"path":"/connect_ats/jobs","latency":"300ms","times":1}`)
	start := time.Now()
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(tok)), 200)
	if took := time.Since(start); took < latency {
		t.Fatalf("a 300ms latency fault answered after %v", took)
	}
	post(h, "/_mock/faults", `{"path":"/connect_ats/jobs","latency":"200ms","latency_max":"400ms","times":1}`)
	start = time.Now()
	h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(tok))
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Fatalf("a 200-400ms latency fault answered after %v", took)
	}
}

func TestBrokenWire(t *testing.T) {
	h := testenv.New(t)
	for _, how := range []string{"empty_response", "connection_reset", "garbage"} {
		t.Run(how, func(t *testing.T) {
			h := h.Sub(t)
			post(h, "/_mock/faults", `{"path":"/connect_ats/jobs","break":"`+how+`","times":1}`)
			tr := &http.Transport{DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get(h.URL + "/connect_ats/jobs")
			if err == nil {
				resp.Body.Close()
				t.Fatalf("a %s fault answered %s", how, resp.Status)
			}
			var ue *url.Error
			if !errors.As(err, &ue) {
				t.Fatalf("error %v", err)
			}
			// The entry lands once the handler returns, which may be after the client saw the wire break.
			entries := h.Do(http.MethodGet, "/_mock/journal?path=/connect_ats/jobs&wait=5s", "").JSON(t)
			if entries["count"] != 1.0 {
				t.Fatalf("journal holds %v requests, want the broken one", entries["count"])
			}
			h.Do(http.MethodDelete, "/_mock/journal", "")
		})
	}
}

func TestPreferHeader(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	r := h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(tok), testenv.Header("Prefer", "code=503"))
	testenv.WantStatus(t, r, 503)
	if r.Header.Get("Retry-After") == "" || r.Header.Get("Preference-Applied") != "code=503" {
		t.Fatalf("headers = %v", r.Header)
	}
	r = h.Do(http.MethodPost, "/connect_ats/applications", testenv.CreateBody(testenv.EngineerJob, ""), testenv.Header("Prefer", "code=201"))
	testenv.WantStatus(t, r, 201)
	r = h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Header("Prefer", "code=418"))
	testenv.WantStatus(t, r, 400)
	if d := r.ErrorField(t, "detail"); !strings.Contains(d[0], "not documented") {
		t.Fatalf("detail = %v", d)
	}
}

func TestJournal(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	ref, _ := h.Create(tok, testenv.EngineerJob, "")
	post(h, "/_mock/applications/"+ref+"/complete", "")
	hire := "/connect_ats/applications/" + ref + "/hire_applicant"
	testenv.WantStatus(t, h.Do(http.MethodPost, hire, `{"add_to_team":true,"start_date":"2025-07-01"}`, testenv.Bearer(tok)), 200)

	tests := map[string]struct {
		query string
		want  float64
	}{
		"by path and body field":  {"path=/connect_ats/applications/*/hire_applicant&body.start_date=2025-07-01", 1},
		"by boolean body field":   {"body.add_to_team=true", 1},
		"by other body value":     {"path=/connect_ats/applications/*/hire_applicant&body.start_date=2025-07-02", 0},
		"by method and client":    {"method=POST&client_id=demo-client", 3},
		"by operation and status": {"operation_id=createApplication&status=201", 1},
		"by nested body field":    {"body.applicant_details.email=rembrandt@example.com", 1},
		"other client":            {"client_id=other-client", 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.Sub(t)
			v := h.Do(http.MethodGet, "/_mock/journal?"+tc.query, "").JSON(t)
			if v["count"] != tc.want {
				t.Fatalf("count = %v, want %v: %v", v["count"], tc.want, v["requests"])
			}
		})
	}
	v := h.Do(http.MethodGet, "/_mock/journal?operation_id=hireApplicant", "").JSON(t)
	e := v["requests"].([]any)[0].(map[string]any)
	if e["status"] != 200.0 || e["response_body"].(map[string]any)["reference_id"] != ref || e["time"] != testenv.T0.Format(time.RFC3339) {
		t.Fatalf("journal entry = %v", e)
	}
	testenv.WantStatus(t, h.Do(http.MethodDelete, "/_mock/journal", ""), 204)
	if v := h.Do(http.MethodGet, "/_mock/journal", "").JSON(t); v["count"] != 0.0 {
		t.Fatalf("journal after clear holds %v", v["count"])
	}
}

func TestWaitBlocksUntilMatch(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	ref, _ := h.Create(tok, testenv.EngineerJob, "")
	post(h, "/_mock/applications/"+ref+"/complete", "")

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Likely after the wait below has started (if not, the wait answers at once and the test
		// still holds): this orders a request, it proves no absence.
		time.Sleep(150 * time.Millisecond)
		resp, err := http.Post(h.URL+"/connect_ats/applications/"+ref+"/hire_applicant", "application/json", strings.NewReader(`{"add_to_team":false}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	start := time.Now()
	v := h.Do(http.MethodGet, "/_mock/journal?operation_id=hireApplicant&wait=10s", "").JSON(t)
	wg.Wait()
	if v["count"] != 1.0 {
		t.Fatalf("wait answered %v", v)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("wait answered after %v: it should answer as soon as the request arrives", took)
	}

	start = time.Now()
	v = h.Do(http.MethodGet, "/_mock/outbox?to=nobody@example.com&wait=200ms", "").JSON(t)
	if took := time.Since(start); took < 200*time.Millisecond || len(v["emails"].([]any)) != 0 {
		t.Fatalf("an unmatched wait answered %v after %v", v, took)
	}
	v = h.Do(http.MethodGet, "/_mock/outbox?reference_id="+ref+"&wait=5s", "").JSON(t)
	if m := v["emails"].([]any); len(m) != 1 || m[0].(map[string]any)["to"] != "rembrandt@example.com" {
		t.Fatalf("outbox = %v", v)
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, "/_mock/journal?wait=forever", ""), 400)
}

func TestResetEmptiesState(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	ref, _ := h.Create(tok, testenv.EngineerJob, "")
	post(h, "/_mock/faults", `{"path":"/nothing","status":500}`)
	post(h, "/_mock/clock/advance", `{"by":"1h"}`)

	testenv.WantStatus(t, post(h, "/_mock/reset", ""), 204)
	snap := h.Do(http.MethodGet, "/_mock/snapshot", "").JSON(t)
	for _, k := range []string{"applications", "emails", "faults", "deliveries"} {
		if n := len(snap[k].([]any)); n != 0 {
			t.Fatalf("after reset %s holds %d items", k, n)
		}
	}
	if snap["journal_size"] != 0.0 {
		t.Fatalf("journal holds %v entries after reset", snap["journal_size"])
	}
	if off := snap["clock"].(map[string]any)["offset"].(string); off != "0s" && !strings.HasSuffix(off, "µs") && !strings.HasSuffix(off, "ns") && !strings.HasSuffix(off, "ms") {
		t.Fatalf("clock offset after reset = %s", off)
	}
	tok = h.Token(testenv.DemoID, testenv.DemoSecret)
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/applications/"+ref+"/status", "", testenv.Bearer(tok)), 404)
}

func TestBadInput(t *testing.T) {
	h := testenv.New(t)
	tests := map[string]struct {
		method, path, body string
		wantStatus         int
		wantField          string
	}{
		"advance without by":   {http.MethodPost, "/_mock/clock/advance", `{}`, 422, "by"},
		"advance bad by":       {http.MethodPost, "/_mock/clock/advance", `{"by":"soon"}`, 422, "by"},
		"set bad time":         {http.MethodPost, "/_mock/clock/set", `{"now":"yesterday"}`, 422, "now"},
		"malformed JSON":       {http.MethodPost, "/_mock/clock/advance", `{"by":`, 400, "detail"},
		"fault without effect": {http.MethodPost, "/_mock/faults", `{"path":"/x"}`, 422, "status"},
		"fault bad break":      {http.MethodPost, "/_mock/faults", `{"break":"explode"}`, 422, "break"},
		"fault bad status":     {http.MethodPost, "/_mock/faults", `{"status":99}`, 422, "status"},
		"unknown control path": {http.MethodGet, "/_mock/nope", "", 404, "detail"},
		"wrong method":         {http.MethodDelete, "/_mock/clock", "", 405, "detail"},
		"bad status filter":    {http.MethodGet, "/_mock/journal?status=abc", "", 400, "detail"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.Sub(t)
			r := h.Do(tc.method, tc.path, tc.body)
			testenv.WantStatus(t, r, tc.wantStatus)
			if len(r.ErrorField(t, tc.wantField)) == 0 {
				t.Fatalf("%s not named in %s", tc.wantField, r.Body)
			}
		})
	}
	// A bad parameter's 400 is a general error naming the parameter in its detail.
	if d := h.Do(http.MethodGet, "/_mock/journal?status=abc", "").ErrorField(t, "detail"); len(d) != 1 || !strings.Contains(d[0], "status is invalid") {
		t.Fatalf("bad status filter detail = %v", d)
	}
}

func TestAdminToken(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) { o.AdminToken = "s3cret" })
	r := h.Do(http.MethodGet, "/_mock/clock", "")
	testenv.WantStatus(t, r, 401)
	if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, "/_mock/clock", "", testenv.Bearer("wrong")), 401)
	testenv.WantStatus(t, h.Do(http.MethodGet, "/_mock/clock", "", testenv.Bearer("s3cret")), 200)
}

func TestServesBothContracts(t *testing.T) {
	h := testenv.New(t)
	for _, p := range []string{"/_mock/openapi.yaml", "/_mock/vendor-openapi.yaml"} {
		r := h.Do(http.MethodGet, p, "")
		testenv.WantStatus(t, r, 200)
		if !strings.HasPrefix(string(r.Body), "openapi: 3.0.3") {
			t.Fatalf("%s starts %q", p, r.Body[:20])
		}
	}
}

func TestCallbacksThroughTheControlAPI(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) {
		o.Callbacks.Schedule = []time.Duration{0, time.Minute}
		o.Callbacks.MaxAttempts = 2
		o.Callbacks.Jitter = 0
	})
	var (
		mu      sync.Mutex
		answers = []int{500, 500, 200}
		bodies  [][]byte
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		code := answers[min(len(bodies), len(answers)-1)]
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(rcv.Close)

	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	body := strings.Replace(testenv.CreateBody(testenv.EngineerJob, ""), testenv.CallbackURL, rcv.URL+"/applications/7", 1)
	r := h.Do(http.MethodPost, "/connect_ats/applications", body, testenv.Bearer(tok))
	testenv.WantStatus(t, r, 201)
	ref := r.JSON(t)["reference_id"].(string)
	post(h, "/_mock/applications/"+ref+"/complete", `{"fit":"medium"}`)

	list := func(query string) []map[string]any {
		t.Helper()
		v := h.Do(http.MethodGet, "/_mock/callbacks?"+query, "").JSON(t)
		var out []map[string]any
		for _, d := range v["deliveries"].([]any) {
			out = append(out, d.(map[string]any))
		}
		return out
	}
	settle := func() {
		t.Helper()
		if v := h.Do(http.MethodGet, "/_mock/settle?wait=10s", "").JSON(t); v["settled"] != true {
			t.Fatalf("the mock did not settle: %v", v)
		}
	}
	settle()
	ds := list("reference_id=" + ref)
	if len(ds) != 1 || ds[0]["status"] != "pending" || len(ds[0]["attempts"].([]any)) != 1 {
		t.Fatalf("after the first 500: %v", ds)
	}
	post(h, "/_mock/clock/advance", `{"by":"59s"}`)
	settle() // a retry a second early would have been made by now
	if ds := list("reference_id=" + ref); len(ds[0]["attempts"].([]any)) != 1 {
		t.Fatalf("retried before its time: %v", ds)
	}
	post(h, "/_mock/clock/advance", `{"by":"1s"}`)
	ds = list("reference_id=" + ref + "&status=failed&wait=10s")
	if len(ds) != 1 || len(ds[0]["attempts"].([]any)) != 2 {
		t.Fatalf("after max attempts: %v", ds)
	}
	id := ds[0]["id"].(string)

	r = post(h, "/_mock/callbacks/"+id+"/redeliver", "")
	testenv.WantStatus(t, r, 200)
	ds = list("reference_id=" + ref + "&status=delivered&wait=10s")
	if len(ds) != 1 || len(ds[0]["attempts"].([]any)) != 3 {
		t.Fatalf("after redelivery: %v", ds)
	}
	mu.Lock()
	var payload map[string]any
	_ = json.Unmarshal(bodies[2], &payload)
	mu.Unlock()
	if payload["fit"] != "medium" {
		t.Fatalf("delivered payload = %v", payload)
	}
	if got := h.Do(http.MethodGet, "/_mock/callbacks/"+id, "").JSON(t)["status"]; got != "delivered" {
		t.Fatalf("GET delivery status = %v", got)
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, "/_mock/callbacks/nope", ""), 404)
	testenv.WantStatus(t, post(h, "/_mock/callbacks/nope/redeliver", ""), 404)
	if n := len(list("client_id=other-client")); n != 0 {
		t.Fatalf("other client's deliveries: %d", n)
	}
}

func TestCallbackHostAllowList(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) { o.Egress.AllowHosts = []string{"127.0.0.1"} })
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/connect_ats/applications", testenv.CreateBody(testenv.EngineerJob, ""), testenv.Bearer(tok)), 201)
	body := strings.Replace(testenv.CreateBody(testenv.EngineerJob, ""), "127.0.0.1:9", "ats.invalid", 1)
	r := h.Do(http.MethodPost, "/connect_ats/applications", body, testenv.Bearer(tok))
	testenv.WantStatus(t, r, 422)
	if m := r.ErrorField(t, "callback_url"); len(m) == 0 || !strings.Contains(m[0], "not allowed") {
		t.Fatalf("callback_url error = %v", m)
	}
}

// The control API limits request bodies before anything reads them, like the vendor API: 413 in
// the same error shape, whatever the route.
func TestBodyLimitBeforeValidation(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) { o.AdminToken = "s3cret" })
	big := `{"method":"GET","path":"/x","status":500,"body":"` + strings.Repeat("x", 3<<20) + `"}`
	for _, path := range []string{"/_mock/faults", "/_mock/clock/advance", "/_mock/applications/" + testenv.UnknownUUID + "/complete", "/_mock/nowhere"} {
		for name, auth := range map[string][]testenv.ReqOpt{"admin": {testenv.Bearer("s3cret")}, "no token": nil} {
			r := h.Do(http.MethodPost, path, big, auth...)
			testenv.WantStatus(t, r, http.StatusRequestEntityTooLarge)
			if m := r.ErrorField(t, "detail"); len(m) != 1 || !strings.Contains(m[0], "too large") {
				t.Fatalf("%s %s: %s", name, path, r.Body)
			}
		}
	}
}

// Anonymizing erases the applicant everywhere the mock kept them and stops their results leaving:
// the journal's bodies, the invitation email, the callbacks' payloads; the pending retry never
// comes, and redelivering is refused with the reason.
func TestAnonymizeErasesEverywhere(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) {
		o.Callbacks.Schedule = []time.Duration{0, time.Minute}
		o.Callbacks.Jitter = 0
	})
	var calls atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(rcv.Close)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	body := strings.Replace(testenv.CreateBody(testenv.EngineerJob, ""), testenv.CallbackURL, rcv.URL+"/cb", 1)
	r := h.Do(http.MethodPost, "/connect_ats/applications", body, testenv.Bearer(tok))
	testenv.WantStatus(t, r, 201)
	ref := r.JSON(t)["reference_id"].(string)
	post(h, "/_mock/applications/"+ref+"/complete", "")
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/applications/"+ref+"/results", "", testenv.Bearer(tok)), 200)
	if v := h.Do(http.MethodGet, "/_mock/settle", "").JSON(t); v["settled"] != true {
		t.Fatalf("settle: %v", v)
	}
	testenv.WantStatus(t, h.Do(http.MethodDelete, "/connect_ats/applications/"+ref+"/anonymize_application", "", testenv.Bearer(tok)), 200)

	journal := string(h.Do(http.MethodGet, "/_mock/journal?limit=1000", "").Body)
	for _, personal := range []string{"Rembrandt", "rembrandt@example.com", "trait_code", `"fit"`} {
		if strings.Contains(journal, personal) {
			t.Errorf("the journal still holds %s after anonymizing: %.400s", personal, journal)
		}
	}
	if n := strings.Count(journal, `"erased":"anonymized"`); n != 2 {
		t.Errorf("%d journal entries marked erased, want 2 (create, results)", n)
	}
	outbox := string(h.Do(http.MethodGet, "/_mock/outbox?reference_id="+ref, "").Body)
	if strings.Contains(outbox, "Rembrandt") || strings.Contains(outbox, "rembrandt@") {
		t.Errorf("the outbox still holds the applicant: %s", outbox)
	}
	ds := h.Do(http.MethodGet, "/_mock/callbacks?reference_id="+ref, "").JSON(t)["deliveries"].([]any)
	dl := ds[0].(map[string]any)
	if dl["status"] != "cancelled" || dl["reason"] != "anonymized" || len(dl["payload"].(map[string]any)) != 0 {
		t.Fatalf("delivery after anonymizing = %v", dl)
	}
	rd := post(h, "/_mock/callbacks/"+dl["id"].(string)+"/redeliver", "")
	testenv.WantStatus(t, rd, 409)
	if m := rd.ErrorField(t, "detail"); len(m) != 1 || !strings.Contains(m[0], "anonymized") {
		t.Fatalf("redeliver refused with %s", rd.Body)
	}
	post(h, "/_mock/clock/advance", `{"by":"1h"}`)
	if v := h.Do(http.MethodGet, "/_mock/settle", "").JSON(t); v["settled"] != true {
		t.Fatalf("settle: %v", v)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("the receiver got %d attempts; after anonymizing none may follow the first", n)
	}
}
