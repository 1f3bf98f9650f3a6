package pages_test

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// A HEAD on an assessment link — link checkers, chat apps building a preview — changes nothing:
// the application stays invited and no assessment_started event goes to the client's webhook.
// The GET after it, a person opening the link, starts it and sends the event.
func TestHeadOnAnAssessmentLinkStartsNothing(t *testing.T) {
	h := testenv.New(t)
	if _, err := h.App.Service.RegisterWebhook(testenv.DemoID, service.WebhookRegistration{Label: "ats", URL: testenv.CallbackURL}); err != nil {
		t.Fatal(err)
	}
	app := invite(t, h, "Rembrandt")
	link := path(t, app.AssessmentURL)
	events := func() int {
		return len(h.App.Service.Deliveries(delivery.Filter{ReferenceID: app.ReferenceID, Kind: delivery.KindWebhook}))
	}
	b := testenv.NewBrowser(t, h.URL)

	for range 2 {
		p := b.Do(http.MethodHead, link, nil)
		if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "text/html; charset=utf-8" || p.Body != "" {
			t.Fatalf("HEAD: %d %q, body %q", p.Status, p.Header.Get("Content-Type"), p.Body)
		}
	}
	got, _ := h.App.Service.Lookup(app.ReferenceID)
	if got.Status != domain.Invited || !got.StartedAt.IsZero() || events() != 0 {
		t.Fatalf("after HEAD: %s, started at %v, %d webhook events; want invited, not started, none", got.Status, got.StartedAt, events())
	}

	testenv.WantPage(t, b.Get(link), http.StatusOK, "Hello Rembrandt,")
	if got, _ := h.App.Service.Lookup(app.ReferenceID); got.Status != domain.Started || events() != 1 {
		t.Fatalf("after GET: %s, %d webhook events; want started, 1 (the test can see a start)", got.Status, events())
	}
}

// The thank-you page's language switch shows the thank-you page in the other language — not the
// "already completed" page the used link gives — and so does a reload of it.
func TestThanksPageSwitchesLanguage(t *testing.T) {
	h := testenv.New(t)
	app := invite(t, h, "Rembrandt")
	link := path(t, app.AssessmentURL)
	b := testenv.NewBrowser(t, h.URL)
	b.Get(link)
	p := b.Post(link, answers(nil))
	testenv.WantPage(t, p, http.StatusOK, "Thank you, Rembrandt!")
	nl := "/nl" + strings.TrimPrefix(link, "/en") + "/thanks"
	if !strings.Contains(p.Body, `href="`+nl+`"`) {
		t.Fatalf("the thank-you page does not switch to %s:\n%s", nl, p.Body)
	}
	p = b.Get(nl)
	testenv.WantPage(t, p, http.StatusOK, "Bedankt, Rembrandt!", `lang="nl"`, `href="`+link+`/thanks"`)
	testenv.WantPage(t, b.Get(link+"/thanks"), http.StatusOK, "Thank you, Rembrandt!")

	// Before the assessment is done, the thank-you address leads to the assessment; an
	// anonymized application's says it is gone.
	other := path(t, invite(t, h, "Judith").AssessmentURL)
	if p := b.Get(other + "/thanks"); p.Status != http.StatusSeeOther || p.Location != other {
		t.Fatalf("thanks before submitting: %d to %q", p.Status, p.Location)
	}
	if _, err := h.App.Service.Anonymize(testenv.DemoID, app.ReferenceID); err != nil {
		t.Fatal(err)
	}
	testenv.WantPage(t, b.Get(nl), http.StatusGone, "Deze sollicitatie is niet meer beschikbaar")
}

// /favicon.ico is an icon (an ICO holding a 32×32 PNG), cacheable and revalidated by ETag; the
// pages link to the SVG one.
func TestFavicon(t *testing.T) {
	h := testenv.New(t)
	get := func(path string, header ...string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, h.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	res := get("/favicon.ico")
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	b := body.Bytes()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/x-icon" || !strings.Contains(res.Header.Get("Cache-Control"), "max-age=") {
		t.Fatalf("/favicon.ico: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	if len(b) < 22 || binary.LittleEndian.Uint16(b[2:]) != 1 || binary.LittleEndian.Uint16(b[4:]) != 1 {
		t.Fatalf("/favicon.ico is not an icon file: % x", b[:min(len(b), 22)])
	}
	size, off := binary.LittleEndian.Uint32(b[14:]), binary.LittleEndian.Uint32(b[18:])
	img, err := png.Decode(bytes.NewReader(b[off : off+size]))
	if err != nil || img.Bounds().Dx() != 32 || img.Bounds().Dy() != 32 {
		t.Fatalf("the icon's image: %v, %v", img, err)
	}
	if again := get("/favicon.ico", "If-None-Match", res.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidating: %d", again.StatusCode)
	}
	if svg := get("/favicon.svg"); svg.StatusCode != 200 || svg.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("/favicon.svg: %d %q", svg.StatusCode, svg.Header.Get("Content-Type"))
	}
	testenv.WantPage(t, testenv.NewBrowser(t, h.URL).Get("/dashboard/en/sign_in"), 200, `<link rel="icon" href="/favicon.svg" type="image/svg+xml">`)
}

// An anonymized applicant is named in the reader's language on the dashboard.
func TestDashboardNamesAnAnonymizedApplicantInDutch(t *testing.T) {
	h := testenv.New(t)
	ref := invite(t, h, "Rembrandt").ReferenceID
	if _, err := h.App.Service.Anonymize(testenv.DemoID, ref); err != nil {
		t.Fatal(err)
	}
	b := testenv.NewBrowser(t, h.URL)
	b.Post("/dashboard/nl/sign_in", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}})
	for _, p := range []string{"/dashboard/nl/candidates", "/dashboard/nl/candidates/" + ref} {
		page := b.Get(p)
		testenv.WantPage(t, page, 200, "Geanonimiseerde kandidaat")
		if strings.Contains(page.Body, "Anonymized") {
			t.Errorf("%s names the applicant in English:\n%s", p, page.Body)
		}
	}
	testenv.WantPage(t, b.Get("/dashboard/en/candidates/"+ref), 200, "Anonymized applicant")
}

// The chart, as drawn: every pair of colours a reader must tell apart is at least 3:1 apart (WCAG
// 1.4.11), measured from the SVG's own fills and strokes — an accepted cell against the card,
// against a neighbour outside the range, a cell outside the range by its outline, each score
// marker against the cell under it — and a score outside the range differs from one inside by
// shape as well as colour. The legend names every colour the chart uses.
func TestChartContrast(t *testing.T) {
	h := testenv.New(t)
	ref := invite(t, h, "Rembrandt").ReferenceID
	// In range: problem solving ability 4 (3-5); outside: attention to detail 2 (3-5).
	scores := map[string]int{"problem_solving_ability": 4, "working_memory": 3, "problem_solving_style": 2, "attention_to_detail": 2, "cognitive_flexibility": 4}
	if _, err := h.App.Service.Complete(ref, service.Completion{Scores: scores}); err != nil {
		t.Fatal(err)
	}
	p := testenv.NewBrowser(t, h.URL).Get(publicLink(t, h, ref, "en"))
	testenv.WantPage(t, p, 200)
	doc, err := html.Parse(strings.NewReader(p.Body))
	if err != nil {
		t.Fatal(err)
	}
	const card = "#ffffff" // the .card the results sit on
	legend := map[string]bool{}
	for _, li := range find(doc, "li", "") {
		if c := attr(li, "data-fill"); c != "" && strings.TrimSpace(text(li)) != "" {
			legend[c] = true
		}
	}
	shapes := map[bool]string{} // in range → the marker's element
	marks := map[bool]string{}  // in range → the marker's fill
	for _, li := range find(doc, "li", "trait") {
		trait, inRange := attr(li, "data-trait"), attr(li, "data-in-range") == "true"
		cells := find(li, "rect", "cell")
		if len(cells) != 5 {
			t.Fatalf("%s: %d cells", trait, len(cells))
		}
		for i, c := range cells {
			fill, stroke := attr(c, "fill"), attr(c, "stroke")
			if edge := max(testenv.Contrast(t, fill, card), testenv.Contrast(t, cmp.Or(stroke, card), card)); edge < 3 {
				t.Errorf("%s cell %d (%s, outline %q) is %.2f:1 against the card, want ≥ 3:1", trait, i+1, fill, stroke, edge)
			}
			if !legend[fill] {
				t.Errorf("%s cell %d: its colour %s is not in the legend", trait, i+1, fill)
			}
			if i > 0 {
				prev := cells[i-1]
				if hasClass(prev, "in") != hasClass(c, "in") {
					if r := testenv.Contrast(t, attr(prev, "fill"), fill); r < 3 {
						t.Errorf("%s cells %d and %d (in and out of range) are %.2f:1 apart, want ≥ 3:1", trait, i, i+1, r)
					}
				}
			}
		}
		mark := find(li, "", "mark")
		if len(mark) != 1 {
			t.Fatalf("%s: %d score markers", trait, len(mark))
		}
		score, _ := strconv.Atoi(attr(li, "data-score"))
		under := cells[score-1]
		m := attr(mark[0], "fill")
		if r := testenv.Contrast(t, m, attr(under, "fill")); r < 3 {
			t.Errorf("%s: the score's marker %s is %.2f:1 against its cell %s, want ≥ 3:1", trait, m, r, attr(under, "fill"))
		}
		if !legend[m] {
			t.Errorf("%s: the marker's colour %s is not in the legend", trait, m)
		}
		shapes[inRange], marks[inRange] = mark[0].Data, m
	}
	if len(shapes) != 2 {
		t.Fatalf("want scores in and outside the range, have %v", shapes)
	}
	if shapes[true] == shapes[false] {
		t.Errorf("a score in range and one outside are both a %s: only the colour tells them apart", shapes[true])
	}
	if r := testenv.Contrast(t, marks[true], marks[false]); r < 3 {
		t.Errorf("the markers in and outside the range are %.2f:1 apart, want ≥ 3:1", r)
	}
}

// find returns the elements under n named tag ("" for any) with class cls ("" for any).
func find(n *html.Node, tag, cls string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && (tag == "" || d.Data == tag) && (cls == "" || hasClass(d, cls)) {
			out = append(out, d)
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, cls string) bool {
	return strings.Contains(" "+attr(n, "class")+" ", " "+cls+" ")
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}
