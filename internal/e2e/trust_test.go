package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// inView is a JavaScript expression: whether the element sel matches is shown, whole, inside the
// viewport.
func inView(sel string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; const r = e.getBoundingClientRect();
		return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth })()`, sel)
}

// answerAll answers every statement of the assessment page with 3.
const answerAll = `document.querySelectorAll("fieldset.q").forEach(q => q.querySelector("input[value='3']").click()) || true`

// dropChecks takes the required attributes off the page's form: a browser, or a script, that
// submits whatever it has.
const dropChecks = `document.querySelectorAll("[required]").forEach(e => e.removeAttribute("required")) || true`

// A browser that does not check the form (the required attributes gone) submits one answer: the
// page comes back (422) with the summary of open statements focused at the top, each linking to
// its statement, which is marked; the answer is kept; nothing is completed.
func TestPartialAssessmentIsSentBack(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	a := newATS(t, h)
	created := a.invite("Rembrandt", "Van Rijn", testenv.CallbackURL, "one_time_link")
	ref := created["reference_id"].(string)
	for _, loc := range []string{"en", "nl"} {
		link := strings.Replace(created["assessment_url"].(string), "/en/", "/"+loc+"/", 1)
		b.load("open the link", chromedp.Navigate(link))
		eval[bool](b, dropChecks)
		b.do("answer one statement", chromedp.Click(chromedp.CSS(`input[name="a.working_memory.1"][value="2"]`)))
		if status := b.load("submit", chromedp.Click(chromedp.ID("submit"))); status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: a partial submission answered %d, want 422", loc, status)
		}
		if !eval[bool](b, inView("#missing")) || eval[string](b, `document.activeElement.id`) != "missing" {
			t.Fatalf("%s: the summary of open statements is not shown and focused at the top", loc)
		}
		want := map[string]string{"en": "Please answer every statement: 14 still open.", "nl": "Beantwoord alle stellingen: er staan er nog 14 open."}[loc]
		if got := b.text("#missing strong"); got != want {
			t.Fatalf("%s: summary %q", loc, got)
		}
		if n := eval[int](b, `document.querySelectorAll("#missing a[href^='#q-']").length`); n != 14 {
			t.Fatalf("%s: the summary links to %d statements, want 14", loc, n)
		}
		if got := eval[string](b, `[...document.querySelectorAll("#q-working_memory-0 input, #q-working_memory-1 input")].map(i => (i.getAttribute("aria-invalid") || "-") + (i.checked ? "*" : "")).join(" ")`); got !=
			"true true true true true - -* - - -" {
			t.Fatalf("%s: the open statement is not marked invalid, or the answer not kept: %s", loc, got)
		}
		b.shot("sent-back-" + loc)
		b.do("follow the summary's last link", chromedp.Click(chromedp.CSS(`#missing a[href="#q-cognitive_flexibility-2"]`)))
		if top := eval[float64](b, `document.getElementById("q-cognitive_flexibility-2").getBoundingClientRect().top`); top < 0 || top > 900 {
			t.Fatalf("%s: the summary's link does not lead to its statement (at %v px)", loc, top)
		}
		b.axeCheck("assessment sent back (" + loc + ")")
	}
	if st := a.get("/connect_ats/applications/" + ref + "/status")["status"]; st != "started" {
		t.Fatalf("after partial submissions the application is %v, want started (nothing completed)", st)
	}
}

// A HEAD on the assessment link, as a link checker or a chat preview sends it, starts nothing.
func TestHeadOnTheAssessmentLinkStartsNothing(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	a := newATS(t, h)
	created := a.invite("Frans", "Hals", testenv.CallbackURL, "one_time_link")
	ref := created["reference_id"].(string)
	b.load("a page of the mock", chromedp.Navigate(h.URL+"/dashboard/en/sign_in"))
	status, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch(%q, {method: "HEAD"}).then(r => r.status)`, created["assessment_url"]), chromedp.EvalAwaitPromise))
	if err != nil || status != 200 {
		t.Fatalf("HEAD answered %d, %v", status, err)
	}
	got := a.get("/connect_ats/applications/" + ref + "/status")
	if got["status"] != "invited" {
		t.Fatalf("after a HEAD the application is %v, want invited", got["status"])
	}
	if app, _ := h.App.Service.Lookup(ref); !app.StartedAt.IsZero() {
		t.Fatalf("after a HEAD the application has a start at %v", app.StartedAt)
	}
}

// The thank-you page's language switch shows the thank-you page in Dutch, not the "already
// completed" page of the used link.
func TestThanksPageSwitchesLanguage(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	a := newATS(t, h)
	created := a.invite("Rembrandt", "Van Rijn", testenv.CallbackURL, "one_time_link")
	b.load("open the link", chromedp.Navigate(created["assessment_url"].(string)))
	eval[bool](b, answerAll)
	if status := b.load("submit", chromedp.Click(chromedp.ID("submit"))); status != 200 {
		t.Fatalf("submitting answered %d", status)
	}
	if status := b.load("switch to Dutch", chromedp.Click(chromedp.CSS(`a[hreflang="nl"]`))); status != 200 {
		t.Fatalf("the thank-you page in Dutch answered %d", status)
	}
	if got := b.text("#thanks"); got != "Bedankt, Rembrandt!" {
		t.Fatalf("the Dutch thank-you page says %q", got)
	}
	b.shot("thanks-nl")
}

// After every action the console's message is in view at the top of the page and focused —
// successes and refusals alike — though the row acted on is far down a page of 50.
func TestConsoleMessageIsVisibleAfterEveryAction(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(rcv.Close)
	var refs []string // oldest first: the bottom rows of the first page
	for i := range 50 {
		app, err := h.App.Service.Invite(testenv.DemoID, service.Invitation{JobID: testenv.EngineerJob, CallbackURL: rcv.URL + "/cb",
			Applicant: domain.Applicant{FirstName: fmt.Sprintf("Applicant%02d", i), LastName: "Hals", Email: "a@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, app.ReferenceID)
	}
	delivered := refs[3]
	if _, err := h.App.Service.Complete(delivered, service.Completion{}); err != nil {
		t.Fatal(err)
	}
	testenv.Settle(t, h.App)
	row := func(ref string) string { return `tr[data-ref="` + ref + `"]` }
	steps := []struct {
		name, page string
		before     func()
		act        []chromedp.Action[chromedp.Void]
		bad        bool
		says       string
	}{
		{name: "start", page: "/_mock/ui", act: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(row(refs[0]) + ` form[action$="/start"] button`))}, says: "started"},
		{name: "complete", page: "/_mock/ui", act: []chromedp.Action[chromedp.Void]{chromedp.SetValue(chromedp.CSS(row(refs[1])+` select[name="fit"]`), "low"),
			chromedp.Click(chromedp.CSS(row(refs[1]) + ` form[action$="/complete"] button`))}, says: "completed with fit low"},
		{name: "expire", page: "/_mock/ui", act: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(row(refs[2]) + ` form[action$="/expire"] button`))}, says: "expired"},
		// The page was loaded before the application completed elsewhere: its button is stale.
		{name: "complete, refused", page: "/_mock/ui", before: func() {
			if _, err := h.App.Service.Complete(refs[4], service.Completion{}); err != nil {
				t.Fatal(err)
			}
		}, act: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(row(refs[4]) + ` form[action$="/complete"] button`))}, bad: true, says: "cannot be completed"},
		{name: "advance", page: "/_mock/ui?page=1", act: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`#clock form[action$="/advance"] button`))}, says: "Clock advanced by 1m0s"},
		{name: "advance back, refused", page: "/_mock/ui", act: []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS(`#advance input[name="by"]`), "-1h"),
			chromedp.Click(chromedp.CSS(`#advance button`))}, bad: true, says: "the clock only advances"},
		{name: "unfreeze", page: "/_mock/ui", act: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`form[action$="/clock/unfreeze"] button`))}, says: "Clock running again"},
		{name: "freeze", page: "/_mock/ui", act: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.ID("freeze"))}, says: "Clock frozen at"},
		{name: "redeliver", page: "/_mock/ui/callbacks", act: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`tr[data-ref="` + delivered + `"] form[action$="/redeliver"] button`))}, says: "is being sent again"},
		{name: "add a fault", page: "/_mock/ui/faults", act: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`#faults summary`)),
			chromedp.SendKeys(chromedp.CSS(`#add-fault input[name="path"]`), "/connect_ats/jobs"), chromedp.SendKeys(chromedp.CSS(`#add-fault input[name="status"]`), "503"),
			chromedp.Click(chromedp.CSS(`#add-fault button`))}, says: "Fault rule fault-1 added"},
		{name: "add a fault, refused", page: "/_mock/ui/faults", act: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`#faults summary`)),
			chromedp.SendKeys(chromedp.CSS(`#add-fault input[name="path"]`), "/connect_ats/jobs"), chromedp.Click(chromedp.CSS(`#add-fault button`))}, bad: true, says: "needs an effect"},
		{name: "remove a fault", page: "/_mock/ui/faults", act: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`form[action$="/faults/fault-1/remove"] button`))}, says: "Fault rule fault-1 removed"},
	}
	for _, s := range steps {
		b.load(s.name+": the page", chromedp.Navigate(h.URL+s.page))
		if s.before != nil {
			s.before()
		}
		b.do(s.name, s.act[:len(s.act)-1]...)
		if status := b.load(s.name, s.act[len(s.act)-1]); status != 200 {
			t.Fatalf("%s ended on %d", s.name, status)
		}
		if got := b.text("#flash"); !strings.Contains(got, s.says) {
			t.Fatalf("%s: the message says %q, want %q", s.name, got, s.says)
		}
		if !eval[bool](b, inView("#flash")) || eval[string](b, `document.activeElement.id`) != "flash" || eval[float64](b, `scrollY`) != 0 {
			t.Fatalf("%s: the message is not in view and focused at the top (scrolled to %v)", s.name, eval[float64](b, `scrollY`))
		}
		if bad := eval[bool](b, `document.getElementById("flash").classList.contains("bad") && document.getElementById("flash").getAttribute("role") === "alert"`); bad != s.bad {
			t.Fatalf("%s: shown as a refusal: %v, want %v", s.name, bad, s.bad)
		}
		if s.name == "complete, refused" {
			b.shot("refused")
		}
	}
}

// On a 390 px wide phone every row of the console shows its state and its actions inside the
// viewport, and the page does not scroll sideways.
func TestConsoleOnAPhone(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	a := newATS(t, h)
	for _, name := range []string{"Rembrandt", "Judith", "Frans"} {
		a.invite(name, "Van Rijn-Leyster-Hals", testenv.CallbackURL+"/a/very/long/callback/path/that/does/not/break", "email")
	}
	ref := a.invite("Carel", "Fabritius", testenv.CallbackURL, "one_time_link")["reference_id"].(string)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+ref+"/start", ""), 200)
	b.do("a phone's viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	for _, page := range []string{"/_mock/ui", "/_mock/ui/callbacks", "/_mock/ui/journal"} {
		b.load(page, chromedp.Navigate(h.URL+page))
		if eval[bool](b, `document.documentElement.scrollWidth > innerWidth`) {
			t.Fatalf("%s scrolls sideways on a phone (%d px wide)", page, eval[int](b, `document.documentElement.scrollWidth`))
		}
		out := eval[[]string](b, `[...document.querySelectorAll("tr[id] .badge, tr[id] td button, tr[id] td select")].filter(e => {
			const r = e.getBoundingClientRect(); return r.width === 0 || r.left < 0 || r.right > innerWidth }).map(e => e.closest("tr").id + " " + e.textContent.trim())`)
		if len(out) > 0 {
			t.Fatalf("%s: on a phone these are not inside the viewport: %v", page, out)
		}
		b.axeCheck(page + " on a phone")
	}
	b.load("applications", chromedp.Navigate(h.URL+"/_mock/ui"))
	if n := eval[int](b, `document.querySelectorAll("tr[data-ref] button").length`); n < 4 {
		t.Fatalf("%d action buttons on the phone's page", n)
	}
	b.shot("phone")
	b.do("back to a laptop", chromedp.EmulateViewport(1280, 900))
}

// The chart as Chromium draws it: the colours it computes for each cell and marker are at least
// 3:1 apart where a reader must tell them apart (WCAG 1.4.11), markers inside and outside the range
// differ in shape too, and the legend names every colour drawn.
func TestChartContrastInChromium(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	a := newATS(t, h)
	ref := completed(t, h, a, "Judith") // attention to detail 2: outside its range 3-5
	b.load("open the public link", chromedp.Navigate(a.get("/connect_ats/applications/" + ref + "/public_link")["url"].(string)))
	type shape struct {
		Trait, Kind, Tag, Fill, Stroke, Under string
	}
	var shapes []shape
	raw := eval[string](b, `JSON.stringify([...document.querySelectorAll("li.trait")].flatMap(li => {
		const card = getComputedStyle(li.closest(".card")).backgroundColor;
		const cells = [...li.querySelectorAll("svg.scale-chart rect")], mark = li.querySelector(".mark"), score = Number(li.dataset.score);
		const css = e => getComputedStyle(e);
		return [...cells.map(c => ({Trait: li.dataset.trait, Kind: c.classList.contains("in") ? "in" : "out", Tag: "rect", Fill: css(c).fill, Stroke: css(c).stroke === "none" ? "" : css(c).stroke, Under: card})),
			{Trait: li.dataset.trait, Kind: mark.classList.contains("miss") ? "miss" : "mark", Tag: mark.tagName, Fill: css(mark).fill, Stroke: "", Under: css(cells[score - 1]).fill}];
	}))`)
	if err := json.Unmarshal([]byte(raw), &shapes); err != nil {
		t.Fatal(err)
	}
	legend := eval[[]string](b, `[...document.querySelectorAll("#legend li")].filter(li => li.textContent.trim()).flatMap(li => [...li.querySelectorAll("rect, circle, polygon")].map(e => getComputedStyle(e).fill))`)
	inLegend := map[string]bool{}
	for _, c := range legend {
		inLegend[c] = true
	}
	fills := map[string]string{} // kind → fill
	tags := map[string]string{}
	for _, s := range shapes {
		fills[s.Kind], tags[s.Kind] = s.Fill, s.Tag
		if !inLegend[s.Fill] {
			t.Errorf("%s: the %s colour %s is not in the legend", s.Trait, s.Kind, s.Fill)
		}
		switch s.Kind {
		case "in", "out":
			edge := testenv.Contrast(t, s.Fill, s.Under)
			if s.Stroke != "" {
				edge = math.Max(edge, testenv.Contrast(t, s.Stroke, s.Under))
			}
			if edge < 3 {
				t.Errorf("%s: a cell %s (%s, outline %q) is %.2f:1 against the card %s", s.Trait, s.Kind, s.Fill, s.Stroke, edge, s.Under)
			}
		default:
			if r := testenv.Contrast(t, s.Fill, s.Under); r < 3 {
				t.Errorf("%s: the %s marker %s is %.2f:1 against its cell %s", s.Trait, s.Kind, s.Fill, r, s.Under)
			}
		}
	}
	if r := testenv.Contrast(t, fills["in"], fills["out"]); r < 3 {
		t.Errorf("cells in and outside the range are %.2f:1 apart (%s, %s)", r, fills["in"], fills["out"])
	}
	if r := testenv.Contrast(t, fills["mark"], fills["miss"]); r < 3 || tags["mark"] == tags["miss"] {
		t.Errorf("markers in and outside the range: %.2f:1 apart, shapes %s and %s", r, tags["mark"], tags["miss"])
	}
	b.shot("chart")
}

// The live switch brings a new application onto the page, then polls with the page's ETag: the
// mock answers 304, so an unchanged page costs a few hundred bytes every 2 s, not the page.
func TestConsoleLiveRefresh(t *testing.T) {
	b := newTab(t)
	h := newEnv(t)
	a := newATS(t, h)
	a.invite("Rembrandt", "Van Rijn", testenv.CallbackURL, "")
	b.load("console", chromedp.Navigate(h.URL+"/_mock/ui"))
	b.do("live on", chromedp.Click(chromedp.ID("live")), chromedp.Blur(chromedp.ID("live")))
	ref := a.invite("Judith", "Leyster", testenv.CallbackURL, "")["reference_id"].(string)
	b.do("the new application appears", chromedp.WaitVisible(chromedp.CSS(`tr[data-ref="`+ref+`"]`)))
	// Wait on the page's own polls, five of them at most, for one of the unchanged page.
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`new Promise((resolve, reject) => { const seen = () => {
		const polls = performance.getEntriesByType("resource").filter(e => e.initiatorType === "fetch");
		const same = polls.find(e => e.responseStatus === 304);
		if (same) resolve(JSON.stringify({n: polls.length, bytes: same.transferSize}));
		else if (polls.length > 5) reject(new Error(polls.length + " polls, none answered 304: " + polls.map(e => e.responseStatus + " " + e.transferSize + " B").join(", ")));
		else setTimeout(seen, 200) }; seen() })`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("waiting for a poll of the unchanged page: %v", err)
	}
	var poll struct{ N, Bytes int }
	if err := json.Unmarshal([]byte(got), &poll); err != nil {
		t.Fatal(err)
	}
	if poll.Bytes > 1000 {
		t.Fatalf("an unchanged page's poll transferred %d bytes", poll.Bytes)
	}
	t.Logf("%d polls; an unchanged page's: 304, %d bytes", poll.N, poll.Bytes)
}

// Every page type, in English and Dutch, passes axe-core (WCAG 2 A and AA, best practices) with
// no violation; along the way the words the issue found wrong are checked.
func TestAccessibility(t *testing.T) {
	requireAxe(t)
	b := newTab(t)
	h := newEnv(t, func(o *app.Options) { o.AdminToken = "s3cret" })
	a := newATS(t, h)
	ctl := func(path, body string) {
		t.Helper()
		testenv.WantStatus(t, h.Do(http.MethodPost, path, body, testenv.Bearer("s3cret")), 200)
	}
	invite := func(first string) map[string]any {
		return a.invite(first, "Van Rijn", testenv.CallbackURL, "one_time_link")
	}
	open := invite("Rembrandt")
	done := invite("Judith")
	ctl("/_mock/applications/"+done["reference_id"].(string)+"/complete", `{"scores":{"attention_to_detail":2}}`)
	gone := invite("Frans")
	h.Do(http.MethodDelete, "/connect_ats/applications/"+gone["reference_id"].(string)+"/anonymize_application", "", testenv.Bearer(a.tok))
	late := invite("Carel")
	public := map[string]string{}
	for _, loc := range []string{"en", "nl"} {
		public[loc] = a.get("/connect_ats/applications/" + done["reference_id"].(string) + "/public_link?locale=" + loc)["url"].(string)
	}
	in := func(link any, loc string) string { return strings.Replace(link.(string), "/en/", "/"+loc+"/", 1) }

	visit := func(name, url string, status int64, says ...string) {
		t.Helper()
		if got := b.load(name, chromedp.Navigate(url)); got != status {
			t.Fatalf("%s: %d, want %d", name, got, status)
		}
		body := eval[string](b, `document.body.innerText`)
		for _, s := range says {
			if !strings.Contains(body, s) {
				t.Errorf("%s does not say %q", name, s)
			}
		}
		b.axeCheck(name)
		b.shot(strings.NewReplacer(" ", "-", "(", "", ")", "", ",", "").Replace(name))
	}
	for _, loc := range []string{"en", "nl"} {
		visit("assessment ("+loc+")", in(open["assessment_url"], loc), 200)
		visit("public results ("+loc+")", public[loc], 200)
		visit("assessment already completed ("+loc+")", in(done["assessment_url"], loc), http.StatusGone)
		visit("assessment anonymized ("+loc+")", in(gone["assessment_url"], loc), http.StatusGone)
		if body := eval[string](b, `document.body.innerText`); strings.Contains(body, "withdrawn") {
			t.Errorf("the anonymized assessment says withdrawn: %q", body)
		}
		visit("invalid link ("+loc+")", h.URL+"/"+loc+"/assessments/1/token/SFMyNTY.x.y", http.StatusNotFound)
		visit("dashboard sign-in ("+loc+")", h.URL+"/dashboard/"+loc+"/sign_in", 200)
	}
	b.load("the sent-back form", chromedp.Navigate(open["assessment_url"].(string)))
	eval[bool](b, dropChecks)
	b.do("answer one", chromedp.Click(chromedp.CSS(`input[name="a.working_memory.1"][value="2"]`)))
	b.load("submit", chromedp.Click(chromedp.ID("submit")))
	b.axeCheck("assessment sent back (en)")
	eval[bool](b, answerAll)
	b.load("submit all", chromedp.Click(chromedp.ID("submit")))
	b.axeCheck("thank-you (en)")
	visit("thank-you (nl)", in(open["assessment_url"], "nl")+"/thanks", 200, "Bedankt, Rembrandt!")

	// The dashboard, signed in.
	b.load("sign in", chromedp.Navigate(h.URL+"/dashboard/nl/sign_in"))
	b.do("wrong secret", chromedp.SendKeys(chromedp.CSS(`input[name="client_id"]`), "demo-client"),
		chromedp.SendKeys(chromedp.CSS(`input[name="client_secret"]`), "wrong"))
	b.load("sign in", chromedp.Click(chromedp.ID("sign-in")))
	b.axeCheck("dashboard sign-in failed (nl)")
	b.do("right secret", chromedp.SendKeys(chromedp.CSS(`input[name="client_secret"]`), "demo-secret"))
	b.load("sign in", chromedp.Click(chromedp.ID("sign-in")))
	for _, loc := range []string{"en", "nl"} {
		visit("candidates ("+loc+")", h.URL+"/dashboard/"+loc+"/candidates", 200)
		visit("candidate with results ("+loc+")", h.URL+"/dashboard/"+loc+"/candidates/"+done["reference_id"].(string), 200)
		visit("candidate without results ("+loc+")", h.URL+"/dashboard/"+loc+"/candidates/"+late["reference_id"].(string), 200)
	}
	visit("candidate anonymized (nl)", h.URL+"/dashboard/nl/candidates/"+gone["reference_id"].(string), 200, "Geanonimiseerde kandidaat")
	visit("candidate not found (en)", h.URL+"/dashboard/en/candidates/"+testenv.UnknownUUID, http.StatusNotFound)

	// The console: its sign-in, then every page.
	visit("console sign-in", h.URL+"/_mock/ui", 200)
	b.do("wrong token", chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), "guess"))
	b.load("sign in", chromedp.Click(chromedp.ID("sign-in")))
	b.axeCheck("console sign-in failed")
	b.do("token", chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), "s3cret"))
	b.load("sign in", chromedp.Click(chromedp.ID("sign-in")))
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/faults", `{"path":"/connect_ats/jobs","status":503,"times":1}`, testenv.Bearer("s3cret")), 201)
	testenv.Settle(t, h.App)
	for _, p := range []string{"", "/callbacks", "/webhooks", "/outbox", "/journal", "/faults"} {
		visit("console "+strings.TrimPrefix(p, "/"), h.URL+"/_mock/ui"+p, 200)
	}
	b.load("an action", chromedp.Click(chromedp.CSS(`form[action$="/clock/unfreeze"] button`)))
	b.axeCheck("console with a message")
	visit("console error page", h.URL+"/_mock/ui/nothing", http.StatusNotFound)

	// Time passes: the expired pages, which say so once.
	ctl("/_mock/clock/advance", `{"by":"169h"}`)
	for _, loc := range []string{"en", "nl"} {
		visit("public link expired ("+loc+")", public[loc], http.StatusGone)
		if n := strings.Count(strings.ToLower(eval[string](b, `document.querySelector("main").innerText`)), map[string]string{"en": "expired", "nl": "verlopen"}[loc]); n != 1 {
			t.Errorf("the expired public link (%s) says it expired %d times", loc, n)
		}
		visit("assessment expired ("+loc+")", in(late["assessment_url"], loc), http.StatusGone)
	}
	if status, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`fetch("/favicon.ico").then(r => r.status)`, chromedp.EvalAwaitPromise)); err != nil || status != 200 {
		t.Errorf("/favicon.ico: %d, %v", status, err)
	}
}
