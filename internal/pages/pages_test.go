package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// path is the request URI of a link the mock handed out.
func path(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

func invite(t *testing.T, h *testenv.Env, first string) service.Application {
	t.Helper()
	app, err := h.App.Service.Invite(testenv.DemoID, service.Invitation{
		JobID: testenv.EngineerJob, CallbackURL: testenv.CallbackURL, InvitationType: domain.InviteOneTimeLink,
		Applicant: domain.Applicant{FirstName: first, LastName: "Van Rijn", Email: "rembrandt@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// answers fills the engineer job's questionnaire: every statement of a trait answered the same,
// 3 unless byTrait says otherwise.
func answers(byTrait map[string]int) url.Values {
	f := url.Values{}
	for _, tr := range []string{"problem_solving_ability", "working_memory", "problem_solving_style", "attention_to_detail", "cognitive_flexibility"} {
		v := byTrait[tr]
		if v == 0 {
			v = 3
		}
		for i := 0; i < 3; i++ {
			f.Set(fmt.Sprintf("a.%s.%d", tr, i), fmt.Sprint(v))
		}
	}
	return f
}

func publicLink(t *testing.T, h *testenv.Env, ref, locale string) string {
	t.Helper()
	pl, err := h.App.Service.PublicLink(testenv.DemoID, ref, locale)
	if err != nil {
		t.Fatal(err)
	}
	return path(t, pl.URL)
}

func TestAssessmentPage(t *testing.T) {
	tests := map[string]struct {
		before   func(h *testenv.Env, ref string)
		method   string
		locale   string // of the link ("en" as handed out)
		form     url.Values
		status   int
		contains []string
		lacks    []string // said nowhere on the page
		once     []string // said exactly once
		after    func(t *testing.T, h *testenv.Env, ref string)
	}{
		"open": {status: 200, contains: []string{"Hello Rembrandt,", "First assessment job - Engineer", "Part 1 of 5 · Problem solving ability",
			"I enjoy puzzles", "Strongly agree", "not Equalture&#39;s real games", "0 of 15 answered"},
			after: func(t *testing.T, h *testenv.Env, ref string) { wantStatus(t, h, ref, domain.Started) }},
		"open in Dutch": {locale: "nl", status: 200, contains: []string{"Hallo Rembrandt,", "Deel 1 van 5 · Probleemoplossend vermogen",
			"Ik houd van puzzels", "Helemaal eens", `lang="nl"`}},
		"submit answers": {method: http.MethodPost, form: answers(map[string]int{"working_memory": 5, "attention_to_detail": 1}),
			status: 200, contains: []string{"Thank you, Rembrandt!", "Your answers for First assessment job - Engineer have been sent"},
			after: func(t *testing.T, h *testenv.Env, ref string) {
				app, _ := h.App.Service.Lookup(ref)
				want := map[string]int{"problem_solving_ability": 3, "working_memory": 5, "problem_solving_style": 3, "attention_to_detail": 1, "cognitive_flexibility": 3}
				if app.Status != domain.Completed || !reflect.DeepEqual(app.Scores.Map(), want) {
					t.Fatalf("after submitting: %s %v, want completed %v", app.Status, app.Scores, want)
				}
			}},
		"submit in Dutch": {method: http.MethodPost, locale: "nl", form: answers(nil), status: 200, contains: []string{"Bedankt, Rembrandt!"}},
		"submit incomplete": {method: http.MethodPost, form: url.Values{"a.working_memory.0": {"5"}, "a.working_memory.1": {"4"}},
			status: http.StatusUnprocessableEntity, contains: []string{"Please answer every statement: 13 still open.", `value="5" required checked`, `class="q missing"`},
			after: func(t *testing.T, h *testenv.Env, ref string) { wantStatus(t, h, ref, domain.Started) }},
		// The case: only the second statement of one trait. It used to be dropped with
		// its trait, which left no answers: drawn scores, 200, completed.
		"submit one answer, its trait's first statement open": {method: http.MethodPost, form: url.Values{"a.working_memory.1": {"2"}},
			status: http.StatusUnprocessableEntity, contains: []string{"Please answer every statement: 14 still open.",
				`<div class="alert bad" role="alert" id="missing"`, `<a href="#q-working_memory-0">Part 2 of 5: `, `href="#q-problem_solving_ability-0"`,
				`<fieldset class="q missing" id="q-working_memory-0">`, `id="q-working_memory-0-error">Please answer this statement.`,
				`aria-invalid="true" aria-describedby="q-working_memory-0-error"`, `<fieldset class="q" id="q-working_memory-1">`,
				`name="a.working_memory.1" value="2" required checked>`},
			lacks: []string{`href="#q-working_memory-1"`},
			after: func(t *testing.T, h *testenv.Env, ref string) { wantStatus(t, h, ref, domain.Started) }},
		"submit one answer, in Dutch": {method: http.MethodPost, locale: "nl", form: url.Values{"a.working_memory.1": {"2"}},
			status: http.StatusUnprocessableEntity, contains: []string{"Beantwoord alle stellingen: er staan er nog 14 open.", "Beantwoord deze stelling.",
				`<a href="#q-working_memory-0">Deel 2 van 5: `},
			after: func(t *testing.T, h *testenv.Env, ref string) { wantStatus(t, h, ref, domain.Started) }},
		"submit an empty answer": {method: http.MethodPost, form: url.Values{"a.working_memory.0": {""}}, status: http.StatusUnprocessableEntity,
			contains: []string{"15 still open"}, after: func(t *testing.T, h *testenv.Env, ref string) { wantStatus(t, h, ref, domain.Started) }},
		"submit nonsense": {method: http.MethodPost, form: url.Values{"a.working_memory": {"5"}}, status: http.StatusUnprocessableEntity,
			contains: []string{"Something went wrong"}},
		"submit nothing: drawn scores, for scripts": {method: http.MethodPost, status: 200, contains: []string{"Thank you"},
			after: func(t *testing.T, h *testenv.Env, ref string) { wantStatus(t, h, ref, domain.Completed) }},
		"used":           {before: complete, status: http.StatusGone, contains: []string{"This assessment has been completed", "can be taken once"}},
		"used, in Dutch": {before: complete, locale: "nl", status: http.StatusGone, contains: []string{"Dit assessment is al afgerond"}},
		"submitted twice": {before: complete, method: http.MethodPost, form: answers(nil), status: http.StatusConflict,
			contains: []string{"This assessment has been completed"}},
		"expired after a week": {before: func(h *testenv.Env, _ string) { h.Clock.Advance(7 * 24 * time.Hour) },
			status: http.StatusGone, once: []string{"has expired"}},
		"expired submit": {before: func(h *testenv.Env, _ string) { h.Clock.Advance(7 * 24 * time.Hour) }, method: http.MethodPost,
			form: answers(nil), status: http.StatusGone, contains: []string{"This link has expired"}},
		"anonymized": {before: func(h *testenv.Env, ref string) { _, _ = h.App.Service.Anonymize(testenv.DemoID, ref) },
			status: http.StatusGone, contains: []string{"This application is no longer available", "The applicant&#39;s data has been removed."},
			lacks: []string{"withdrawn"}},
		"anonymized submit": {before: func(h *testenv.Env, ref string) { _, _ = h.App.Service.Anonymize(testenv.DemoID, ref) },
			method: http.MethodPost, form: answers(nil), status: http.StatusGone, contains: []string{"This application is no longer available"},
			lacks: []string{"withdrawn"}},
		// A HEAD (link checkers, chat previews) learns what a GET would, and starts nothing.
		"head": {method: http.MethodHead, status: 200,
			after: func(t *testing.T, h *testenv.Env, ref string) { wantStatus(t, h, ref, domain.Invited) }},
		"head, expired": {before: func(h *testenv.Env, _ string) { h.Clock.Advance(7 * 24 * time.Hour) }, method: http.MethodHead,
			status: http.StatusGone},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := testenv.New(t)
			app := invite(t, h, "Rembrandt")
			if tc.before != nil {
				tc.before(h, app.ReferenceID)
			}
			link := path(t, app.AssessmentURL)
			if tc.locale != "" {
				link = "/" + tc.locale + strings.TrimPrefix(link, "/en")
			}
			if tc.method == http.MethodPost && tc.before == nil {
				testenv.NewBrowser(t, h.URL).Get(link) // the applicant opens it first
			}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			p := testenv.NewBrowser(t, h.URL).Do(method, link, tc.form)
			testenv.WantPage(t, p, tc.status, tc.contains...)
			for _, s := range tc.lacks {
				if strings.Contains(p.Body, s) {
					t.Errorf("the page says %q:\n%s", s, p.Body)
				}
			}
			for _, s := range tc.once {
				if n := strings.Count(shown(p.Body), s); n != 1 {
					t.Errorf("the page says %q %d times, want once:\n%s", s, n, p.Body)
				}
			}
			if tc.after != nil {
				tc.after(t, h, app.ReferenceID)
			}
		})
	}
	t.Run("forged", func(t *testing.T) {
		h := testenv.New(t)
		link := path(t, invite(t, h, "Rembrandt").AssessmentURL)
		p := testenv.NewBrowser(t, h.URL).Get(link[:len(link)-3] + "xyz")
		testenv.WantPage(t, p, http.StatusNotFound, "This link is not valid")
	})
}

// shown is the part of a page a reader sees: its body, not its head's title.
func shown(page string) string {
	_, body, _ := strings.Cut(page, "<body>")
	return body
}

func complete(h *testenv.Env, ref string) {
	_, _ = h.App.Service.Complete(ref, service.Completion{})
}

func wantStatus(t *testing.T, h *testenv.Env, ref string, want domain.Status) {
	t.Helper()
	if app, _ := h.App.Service.Lookup(ref); app.Status != want {
		t.Fatalf("status %s, want %s", app.Status, want)
	}
}

var chartCell = regexp.MustCompile(`<rect class="cell (in|out)"`)

func TestPublicResultsPageStates(t *testing.T) {
	tests := map[string]struct {
		locale   string
		before   func(h *testenv.Env, ref string)
		status   int
		contains []string
		once     []string
	}{
		"en": {locale: "en", status: 200, contains: []string{"Candidate results", "Fit with the job", "Problem solving ability",
			"Priority: high · Accepted range 3–5", "This link is valid for 120 minutes.", `<svg class="scale-chart"`, `role="img"`}},
		"nl": {locale: "nl", status: 200, contains: []string{"Resultaten van de kandidaat", "Match met de functie", "Probleemoplossend vermogen",
			"Prioriteit: hoog · Geaccepteerd bereik 3–5", "Deze link is 120 minuten geldig."}},
		"a minute before it expires": {locale: "en", before: func(h *testenv.Env, _ string) { h.Clock.Advance(119 * time.Minute) }, status: 200},
		"expired after 120 minutes": {locale: "en", before: func(h *testenv.Env, _ string) { h.Clock.Advance(120 * time.Minute) },
			status: http.StatusGone, contains: []string{"This link has expired"}},
		// The heading and the detail under it said the same: "This link has expired" twice.
		"expired says so once": {locale: "en", before: func(h *testenv.Env, _ string) { h.Clock.Advance(120 * time.Minute) },
			status: http.StatusGone, once: []string{"has expired"}},
		"expired, in Dutch": {locale: "nl", before: func(h *testenv.Env, _ string) { h.Clock.Advance(121 * time.Minute) },
			status: http.StatusGone, contains: []string{"Deze link is verlopen"}},
		"anonymized": {locale: "en", before: func(h *testenv.Env, ref string) { _, _ = h.App.Service.Anonymize(testenv.DemoID, ref) },
			status: http.StatusGone, contains: []string{"This application is no longer available"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := testenv.New(t)
			ref := invite(t, h, "Rembrandt").ReferenceID
			if _, err := h.App.Service.Complete(ref, service.Completion{Scores: map[string]int{"problem_solving_ability": 4}}); err != nil {
				t.Fatal(err)
			}
			link := publicLink(t, h, ref, tc.locale)
			if tc.before != nil {
				tc.before(h, ref)
			}
			p := testenv.NewBrowser(t, h.URL).Get(link)
			testenv.WantPage(t, p, tc.status, tc.contains...)
			for _, s := range tc.once {
				if n := strings.Count(shown(p.Body), s); n != 1 {
					t.Errorf("the page says %q %d times, want once:\n%s", s, n, p.Body)
				}
			}
			if p.Status == 200 {
				if n := len(chartCell.FindAllString(p.Body, -1)); n != 5*5 {
					t.Errorf("%d chart cells, want 5 per trait for 5 traits", n)
				}
				if !strings.Contains(p.Body, `data-trait="problem_solving_ability" data-score="4" data-in-range="true"`) {
					t.Error("the chart does not show problem solving ability's 4, in range")
				}
			}
		})
	}
}

func TestDashboard(t *testing.T) {
	h := testenv.New(t)
	ref := invite(t, h, "Rembrandt").ReferenceID
	h.Clock.Advance(time.Minute)
	if _, err := h.App.Service.Complete(ref, service.Completion{Fit: "high"}); err != nil {
		t.Fatal(err)
	}
	res, _ := h.App.Service.Results(testenv.DemoID, ref, "nl")
	candidate := path(t, res.ResultsURL) // results_url, as the results answer and the callback carry it
	if candidate != "/dashboard/nl/candidates/"+ref {
		t.Fatalf("results_url path %s", candidate)
	}
	b := testenv.NewBrowser(t, h.URL)

	p := b.Get(candidate)
	if p.Status != http.StatusSeeOther || p.Location != "/dashboard/nl/sign_in?next="+url.QueryEscape(candidate) {
		t.Fatalf("signed out: %d to %q", p.Status, p.Location)
	}
	testenv.WantPage(t, b.Get(p.Location), 200, "Inloggen", "Client-id", `name="next" value="/dashboard/nl/candidates/`+ref+`"`)

	signIn := func(id, secret, next string, headers ...string) testenv.Page {
		return b.Post("/dashboard/nl/sign_in", url.Values{"client_id": {id}, "client_secret": {secret}, "next": {next}}, headers...)
	}
	testenv.WantPage(t, signIn("demo-client", "wrong", candidate), http.StatusUnprocessableEntity, "Onbekende client-id of verkeerd geheim.", `value="demo-client"`)
	if p := signIn("demo-client", "demo-secret", candidate, "Sec-Fetch-Site", "cross-site"); p.Status != http.StatusForbidden {
		t.Fatalf("a sign-in posted from another site: %d", p.Status)
	}
	if p := signIn("demo-client", "demo-secret", candidate, "Origin", "http://localhost:3000"); p.Status != http.StatusForbidden {
		t.Fatalf("a sign-in posted from another origin: %d", p.Status)
	}
	p = signIn("demo-client", "demo-secret", candidate)
	if p.Status != http.StatusSeeOther || p.Location != candidate {
		t.Fatalf("signing in: %d to %q", p.Status, p.Location)
	}
	if c := p.Header.Get("Set-Cookie"); !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") || !strings.Contains(c, "Path=/dashboard/") {
		t.Fatalf("session cookie %q", c)
	}

	testenv.WantPage(t, b.Get(candidate), 200, "Ingelogd als Demo ATS", "Rembrandt Van Rijn", "Tijdlijn", "Uitgenodigd", "Afgerond",
		"2026-11-28 12:00:00 UTC", "2026-11-28 12:01:00 UTC", "Match met de functie", `<svg class="scale-chart"`)
	testenv.WantPage(t, b.Get("/dashboard/en/candidates/"+ref), 200, "Signed in as Demo ATS", "Timeline", "Completed")
	testenv.WantPage(t, b.Get("/dashboard/en/candidates"), 200, "Candidates", "/dashboard/en/candidates/"+ref, "Rembrandt Van Rijn")

	other, err := h.App.Service.Invite(testenv.OtherID, service.Invitation{JobID: testenv.OtherJob, CallbackURL: testenv.CallbackURL,
		Applicant: domain.Applicant{FirstName: "Judith", LastName: "Leyster", Email: "judith@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	testenv.WantPage(t, b.Get("/dashboard/en/candidates/"+other.ReferenceID), http.StatusNotFound, "Page not found")
	if p := b.Get("/dashboard/en/candidates"); strings.Contains(p.Body, "Judith") {
		t.Fatal("the list shows another client's applicant")
	}

	pending := invite(t, h, "Frans").ReferenceID
	testenv.WantPage(t, b.Get("/dashboard/en/candidates/"+pending), 200, "No results yet", "Invited")

	p = b.Post("/dashboard/en/sign_out", url.Values{})
	if p.Status != http.StatusSeeOther || b.Get(candidate).Status != http.StatusSeeOther {
		t.Fatalf("after signing out: %d, and the page still shows", p.Status)
	}
}

func TestSignInGoesOnlyToDashboardPages(t *testing.T) {
	h := testenv.New(t)
	for next, want := range map[string]string{
		"/dashboard/en/candidates/x":      "/dashboard/en/candidates/x",
		"":                                "/dashboard/en/candidates",
		"//evil.example/dashboard/":       "/dashboard/en/candidates",
		`/\evil.example`:                  "/dashboard/en/candidates",
		"https://evil.example/dashboard/": "/dashboard/en/candidates",
		"/_mock/ui":                       "/dashboard/en/candidates",
	} {
		p := testenv.NewBrowser(t, h.URL).Post("/dashboard/en/sign_in",
			url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}, "next": {next}})
		if p.Status != http.StatusSeeOther || p.Location != want {
			t.Errorf("next %q: %d to %q, want %q", next, p.Status, p.Location, want)
		}
	}
}

// An applicant's name is text on every page, never markup.
func TestApplicantNamesAreEscaped(t *testing.T) {
	h := testenv.New(t)
	const name = `<script>alert(1)</script>`
	app := invite(t, h, name)
	b := testenv.NewBrowser(t, h.URL)
	link := path(t, app.AssessmentURL)
	for _, p := range []testenv.Page{b.Get(link), b.Post(link, answers(nil))} {
		if strings.Contains(p.Body, name) || !strings.Contains(p.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Fatalf("the name is not escaped:\n%s", p.Body)
		}
	}
	b.Post("/dashboard/en/sign_in", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}})
	for _, p := range []testenv.Page{b.Get("/dashboard/en/candidates"), b.Get("/dashboard/en/candidates/" + app.ReferenceID)} {
		if p.Status != 200 || strings.Contains(p.Body, name) || !strings.Contains(p.Body, "&lt;script&gt;") {
			t.Fatalf("the dashboard does not escape the name (%d):\n%s", p.Status, p.Body)
		}
	}
}

func TestPagesHeaders(t *testing.T) {
	h := testenv.New(t)
	p := testenv.NewBrowser(t, h.URL).Get(path(t, invite(t, h, "Rembrandt").AssessmentURL))
	csp := p.Header.Get("Content-Security-Policy")
	nonce := regexp.MustCompile(`script-src 'nonce-([^']+)'`).FindStringSubmatch(csp)
	if nonce == nil || !strings.Contains(p.Body, `<script nonce="`+nonce[1]+`">`) {
		t.Fatalf("CSP %q does not let the page's own script run", csp)
	}
	for k, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Content-Type": "text/html; charset=utf-8"} {
		if got := p.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}
