package console_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	mockconsole "github.com/equalture/equalture-mock/internal/console"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// rowActions returns the actions a console row offers: the last segment of each form's action.
func rowActions(page, rowID string) []string {
	row := regexp.MustCompile(`(?s)<tr id="` + regexp.QuoteMeta(rowID) + `".*?</tr>`).FindString(page)
	var out []string
	for _, m := range regexp.MustCompile(`<form class="inline" method="post" action="[^"]*/([a-z]+)"`).FindAllStringSubmatch(row, -1) {
		out = append(out, m[1])
	}
	return out
}

// Each row offers only the actions its state allows (store.Can): no Start on a started
// application, nothing on a completed, hired, expired or anonymized one; Redeliver only on a
// finished delivery.
func TestOnlyAllowedActionsAreOffered(t *testing.T) {
	h := testenv.New(t)
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(receiver.Close)
	refs := map[domain.Status]string{}
	for _, st := range []domain.Status{domain.Invited, domain.Started, domain.Completed, domain.Hired, domain.Expired, domain.Anonymized} {
		ref := invite(t, h, string(st), receiver.URL+"/cb").ReferenceID
		refs[st] = ref
		var err error
		switch st {
		case domain.Started:
			_, err = h.App.Service.Start(ref)
		case domain.Completed, domain.Hired:
			if _, err = h.App.Service.Complete(ref, service.Completion{}); err == nil && st == domain.Hired {
				_, err = h.App.Service.Hire(testenv.DemoID, ref, service.Hiring{})
			}
		case domain.Expired:
			_, err = h.App.Service.ExpireInvitation(ref)
		case domain.Anonymized:
			_, err = h.App.Service.Anonymize(testenv.DemoID, ref)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	testenv.Settle(t, h.App)
	page := testenv.NewBrowser(t, h.URL).Get("/_mock/ui").Body
	for st, want := range map[domain.Status]string{
		domain.Invited: "start complete expire", domain.Started: "complete expire",
		domain.Completed: "", domain.Hired: "", domain.Expired: "", domain.Anonymized: "",
	} {
		if got := strings.Join(rowActions(page, "app-"+refs[st]), " "); got != want {
			t.Errorf("a %s application offers %q, want %q", st, got, want)
		}
	}
	if !strings.Contains(page, "none: expired") {
		t.Error("a row without actions does not say why")
	}
	// The assessment link is offered while it can be taken.
	if !strings.Contains(page, `href="`+mustLookup(t, h, refs[domain.Started]).AssessmentURL+`"`) ||
		strings.Contains(page, `href="`+mustLookup(t, h, refs[domain.Completed]).AssessmentURL+`"`) {
		t.Error("the assessment link is offered where it cannot be taken, or not where it can")
	}

	callbacks := testenv.NewBrowser(t, h.URL).Get("/_mock/ui/callbacks").Body
	for _, d := range h.App.Service.Deliveries(delivery.Filter{}) {
		want := ""
		if d.Status == delivery.Delivered || d.Status == delivery.Failed {
			want = "redeliver"
		}
		if got := strings.Join(rowActions(callbacks, "dlv-"+d.ID), " "); got != want {
			t.Errorf("a %s delivery offers %q, want %q", d.Status, got, want)
		}
	}
}

func mustLookup(t *testing.T, h *testenv.Env, ref string) service.Application {
	t.Helper()
	a, err := h.App.Service.Lookup(ref)
	if err != nil {
		t.Fatal(err)
	}
	return h.App.Service.View(a)
}

// Lists come a page at a time, newest first, with links to the others that keep the filters.
func TestPagination(t *testing.T) {
	h := testenv.New(t)
	var refs []string // oldest first
	for i := range 120 {
		refs = append(refs, invite(t, h, fmt.Sprintf("Applicant%03d", i), testenv.CallbackURL).ReferenceID)
	}
	b := testenv.NewBrowser(t, h.URL)
	rows := regexp.MustCompile(`<tr id="app-([^"]+)"`)
	shown := func(p testenv.Page) []string {
		var out []string
		for _, m := range rows.FindAllStringSubmatch(p.Body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	first := b.Get("/_mock/ui?state=invited")
	testenv.WantPage(t, first, 200, "1–50 of 120 · page 1 of 3", `href="/_mock/ui?page=2&amp;state=invited" rel="next"`, `<span class="muted" id="total">120</span>`)
	if got := shown(first); len(got) != 50 || got[0] != refs[119] || got[49] != refs[70] {
		t.Fatalf("page 1 shows %d rows from %v", len(got), got[:1])
	}
	last := b.Get("/_mock/ui?state=invited&page=3")
	testenv.WantPage(t, last, 200, "101–120 of 120 · page 3 of 3", `rel="prev"`)
	if got := shown(last); len(got) != 20 || got[19] != refs[0] {
		t.Fatalf("page 3 shows %d rows", len(got))
	}
	if got := shown(b.Get("/_mock/ui?page=99")); len(got) != 20 {
		t.Fatalf("a page past the end shows %d rows, want the last page's 20", len(got))
	}
	if got := shown(b.Get("/_mock/ui?page=x")); len(got) != 50 || got[0] != refs[119] {
		t.Fatal("a page that is not a number is not the first")
	}
	// Search: the start of a reference, or a part of a name or email.
	if got := shown(b.Get("/_mock/ui?q=" + refs[7][:13])); len(got) != 1 || got[0] != refs[7] {
		t.Fatalf("searching a reference finds %v", got)
	}
	if got := shown(b.Get("/_mock/ui?q=applicant07")); len(got) != 10 {
		t.Fatalf("searching a name finds %d, want Applicant070..079", len(got))
	}
	testenv.WantPage(t, b.Get("/_mock/ui?q=nobody"), 200, "No applications match the filter")
	testenv.WantPage(t, b.Get("/_mock/ui/outbox?page=3"), 200, "101–120 of 120 · page 3 of 3")
}

// The live switch asks for the page's live part with its ETag: unchanged, the answer is a 304
// without a body; changed, the new part (not the whole page) and a new ETag.
func TestLiveRefreshSendsOnlyWhatChanged(t *testing.T) {
	h := testenv.New(t)
	invite(t, h, "Frans", testenv.CallbackURL)
	// A client of its own, not testenv.Browser: the live part is a fragment, not a document.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(header ...string) testenv.Page {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, h.URL+"/_mock/ui", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return testenv.Page{Status: res.StatusCode, Header: res.Header, Body: string(b)}
	}
	full := get()
	etag := regexp.MustCompile(`<div id="live-region" data-etag="([^"]+)">`).FindStringSubmatch(full.Body)
	if etag == nil {
		t.Fatal("the page has no ETag for its live part")
	}
	tag := strings.ReplaceAll(etag[1], "&#34;", `"`)
	live := func(etag string) testenv.Page { return get("X-Console-Live", "1", "If-None-Match", etag) }
	if p := live(tag); p.Status != http.StatusNotModified || p.Body != "" {
		t.Fatalf("an unchanged page: %d, %d bytes", p.Status, len(p.Body))
	}
	invite(t, h, "Judith", testenv.CallbackURL)
	p := live(tag)
	if p.Status != 200 || p.Header.Get("ETag") == tag || !strings.Contains(p.Body, "Judith") || strings.Contains(p.Body, "<html") {
		t.Fatalf("a changed page: %d, ETag %q, %d bytes", p.Status, p.Header.Get("ETag"), len(p.Body))
	}
	if len(p.Body) >= len(full.Body) {
		t.Fatalf("the live part is %d bytes, the whole page %d", len(p.Body), len(full.Body))
	}
	if again := live(p.Header.Get("ETag")); again.Status != http.StatusNotModified {
		t.Fatalf("the new ETag is not the page's: %d", again.Status)
	}
	// A running clock is shown to the minute (the page's script ticks the seconds), so that the
	// live part changes once a minute, not on every poll.
	h.Clock.Unfreeze()
	p = live("")
	if !regexp.MustCompile(`<strong id="clock-now" data-frozen="false" data-offset="-?\d+">\d{4}-\d\d-\d\d \d\d:\d\d UTC</strong>`).MatchString(p.Body) {
		t.Fatalf("a running clock is not shown to the minute:\n%s", p.Body[:min(len(p.Body), 600)])
	}
}

// With 10,000 applications (a third completed, with their deliveries; half invited by email),
// every console page stays under 200 KB: lists come a page at a time.
func TestConsolePagesStaySmall(t *testing.T) {
	if testing.Short() {
		t.Skip("fills the mock with 10,000 applications")
	}
	h := testenv.New(t)
	fill(t, h, 10_000)
	b := testenv.NewBrowser(t, h.URL)
	for _, path := range consolePaths {
		p := b.Get(path)
		testenv.WantPage(t, p, 200)
		if n := len(p.Body); n > 200<<10 {
			t.Errorf("%s is %d KB, want ≤ 200 KB", path, n>>10)
		} else {
			t.Logf("%s: %d KB", path, n>>10)
		}
	}
}

// consolePaths are the console's pages, with the heaviest filters.
var consolePaths = []string{"/_mock/ui", "/_mock/ui?state=completed", "/_mock/ui?q=applicant09", "/_mock/ui?page=150",
	"/_mock/ui/callbacks", "/_mock/ui/callbacks?status=pending&page=20", "/_mock/ui/webhooks", "/_mock/ui/outbox", "/_mock/ui/journal", "/_mock/ui/faults"}

// BenchmarkConsolePages serves each console page with 10,000 applications in the mock.
func BenchmarkConsolePages(b *testing.B) {
	h := testenv.New(b)
	fill(b, h, 10_000)
	for _, path := range consolePaths {
		name := strings.TrimPrefix(strings.TrimPrefix(path, "/_mock/ui"), "/")
		if name == "" || name[0] == '?' {
			name = "applications" + name
		}
		b.Run(name, func(b *testing.B) {
			var size int64
			for b.Loop() {
				res, err := http.Get(h.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				size, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatalf("%s: %d", path, res.StatusCode)
				}
			}
			b.ReportMetric(float64(size)/1024, "KB/page")
		})
	}
}

// fill invites n applicants, half by email; completes every third (its results callback fails
// against the discard port, so each has a delivery with an attempt), starts every third.
func fill(tb testing.TB, h *testenv.Env, n int) {
	tb.Helper()
	for i := range n {
		inv := domain.InviteEmail
		if i%2 == 1 {
			inv = domain.InviteOneTimeLink
		}
		app, err := h.App.Service.Invite(testenv.DemoID, service.Invitation{
			JobID: testenv.EngineerJob, CallbackURL: testenv.CallbackURL, InvitationType: inv,
			Applicant: domain.Applicant{FirstName: fmt.Sprintf("Applicant%05d", i), LastName: "Van Rijn", Email: fmt.Sprintf("a%05d@example.com", i)},
		})
		if err != nil {
			tb.Fatal(err)
		}
		switch i % 3 {
		case 1:
			_, err = h.App.Service.Start(app.ReferenceID)
		case 2:
			_, err = h.App.Service.Complete(app.ReferenceID, service.Completion{})
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	// A full journal page: requests with bodies over what the console shows of each.
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	big := strings.Repeat("x", 4<<10)
	for range mockconsole.JournalShown {
		h.Do(http.MethodPost, "/connect_ats/applications", `{"job_id":"`+testenv.EngineerJob+`","callback_url":"`+testenv.CallbackURL+
			`","applicant_details":{"first_name":"`+big+`","last_name":"`+big+`","email":"nobody"}}`, testenv.Bearer(tok))
	}
	testenv.Settle(tb, h.App)
}
