package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// ats is what an ATS does through the vendor API in these tests.
type ats struct {
	t   *testing.T
	h   *testenv.Env
	tok string
}

func newATS(t *testing.T, h *testenv.Env) *ats {
	return &ats{t: t, h: h, tok: h.Token(testenv.DemoID, testenv.DemoSecret)}
}

// invite creates an application for the engineer job and returns its answer.
func (a *ats) invite(first, last, callbackURL, invitation string) map[string]any {
	a.t.Helper()
	req := map[string]any{
		"job_id": testenv.EngineerJob, "callback_url": callbackURL,
		"applicant_details": map[string]string{"first_name": first, "last_name": last, "email": "applicant@example.com"},
	}
	if invitation != "" {
		req["invitation_type"] = invitation
	}
	body, _ := json.Marshal(req)
	r := a.h.Do(http.MethodPost, "/connect_ats/applications", string(body), testenv.Bearer(a.tok))
	testenv.WantStatus(a.t, r, http.StatusCreated)
	return r.JSON(a.t)
}

func (a *ats) get(path string) map[string]any {
	a.t.Helper()
	r := a.h.Do(http.MethodGet, path, "", testenv.Bearer(a.tok))
	testenv.WantStatus(a.t, r, http.StatusOK)
	return r.JSON(a.t)
}

func newReceiver(t *testing.T, h *testenv.Env) *receiver.Receiver {
	t.Helper()
	rcv, err := receiver.New("127.0.0.1:0", "", h.App.Spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rcv.Close() })
	return rcv
}

func waitCallbacks(t *testing.T, rcv *receiver.Receiver, path string, n int) []receiver.Callback {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := rcv.Wait(ctx, path, n)
	if err != nil {
		t.Fatalf("waiting for %d callbacks at %s: %v", n, path, err)
	}
	if v := rcv.Violations(); len(v) > 0 {
		t.Fatalf("callbacks break the contract: %v", v)
	}
	return got
}

// The applicant opens the one-time link, answers every statement, submits, and the ATS receives
// the results with the scores the answers give: per trait the rounded mean of its answers.
func TestAssessmentFlow(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	rcv := newReceiver(t, h)
	a := newATS(t, h)
	created := a.invite("Rembrandt", "Van Rijn", rcv.URL+"/applications/42", "one_time_link")
	ref := created["reference_id"].(string)

	if status := b.load("open the link", chromedp.Navigate(created["assessment_url"].(string))); status != 200 {
		t.Fatalf("the assessment page answered %d", status)
	}
	if got := b.text("h1"); got != "First assessment job - Engineer" {
		t.Fatalf("h1 %q", got)
	}
	if got := b.text("p.lead"); !strings.HasPrefix(got, "Hello Rembrandt,") {
		t.Fatalf("greeting %q", got)
	}
	if st := a.get("/connect_ats/applications/" + ref + "/status")["status"]; st != "started" {
		t.Fatalf("after opening the link the application is %v", st)
	}

	// Answers per trait, and the buckets their rounded means give.
	answers := []struct {
		trait   string
		answers []int
		want    int
	}{
		{"problem_solving_ability", []int{5, 4, 5}, 5}, // 4.67
		{"working_memory", []int{2, 2, 3}, 2},          // 2.33
		{"problem_solving_style", []int{1, 1, 1}, 1},
		{"attention_to_detail", []int{4, 4, 3}, 4}, // 3.67
		{"cognitive_flexibility", []int{3, 2, 4}, 3},
	}
	clicked := 0
	for _, tr := range answers {
		for i, v := range tr.answers {
			b.do("answer "+tr.trait, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="a.%s.%d"][value="%d"]`, tr.trait, i, v))))
			clicked++
		}
		if got, want := b.text("#progress-text"), fmt.Sprintf("%d of 15 answered", clicked); got != want {
			t.Fatalf("progress %q, want %q", got, want)
		}
		if clicked == 6 {
			b.shot("answering")
		}
	}
	if status := b.load("submit", chromedp.Click(chromedp.ID("submit"))); status != 200 {
		t.Fatalf("submitting answered %d", status)
	}
	if got := b.text("#thanks"); got != "Thank you, Rembrandt!" {
		t.Fatalf("thank-you page says %q", got)
	}
	b.shot("thanks")

	cb := waitCallbacks(t, rcv, "/applications/42", 1)[0]
	var res struct {
		Fit            string `json:"fit"`
		ResultsURL     string `json:"results_url"`
		DetailedScores []struct {
			TraitCode   string `json:"trait_code"`
			BucketScore int    `json:"trait_bucket_score"`
		} `json:"detailed_scores"`
	}
	if err := json.Unmarshal(cb.Body, &res); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, d := range res.DetailedScores {
		got[d.TraitCode] = d.BucketScore
	}
	for _, tr := range answers {
		if got[tr.trait] != tr.want {
			t.Errorf("callback: %s = %d, want %d from answers %v", tr.trait, got[tr.trait], tr.want, tr.answers)
		}
	}
	// problem solving ability 5 in 3-5 (high), working memory 2 in 2-5 (medium), style 1 in 1-5,
	// attention 4 in 3-5 (medium), flexibility 3 in 2-4: every trait in range.
	if res.Fit != "high" || !strings.HasSuffix(res.ResultsURL, "/dashboard/en/candidates/"+ref) {
		t.Fatalf("callback fit %s, results_url %s", res.Fit, res.ResultsURL)
	}

	// The link is used now: opening it again says so.
	if status := b.load("reopen", chromedp.Navigate(created["assessment_url"].(string))); status != http.StatusGone {
		t.Fatalf("a used link answered %d", status)
	}
	if got := b.text("h1"); got != "This assessment has been completed" {
		t.Fatalf("used link page: %q", got)
	}
}

// completed returns the reference of an application completed with chosen scores.
func completed(t *testing.T, h *testenv.Env, a *ats, first string) string {
	t.Helper()
	ref := a.invite(first, "Leyster", testenv.CallbackURL, "")["reference_id"].(string)
	r := h.Do(http.MethodPost, "/_mock/applications/"+ref+"/complete", `{"scores":{"problem_solving_ability":4,"working_memory":3,"problem_solving_style":2,"attention_to_detail":2,"cognitive_flexibility":4}}`)
	testenv.WantStatus(t, r, http.StatusOK)
	return ref
}

// The public link shows the fit and a chart per trait, on a laptop and on a phone, until the
// clock passes 120 minutes; then the same page says the link expired (410).
func TestPublicResultsPage(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	a := newATS(t, h)
	ref := completed(t, h, a, "Judith")
	link := a.get("/connect_ats/applications/" + ref + "/public_link?locale=en")["url"].(string)

	if status := b.load("open the public link", chromedp.Navigate(link)); status != 200 {
		t.Fatalf("public page answered %d", status)
	}
	if got := b.text("h1"); got != "Candidate results" {
		t.Fatalf("h1 %q", got)
	}
	if got := b.text("#fit"); got != "Medium" { // attention to detail (medium priority) is out of its range
		t.Fatalf("fit %q", got)
	}
	if n := eval[int](b, `document.querySelectorAll("svg.scale-chart").length`); n != 5 {
		t.Fatalf("%d charts, want one per trait", n)
	}
	if marks := eval[string](b, `[...document.querySelectorAll("li.trait")].map(li => li.dataset.trait + "=" + li.querySelector(".mark").nextElementSibling.textContent + (li.querySelector(".mark.miss") ? "!" : "")).join(" ")`); marks !=
		"problem_solving_ability=4 working_memory=3 problem_solving_style=2 attention_to_detail=2! cognitive_flexibility=4" {
		t.Fatalf("chart marks %q", marks)
	}
	if w := eval[float64](b, `document.querySelector("svg.scale-chart").getBoundingClientRect().width`); w < 150 {
		t.Fatalf("the chart is %v px wide on a laptop", w)
	}
	toDocs(t, b.shot("laptop"), "public-results.png")

	b.do("a phone's viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.load("reload on a phone", chromedp.Reload())
	if overflow := eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth`); overflow {
		t.Fatal("the page scrolls sideways on a phone")
	}
	if w := eval[float64](b, `document.querySelector("svg.scale-chart").getBoundingClientRect().width`); w < 200 || w > 390 {
		t.Fatalf("the chart is %v px wide on a 390 px phone", w)
	}
	b.shot("phone")
	b.do("back to a laptop", chromedp.EmulateViewport(1280, 900))

	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/clock/advance", `{"by":"119m59s"}`), 200)
	if status := b.load("reload at 119m59s", chromedp.Reload()); status != 200 {
		t.Fatalf("a second before expiry the page answered %d", status)
	}
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/clock/advance", `{"by":"1s"}`), 200)
	if status := b.load("reload at 120m", chromedp.Reload()); status != http.StatusGone {
		t.Fatalf("after 120 minutes the page answered %d, want 410", status)
	}
	if got := b.text("h1"); got != "This link has expired" {
		t.Fatalf("expired page: %q", got)
	}
	b.shot("expired")
}

// The public page in Dutch: every label in Dutch, none in English.
func TestPublicResultsInDutch(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	a := newATS(t, h)
	ref := completed(t, h, a, "Judith")
	link := a.get("/connect_ats/applications/" + ref + "/public_link?locale=nl")["url"].(string)
	if status := b.load("open the nl link", chromedp.Navigate(link)); status != 200 {
		t.Fatalf("answered %d", status)
	}
	if lang := eval[string](b, `document.documentElement.lang`); lang != "nl" {
		t.Fatalf("html lang %q", lang)
	}
	body := b.text("body")
	for _, nl := range []string{"Resultaten van de kandidaat", "Match met de functie", "Gemiddeld", "Geaccepteerd bereik", "Buiten het bereik",
		"Uitslag binnen het bereik", "Uitslag buiten het bereik", "Prioriteit: hoog", "Prioriteit: gemiddeld", "Prioriteit: laag", "Probleemoplossend vermogen", "(4) Enigszins hogere capaciteit",
		"Deze link is 120 minuten geldig.", "Geleverd door equalture-mock"} {
		if !strings.Contains(body, nl) {
			t.Errorf("the nl page lacks %q", nl)
		}
	}
	for _, en := range []string{"Candidate results", "Fit with the job", "Medium", "Accepted range", "Outside the range", "Score",
		"Priority", "Problem solving ability", "capacity", "This link is valid", "Served by"} {
		if strings.Contains(body, en) {
			t.Errorf("the nl page says %q in English", en)
		}
	}
	if aria := eval[string](b, `document.querySelector("svg.scale-chart").getAttribute("aria-label")`); !strings.Contains(aria, "uitslag 4 van 5, binnen het bereik") {
		t.Errorf("the chart's label is not Dutch: %q", aria)
	}
	b.shot("nl")
}

// results_url leads to the dashboard: a sign-in as the fixture client, then the applicant's
// timeline and results; another client's applicant is not there.
func TestDashboard(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	a := newATS(t, h)
	ref := a.invite("Frans", "Hals", testenv.CallbackURL, "one_time_link")["reference_id"].(string)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/clock/advance", `{"by":"3m"}`), 200)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+ref+"/start", ""), 200)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/clock/advance", `{"by":"25m"}`), 200)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+ref+"/complete", `{"fit":"high"}`), 200)
	a.tok = h.Token(testenv.DemoID, testenv.DemoSecret) // the clock moved past the first token
	resultsURL := a.get("/connect_ats/applications/" + ref + "/results")["results_url"].(string)

	b.load("open results_url", chromedp.Navigate(resultsURL))
	if got := b.text("h1"); got != "Sign in" {
		t.Fatalf("signed out, results_url shows %q", got)
	}
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name="client_id"]`), "demo-client"),
		chromedp.SendKeys(chromedp.CSS(`input[name="client_secret"]`), "wrong"))
	if status := b.load("wrong secret", chromedp.Click(chromedp.ID("sign-in"))); status != http.StatusUnprocessableEntity {
		t.Fatalf("a wrong secret answered %d", status)
	}
	b.do("sign in again", chromedp.SendKeys(chromedp.CSS(`input[name="client_secret"]`), "demo-secret"))
	if status := b.load("right secret", chromedp.Click(chromedp.ID("sign-in"))); status != 200 {
		t.Fatalf("signing in ended on %d", status)
	}
	if loc := eval[string](b, `location.href`); loc != resultsURL {
		t.Fatalf("after signing in: %s, want results_url %s", loc, resultsURL)
	}
	if got := b.text("#applicant"); got != "Frans Hals" {
		t.Fatalf("applicant %q", got)
	}
	if got := eval[string](b, `[...document.querySelectorAll("#timeline li")].map(li => li.textContent.trim()).join(" | ")`); got !=
		"Invited 2026-11-28 12:00:00 UTC | Started 2026-11-28 12:03:00 UTC | Completed 2026-11-28 12:28:00 UTC" {
		t.Fatalf("timeline %q", got)
	}
	if got := b.text("#fit"); got != "High" {
		t.Fatalf("fit %q", got)
	}
	b.shot("candidate")

	r := h.Do(http.MethodPost, "/connect_ats/applications/"+ref+"/hire_applicant", `{"add_to_team":true}`, testenv.Bearer(a.tok))
	testenv.WantStatus(t, r, 200)
	b.load("reload", chromedp.Reload())
	if got := eval[string](b, `[...document.querySelectorAll("#timeline li")].map(li => li.dataset.status).join(",")`); got != "invited,started,completed,hired" {
		t.Fatalf("timeline after hiring %q", got)
	}

	other := newATS(t, h)
	other.tok = h.Token(testenv.OtherID, testenv.OtherSecret)
	body := `{"job_id":"` + testenv.OtherJob + `","callback_url":"` + testenv.CallbackURL + `","applicant_details":{"first_name":"Judith","last_name":"Leyster","email":"j@example.com"}}`
	otherRef := h.Do(http.MethodPost, "/connect_ats/applications", body, testenv.Bearer(other.tok)).JSON(t)["reference_id"].(string)
	if status := b.load("another client's applicant", chromedp.Navigate(h.URL+"/dashboard/en/candidates/"+otherRef)); status != http.StatusNotFound {
		t.Fatalf("another client's applicant answered %d", status)
	}
	b.load("the list", chromedp.Navigate(h.URL+"/dashboard/en/candidates"))
	if list := b.text("#candidates"); !strings.Contains(list, "Frans Hals") || strings.Contains(list, "Judith") {
		t.Fatalf("candidates %q", list)
	}
}

// From the console: complete an application, see its callback arrive, redeliver it, see it again.
func TestConsoleCompleteAndRedeliver(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	rcv := newReceiver(t, h)
	a := newATS(t, h)
	ref := a.invite("Rembrandt", "Van Rijn", rcv.URL+"/applications/42", "email")["reference_id"].(string)
	// Some company for the screenshot: an applicant who started, one by link, a fault rule, journal entries.
	started := a.invite("Judith", "Leyster", rcv.URL+"/applications/43", "email")["reference_id"].(string)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+started+"/start", ""), 200)
	a.invite("Frans", "Hals", rcv.URL+"/applications/44", "one_time_link")
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/faults", `{"method":"POST","path":"/connect_ats/applications","status":429,"headers":{"Retry-After":"2"},"times":2}`), 201)

	b.load("open the console", chromedp.Navigate(h.URL+"/_mock/ui"))
	row := `tr[data-ref="` + ref + `"]`
	b.do("choose high", chromedp.SetValue(chromedp.CSS(row+` select[name="fit"]`), "high"))
	if status := b.load("complete", chromedp.Click(chromedp.CSS(row+` form[action$="/complete"] button`))); status != 200 {
		t.Fatalf("completing from the console ended on %d", status)
	}
	if got := b.text("#flash-text"); got != "Application "+ref+" completed with fit high" {
		t.Fatalf("flash %q", got)
	}
	first := waitCallbacks(t, rcv, "/applications/42", 1)[0]
	if !strings.Contains(string(first.Body), `"fit":"high"`) {
		t.Fatalf("callback %s", first.Body)
	}
	testenv.Settle(t, h.App)

	b.load("callbacks", chromedp.Navigate(h.URL+"/_mock/ui/callbacks"))
	dlv := `#callbacks tr[data-ref="` + ref + `"]`
	if got := b.text(dlv + " .badge"); got != "delivered" {
		t.Fatalf("delivery %q", got)
	}
	if status := b.load("redeliver", chromedp.Click(chromedp.CSS(dlv+` form[action$="/redeliver"] button`))); status != 200 {
		t.Fatalf("redelivering ended on %d", status)
	}
	if got := b.text("#flash-text"); !strings.HasSuffix(got, "is being sent again") {
		t.Fatalf("flash %q", got)
	}
	both := waitCallbacks(t, rcv, "/applications/42", 2)
	if id := both[1].Header.Get("X-Equalture-Delivery-Id"); id == "" || id != first.Header.Get("X-Equalture-Delivery-Id") {
		t.Fatalf("the redelivery's id %q is not the delivery's %q", id, first.Header.Get("X-Equalture-Delivery-Id"))
	}
	if n := both[1].Header.Get("X-Equalture-Delivery-Attempt"); n != "2" {
		t.Fatalf("redelivery attempt %q", n)
	}
	testenv.Settle(t, h.App)
	b.load("reload", chromedp.Navigate(h.URL+"/_mock/ui/callbacks"))
	if n := eval[int](b, `document.querySelectorAll('`+dlv+` table.attempts tr').length`); n != 2 {
		t.Fatalf("the console lists %d attempts, want 2", n)
	}
	b.shot("callbacks")
	b.load("applications", chromedp.Navigate(h.URL+"/_mock/ui"))
	toDocs(t, b.shot("console"), "console.png")
}

// An applicant named <script>alert(1)</script> is text on the assessment page, the dashboard and
// the console: the name shows as typed and no script runs.
func TestScriptInANameIsText(t *testing.T) {
	b := newTab(t)
	dialogs := b.dialogs()
	h := newEnv(t)
	a := newATS(t, h)
	const first, last = `<script>alert(1)</script>`, `<img src=x onerror=alert(2)>`
	created := a.invite(first, last, testenv.CallbackURL+"?q=<script>alert(3)</script>", "one_time_link")
	ref := created["reference_id"].(string)

	b.load("assessment", chromedp.Navigate(created["assessment_url"].(string)))
	if got := b.text("p.lead"); !strings.HasPrefix(got, "Hello "+first+",") {
		t.Fatalf("greeting %q", got)
	}
	b.load("console", chromedp.Navigate(h.URL+"/_mock/ui"))
	if got := b.text(`tr[data-ref="` + ref + `"] .applicant`); got != first+" "+last {
		t.Fatalf("console shows %q", got)
	}
	b.shot("console")
	b.load("dashboard sign-in", chromedp.Navigate(h.URL+"/dashboard/en/candidates/"+ref))
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name="client_id"]`), "demo-client"),
		chromedp.SendKeys(chromedp.CSS(`input[name="client_secret"]`), "demo-secret"))
	b.load("sign in", chromedp.Click(chromedp.ID("sign-in")))
	if got := b.text("#applicant"); got != first+" "+last {
		t.Fatalf("dashboard shows %q", got)
	}
	b.shot("dashboard")
	if n := eval[int](b, `document.querySelectorAll("img").length`); n != 0 {
		t.Fatalf("the dashboard has %d img elements: the name became markup", n)
	}
	if n := dialogs.Load(); n != 0 {
		t.Fatalf("%d alert dialogs opened: a script in the name ran", n)
	}
}

// With --admin-token the console asks for it once, then works in this browser.
func TestConsoleSignIn(t *testing.T) {
	b := newTab(t)
	h := newEnv(t, func(o *app.Options) { o.AdminToken = "s3cret" })
	b.load("console", chromedp.Navigate(h.URL+"/_mock/ui"))
	if got := b.text("h1"); got != "Sign in" {
		t.Fatalf("without signing in the console shows %q", got)
	}
	b.do("type a wrong token", chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), "guess"))
	if status := b.load("submit", chromedp.Click(chromedp.ID("sign-in"))); status != http.StatusUnprocessableEntity {
		t.Fatalf("a wrong token answered %d", status)
	}
	b.do("type the token", chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), "s3cret"))
	if status := b.load("submit", chromedp.Click(chromedp.ID("sign-in"))); status != 200 {
		t.Fatalf("signing in ended on %d", status)
	}
	if got := b.text("h1"); got != "Mock console" {
		t.Fatalf("after signing in: %q", got)
	}
	// testenv's clock starts frozen.
	if status := b.load("unfreeze", chromedp.Click(chromedp.CSS(`form[action$="/clock/unfreeze"] button`))); status != 200 {
		t.Fatalf("an action after signing in ended on %d", status)
	}
	if got := b.text("#flash-text"); got != "Clock running again" || h.Clock.State().Frozen {
		t.Fatalf("flash %q, frozen %v", got, h.Clock.State().Frozen)
	}
	b.shot("signed-in")
}
