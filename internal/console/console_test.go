package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// console opens the console in a new browser and returns it with the page's CSRF token.
func console(t *testing.T, h *testenv.Env) (*testenv.Browser, string) {
	t.Helper()
	b := testenv.NewBrowser(t, h.URL)
	p := b.Get("/_mock/ui")
	testenv.WantPage(t, p, 200)
	m := csrfRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no CSRF token on the console:\n%s", p.Body)
	}
	return b, m[1]
}

func invite(t *testing.T, h *testenv.Env, first, callbackURL string) service.Application {
	t.Helper()
	app, err := h.App.Service.Invite(testenv.DemoID, service.Invitation{
		JobID: testenv.EngineerJob, CallbackURL: callbackURL,
		Applicant: domain.Applicant{FirstName: first, LastName: "Hals", Email: "frans@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func TestSections(t *testing.T) {
	h := testenv.New(t)
	app := invite(t, h, "Frans", testenv.CallbackURL)
	h.Token(testenv.DemoID, testenv.DemoSecret) // a journal entry
	b := testenv.NewBrowser(t, h.URL)
	for path, says := range map[string][]string{
		"/_mock/ui": {"Mock console", `<a href="/_mock/ui" aria-current="page">Applications</a>`, "2026-11-28 12:00:00 UTC", "frozen",
			"Frans Hals", app.ReferenceID, "First assessment job - Engineer", "invited 2026-11-28 12:00:00 UTC", `href="` + app.AssessmentURL + `"`},
		"/_mock/ui/callbacks": {`aria-current="page">Callbacks</a>`, "No callbacks yet", "2026-11-28 12:00:00 UTC"},
		"/_mock/ui/webhooks":  {`aria-current="page">Webhooks</a>`, "No webhooks."},
		"/_mock/ui/outbox":    {`aria-current="page">Outbox</a>`, "Your assessment for First assessment job - Engineer", "to frans@example.com"},
		"/_mock/ui/journal":   {`aria-current="page">Journal</a>`, "POST /connect_ats/access_token", "createAccessToken"},
		"/_mock/ui/faults":    {`aria-current="page">Faults</a>`, "No fault rules", "Add a fault rule"},
	} {
		testenv.WantPage(t, b.Get(path), 200, says...)
	}

	filtered := b.Get("/_mock/ui?client=other-client")
	if strings.Contains(filtered.Body, "Frans Hals") || !strings.Contains(filtered.Body, `<option value="other-client" selected>`) {
		t.Fatal("filtering by client shows another client's application")
	}
	// The client filter follows the operator to the other pages.
	if !strings.Contains(filtered.Body, `<a href="/_mock/ui/outbox?client=other-client">Outbox</a>`) {
		t.Fatal("the sections do not keep the client filter")
	}
	if p := b.Get("/_mock/ui/outbox?client=other-client"); strings.Contains(p.Body, "frans@example.com") {
		t.Fatal("the outbox filtered by client shows another client's email")
	}
	if p := b.Get("/_mock/ui?state=completed"); strings.Contains(p.Body, "Frans Hals") || !strings.Contains(p.Body, "match the filter") {
		t.Fatal("filtering by state shows an invited application")
	}
	if p := b.Get("/_mock/ui?state=invited&client=demo-client"); !strings.Contains(p.Body, "Frans Hals") {
		t.Fatal("filtering by state and client hides a match")
	}
	if p := b.Get("/_mock/ui/"); p.Status != http.StatusMovedPermanently || p.Location != "/_mock/ui" {
		t.Fatalf("/_mock/ui/: %d to %q", p.Status, p.Location)
	}
	testenv.WantPage(t, b.Get("/_mock/ui/nothing"), http.StatusNotFound, "No console page")
	// The control API is still the control API.
	if r := h.Do(http.MethodGet, "/_mock/clock", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"frozen":true`) {
		t.Fatalf("GET /_mock/clock: %d %s", r.Status, r.Body)
	}
}

func TestActions(t *testing.T) {
	var received atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { received.Add(1) }))
	t.Cleanup(receiver.Close)

	tests := map[string]struct {
		before func(h *testenv.Env, ref string) string // returns the path's id when it is not the application's
		path   string                                  // with {ref} or {id}
		form   url.Values
		flash  string
		check  func(t *testing.T, h *testenv.Env, ref string)
	}{
		"advance the clock": {path: "/_mock/ui/clock/advance", form: url.Values{"by": {"2h1m"}}, flash: "Clock advanced by 2h1m0s",
			check: func(t *testing.T, h *testenv.Env, _ string) {
				if got := h.Clock.Now(); !got.Equal(testenv.T0.Add(2*time.Hour + time.Minute)) {
					t.Fatalf("clock at %v", got)
				}
			}},
		"advance by nonsense": {path: "/_mock/ui/clock/advance", form: url.Values{"by": {"soon"}}, flash: `Advance failed: &#34;soon&#34; is not a duration`},
		"advance back": {path: "/_mock/ui/clock/advance", form: url.Values{"by": {"-1h"}}, flash: "Advance failed: the clock only advances",
			check: func(t *testing.T, h *testenv.Env, _ string) {
				if got := h.Clock.Now(); !got.Equal(testenv.T0) {
					t.Fatalf("clock at %v", got)
				}
			}},
		"unfreeze":                 {path: "/_mock/ui/clock/unfreeze", flash: "Clock running again", check: func(t *testing.T, h *testenv.Env, _ string) { wantFrozen(t, h, false) }},
		"freeze":                   {path: "/_mock/ui/clock/freeze", flash: "Clock frozen at 2026-11-28T12:00:00Z", check: func(t *testing.T, h *testenv.Env, _ string) { wantFrozen(t, h, true) }},
		"start":                    {path: "/_mock/ui/applications/{ref}/start", flash: "started", check: wantState(domain.Started)},
		"complete with a fit":      {path: "/_mock/ui/applications/{ref}/complete", form: url.Values{"fit": {"low"}}, flash: "completed with fit low", check: wantFit("low")},
		"complete, drawn":          {path: "/_mock/ui/applications/{ref}/complete", flash: "completed", check: wantState(domain.Completed)},
		"complete, a bad fit":      {path: "/_mock/ui/applications/{ref}/complete", form: url.Values{"fit": {"perfect"}}, flash: "failed: fit must be low, medium or high", check: wantState(domain.Invited)},
		"expire":                   {path: "/_mock/ui/applications/{ref}/expire", flash: "expired", check: wantState(domain.Expired)},
		"complete twice":           {before: completeFirst, path: "/_mock/ui/applications/{ref}/complete", flash: "failed: The assessment cannot be completed: the application is completed"},
		"unknown application":      {path: "/_mock/ui/applications/00000000-0000-4000-8000-000000000000/start", flash: "failed: Not Found"},
		"unknown action":           {path: "/_mock/ui/applications/{ref}/hire", flash: "No application action hire"},
		"add a fault":              {path: "/_mock/ui/faults", form: url.Values{"method": {"get"}, "path": {"/connect_ats/jobs"}, "status": {"503"}, "times": {"1"}}, flash: "Fault rule fault-1 added", check: wantFaults(1)},
		"add a fault, no effect":   {path: "/_mock/ui/faults", form: url.Values{"path": {"/connect_ats/jobs"}}, flash: "failed: status a rule needs an effect", check: wantFaults(0)},
		"add a fault, bad latency": {path: "/_mock/ui/faults", form: url.Values{"latency": {"slow"}}, flash: "latency must be a duration", check: wantFaults(0)},
		"remove a fault": {before: func(h *testenv.Env, _ string) string {
			r := h.Do(http.MethodPost, "/_mock/faults", `{"path":"/connect_ats/jobs","status":503}`)
			return r.JSON(t)["id"].(string)
		}, path: "/_mock/ui/faults/{id}/remove", flash: "Fault rule fault-1 removed", check: wantFaults(0)},
		"remove no fault": {path: "/_mock/ui/faults/fault-9/remove", flash: "No fault rule fault-9"},
		"redeliver": {before: func(h *testenv.Env, ref string) string {
			completeFirst(h, ref)
			testenv.Settle(t, h.App)
			return h.App.Service.Deliveries(delivery.Filter{ReferenceID: ref})[0].ID
		}, path: "/_mock/ui/callbacks/{id}/redeliver", flash: "is being sent again", check: func(t *testing.T, h *testenv.Env, ref string) {
			testenv.Settle(t, h.App)
			if d := h.App.Service.Deliveries(delivery.Filter{ReferenceID: ref})[0]; len(d.Attempts) != 2 || d.Status != delivery.Delivered {
				t.Fatalf("after redelivering: %s, %d attempts", d.Status, len(d.Attempts))
			}
		}},
		"redeliver nothing": {path: "/_mock/ui/callbacks/dlv_9/redeliver", flash: "failed: No delivery"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := testenv.New(t)
			ref := invite(t, h, "Frans", receiver.URL+"/cb").ReferenceID
			id := ref
			if tc.before != nil {
				if got := tc.before(h, ref); got != "" {
					id = got
				}
			}
			b, token := console(t, h)
			const back = "/_mock/ui?state=invited&page=1"
			form := url.Values{"csrf": {token}, "back": {back}}
			for k, v := range tc.form {
				form[k] = v
			}
			path := strings.NewReplacer("{ref}", ref, "{id}", id).Replace(tc.path)
			p := b.Post(path, form)
			if p.Status == http.StatusSeeOther {
				// Back where the action was taken, filters and page kept, and no fragment: it
				// scrolled the page away from the message at its top.
				if p.Location != back {
					t.Fatalf("back to %q, want %q", p.Location, back)
				}
				p = b.Get(p.Location)
			}
			testenv.WantPage(t, p, p.Status, tc.flash)
			if p.Status == 200 && !regexp.MustCompile(`<p class="alert (ok|bad)" role="(status|alert)" id="flash" tabindex="-1"><span id="flash-text">`).MatchString(p.Body) {
				t.Fatalf("the message is not the page's status or alert:\n%s", p.Body)
			}
			if tc.check != nil {
				tc.check(t, h, ref)
			}
			if again := b.Get("/_mock/ui"); strings.Contains(again.Body, `id="flash"`) {
				t.Fatal("the message shows twice")
			}
		})
	}
}

func completeFirst(h *testenv.Env, ref string) string {
	_, _ = h.App.Service.Complete(ref, service.Completion{})
	return ""
}

func wantFrozen(t *testing.T, h *testenv.Env, want bool) {
	t.Helper()
	if got := h.Clock.State().Frozen; got != want {
		t.Fatalf("frozen = %v, want %v", got, want)
	}
}

func wantState(want domain.Status) func(*testing.T, *testenv.Env, string) {
	return func(t *testing.T, h *testenv.Env, ref string) {
		t.Helper()
		if app, _ := h.App.Service.Lookup(ref); app.Status != want {
			t.Fatalf("state %s, want %s", app.Status, want)
		}
	}
}

func wantFit(want string) func(*testing.T, *testenv.Env, string) {
	return func(t *testing.T, h *testenv.Env, ref string) {
		t.Helper()
		app, _ := h.App.Service.Lookup(ref)
		if got := h.App.Service.Render(app, "en").Fit; app.Status != domain.Completed || got != want {
			t.Fatalf("%s with fit %s, want completed with %s", app.Status, got, want)
		}
	}
}

func wantFaults(n int) func(*testing.T, *testenv.Env, string) {
	return func(t *testing.T, h *testenv.Env, _ string) {
		t.Helper()
		if got := len(h.App.Faults.List()); got != n {
			t.Fatalf("%d fault rules, want %d", got, n)
		}
	}
}

// Forms are refused without the browser's own CSRF token, and from other origins.
func TestForgedForms(t *testing.T) {
	h := testenv.New(t)
	ref := invite(t, h, "Frans", testenv.CallbackURL).ReferenceID
	b, token := console(t, h)
	_, otherToken := console(t, h)
	path := "/_mock/ui/applications/" + ref + "/complete"
	tests := map[string]struct {
		form    url.Values
		headers []string
	}{
		"no token":                   {url.Values{}, nil},
		"a wrong token":              {url.Values{"csrf": {"x" + token}}, nil},
		"another browser's token":    {url.Values{"csrf": {otherToken}}, nil},
		"from another site":          {url.Values{"csrf": {token}}, []string{"Sec-Fetch-Site", "cross-site"}},
		"from another port (origin)": {url.Values{"csrf": {token}}, []string{"Origin", "http://localhost:3000"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if p := b.Post(path, tc.form, tc.headers...); p.Status != http.StatusForbidden {
				t.Fatalf("status %d, want 403", p.Status)
			}
		})
	}
	if p := testenv.NewBrowser(t, h.URL).Post(path, url.Values{"csrf": {token}}); p.Status != http.StatusForbidden {
		t.Fatalf("a token without its cookie: %d", p.Status)
	}
	if app, _ := h.App.Service.Lookup(ref); app.Status != domain.Invited {
		t.Fatalf("a refused form completed the application: %s", app.Status)
	}
	if p := b.Post(path, url.Values{"csrf": {token}}, "Sec-Fetch-Site", "same-origin"); p.Status != http.StatusSeeOther {
		t.Fatalf("the console's own form: %d", p.Status)
	}
}

func TestAdminTokenSignIn(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) { o.AdminToken = "s3cret" })
	b := testenv.NewBrowser(t, h.URL)
	if p := b.Get("/_mock/ui"); p.Status != http.StatusSeeOther || p.Location != "/_mock/ui/sign_in" {
		t.Fatalf("signed out: %d to %q", p.Status, p.Location)
	}
	if p := b.Post("/_mock/ui/clock/freeze", url.Values{}); p.Status != http.StatusSeeOther || p.Location != "/_mock/ui/sign_in" {
		t.Fatalf("an action signed out: %d to %q", p.Status, p.Location)
	}
	form := b.Get("/_mock/ui/sign_in")
	testenv.WantPage(t, form, 200, "--admin-token", `type="password" name="token"`)
	token := csrfRE.FindStringSubmatch(form.Body)[1]
	testenv.WantPage(t, b.Post("/_mock/ui/sign_in", url.Values{"csrf": {token}, "token": {"guess"}}), http.StatusUnprocessableEntity, "not the admin token")
	p := b.Post("/_mock/ui/sign_in", url.Values{"csrf": {token}, "token": {"s3cret"}})
	if p.Status != http.StatusSeeOther || p.Location != "/_mock/ui" {
		t.Fatalf("signing in: %d to %q", p.Status, p.Location)
	}
	cookie := p.Header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/_mock/ui"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "s3cret") {
		t.Fatal("the cookie holds the admin token")
	}
	testenv.WantPage(t, b.Get("/_mock/ui"), 200, "Mock console", "Sign out")
	// The control API still wants the token as a Bearer: the console's cookie is not it.
	if r := h.Do(http.MethodGet, "/_mock/clock", ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("the control API without the token: %d", r.Status)
	}

	// A cookie signed in under another admin token (same signing key) does not sign in here.
	h2 := testenv.New(t, func(o *app.Options) { o.AdminToken = "other" })
	req, _ := http.NewRequest(http.MethodGet, h2.URL+"/_mock/ui", nil)
	req.Header.Set("Cookie", strings.Split(cookie, ";")[0])
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another admin token's cookie: %d", res.StatusCode)
	}

	csrf := csrfRE.FindStringSubmatch(b.Get("/_mock/ui").Body)[1]
	if p := b.Post("/_mock/ui/sign_out", url.Values{"csrf": {csrf}}); p.Status != http.StatusSeeOther || b.Get("/_mock/ui").Status != http.StatusSeeOther {
		t.Fatalf("signing out: %d, and the console still shows", p.Status)
	}
}

// Whatever an ATS sends — names, emails, callback URLs, request bodies — is text on the console.
func TestUserValuesAreEscaped(t *testing.T) {
	h := testenv.New(t)
	const evil = `<script>alert(1)</script>`
	invite(t, h, evil, testenv.CallbackURL+"?x=</code><script>alert(2)</script>")
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	h.Do(http.MethodPost, "/connect_ats/applications", `{"job_id":"`+testenv.EngineerJob+`","callback_url":"`+testenv.CallbackURL+`",`+
		`"applicant_details":{"first_name":"<img src=x onerror=alert(3)>","last_name":"`+evil+`","email":"evil@example.com"}}`, testenv.Bearer(tok))
	b := testenv.NewBrowser(t, h.URL)
	p := b.Get("/_mock/ui")
	testenv.WantPage(t, p, 200, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(3)&gt;")
	p.Body += b.Get("/_mock/ui/journal").Body
	for _, raw := range []string{evil, "<script>alert(2)", "<img src=x"} {
		if strings.Contains(p.Body, raw) {
			t.Errorf("the console has %q unescaped", raw)
		}
	}
	if n := strings.Count(p.Body, "<script"); n != 2 {
		t.Fatalf("%d script elements in two pages, want only the console's own", n)
	}
}

// The console shows every client's webhooks (never a secret) and which deliveries are events.
func TestOverviewShowsWebhooksAndEvents(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	h := testenv.New(t)
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(rcv.Close)
	if _, err := h.App.Service.RegisterWebhook(testenv.DemoID, service.WebhookRegistration{Label: "ats-prod", URL: rcv.URL + "/events", Secret: secret}); err != nil {
		t.Fatal(err)
	}
	app := invite(t, h, "Judith", rcv.URL+"/results")
	if _, err := h.App.Service.Start(app.ReferenceID); err != nil {
		t.Fatal(err)
	}
	testenv.Settle(t, h.App)
	b := testenv.NewBrowser(t, h.URL)
	p := b.Get("/_mock/ui")
	testenv.WantPage(t, p, 200, `<a href="/_mock/ui/webhooks">Webhooks</a>`)
	p = b.Get("/_mock/ui/webhooks")
	testenv.WantPage(t, p, 200, "ats-prod", rcv.URL+"/events", "whsec_MfKQ…")
	testenv.WantPage(t, b.Get("/_mock/ui/callbacks"), 200, "event <strong>assessment_started</strong> · webhook ats-prod", "POST "+rcv.URL+"/events")
	if strings.Contains(p.Body, secret) {
		t.Fatal("the console shows a webhook's secret")
	}
	if p := b.Get("/_mock/ui/webhooks?client=other-client"); strings.Contains(p.Body, "ats-prod") || !strings.Contains(p.Body, "No webhooks of this client") {
		t.Fatal("filtering by client shows another client's webhook")
	}
	h.Clock.Advance(time.Minute)
	if _, err := h.App.Service.RegisterWebhook(testenv.DemoID, service.WebhookRegistration{Label: "ats-prod", URL: rcv.URL + "/moved"}); err != nil {
		t.Fatal(err)
	}
	testenv.WantPage(t, b.Get("/_mock/ui/webhooks"), 200, rcv.URL+"/moved", "updated 2026-11-28 12:01:00 UTC")
}
