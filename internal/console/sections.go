package console

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/store"
)

// The console is a page per section — applications (its front page), callbacks, webhooks,
// outbox, journal, faults — each with the clock on top, filters, and lists a page at a time, so
// that every page stays small and fast whatever the mock holds (≤ 200 KB and a few milliseconds
// at 10,000 applications; BenchmarkConsolePages and TestConsolePagesStaySmall measure it).

// Page sizes.
const (
	AppsPerPage       = 50
	DeliveriesPerPage = 25
	EmailsPerPage     = 50
	WebhooksPerPage   = 50
	// JournalShown is how many of the journal's newest entries the console lists.
	JournalShown = 25
)

// bodyShown bounds the part of a journal body the console prints.
const bodyShown = 2 << 10

// liveHeader asks for the live part of a console page only (its clock and section), which the
// "live" switch polls with the ETag it last got: an unchanged page answers 304 and no body.
const liveHeader = "X-Console-Live"

// section is one console page.
type section struct {
	Name, Title, Path string // Path under Prefix ("" for the front page)
	fill              func(h *Handler, r *http.Request, v *pageView)
}

var sections = []section{
	{"applications", "Applications", "", (*Handler).fillApplications},
	{"callbacks", "Callbacks", "/callbacks", (*Handler).fillCallbacks},
	{"webhooks", "Webhooks", "/webhooks", (*Handler).fillWebhooks},
	{"outbox", "Outbox", "/outbox", (*Handler).fillOutbox},
	{"journal", "Journal", "/journal", (*Handler).fillJournal},
	{"faults", "Faults", "/faults", (*Handler).fillFaults},
}

// pageView is what a console page's templates read: the frame's fields and its section's.
type pageView struct {
	view
	Section  string
	Sections []navLink
	Back     string // this page, where its forms come back to
	Clock    clockView
	Live     template.HTML // the clock and the section, rendered first for their ETag
	ETag     string

	Clients  []string
	Client   string // the client filter, on every page
	Statuses []string
	Status   string // the state (applications) or status (callbacks) filter
	Text     string // the applications' search
	Kind     string // the callbacks' kind filter
	Pager    pager

	Apps         []appRow
	Fits         []string
	Deliveries   []deliveryRow
	Webhooks     []service.WebhookView
	Emails       []service.Email
	Journal      []journalRow
	JournalTotal int
	Faults       []fault.Rule
	Breaks       []string
}

type navLink struct {
	Title, URL string
	Current    bool
}

// clockView is the clock as the console shows it: a frozen clock's time; a running one's to the
// minute, with its offset from real time (which a frozen clock's would change every second).
type clockView struct {
	Now     time.Time
	Frozen  bool
	Offset  string
	OffsetS int64 // seconds ahead of real time, for the page's script to tick a running clock
}

type appRow struct {
	service.Application
	Job      string
	Timeline []service.Moment
	// Only the actions the application's state allows are offered (the service's lifecycle's Can):
	// a button that cannot work is not shown.
	CanStart, CanComplete, CanExpire bool
}

// deliveryRow is a delivery, offered for redelivery only when it can be (delivery.CanRedeliver).
type deliveryRow struct {
	delivery.Delivery
	CanRedeliver bool
}

type journalRow struct {
	journal.Entry
	Request, Response string
}

// pager is a list's place: page Page of Pages, items From..To of Total, links to the others
// (empty where there is none).
type pager struct {
	Page, Pages, Total, From, To int
	First, Prev, Next, Last      string
}

// pageOf returns the page r asks for (?page=, from 1) of a list that get pages through, per
// items a page, and the pager; a page past the end is the last one.
func pageOf[T any](r *http.Request, per int, get func(offset, limit int) ([]T, int)) ([]T, pager) {
	want, _ := strconv.Atoi(r.URL.Query().Get("page"))
	want = max(want, 1)
	items, total := get((want-1)*per, per)
	p := pager{Total: total, Pages: max(1, (total+per-1)/per)}
	p.Page = min(want, p.Pages)
	offset := (p.Page - 1) * per
	if p.Page != want {
		items, _ = get(offset, per)
	}
	if total > 0 {
		p.From, p.To = offset+1, min(offset+per, total)
	}
	at := func(n int) string {
		q := r.URL.Query()
		q.Del("page")
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		return withQuery(r.URL.Path, q)
	}
	if p.Page > 1 {
		p.First, p.Prev = at(1), at(p.Page-1)
	}
	if p.Page < p.Pages {
		p.Next, p.Last = at(p.Page+1), at(p.Pages)
	}
	return items, p
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// section serves console page s: the whole page, or, for the live switch, its live part with an
// ETag (304 when the browser has it already).
func (h *Handler) section(s section) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := h.ensureSession(w, r)
		q := r.URL.Query()
		st := h.Service.Clock()
		v := &pageView{
			view:    view{Lang: "en", Title: s.Title, CSRF: h.csrfToken(sess), SignedIn: h.Admin.Required()},
			Section: s.Name,
			Back:    withQuery(r.URL.Path, q),
			Clock: clockView{Now: st.Now, Frozen: st.Frozen, Offset: st.Offset.Round(time.Second).String(),
				OffsetS: int64(st.Offset.Round(time.Second) / time.Second)},
			Client: q.Get("client"),
		}
		for _, c := range h.Fixtures.Clients {
			v.Clients = append(v.Clients, c.ID)
		}
		nav := url.Values{}
		if v.Client != "" {
			nav.Set("client", v.Client) // the client filter follows the operator from page to page
		}
		for _, o := range sections {
			v.Sections = append(v.Sections, navLink{Title: o.Title, URL: withQuery(Prefix+o.Path, nav), Current: o.Name == s.Name})
		}
		s.fill(h, r, v)

		var live bytes.Buffer
		if err := tmpl[s.Name].ExecuteTemplate(&live, "live", v); err != nil {
			h.Logger.Error("render console", "page", s.Name, "err", err)
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		sum := sha256.Sum256(live.Bytes())
		v.ETag = `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
		if r.Header.Get(liveHeader) != "" {
			h.writeLive(w, r, v.ETag, live.Bytes())
			return
		}
		v.Flash = h.takeFlash(w, r)
		if v.Flash != nil && v.Flash.Anchor != "" && !bytes.Contains(live.Bytes(), []byte(`id="`+v.Flash.Anchor+`"`)) {
			v.Flash.Anchor = "" // link only to what this page shows
		}
		v.Live = template.HTML(live.String()) // rendered by html/template above: escaped already
		h.render(w, http.StatusOK, s.Name, v, &v.Nonce)
	}
}

// writeLive answers the live switch's poll: the live part of the page, or 304 when it has not
// changed since the ETag the browser sends.
func (h *Handler) writeLive(w http.ResponseWriter, r *http.Request, etag string, body []byte) {
	hd := w.Header()
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", "no-store")
	hd.Set("Vary", liveHeader)
	hd.Set("X-Content-Type-Options", "nosniff")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(body)
}

// statuses are the states the applications' filter offers, in lifecycle order.
var statuses = func() []string {
	out := make([]string, len(domain.Statuses))
	for i, st := range domain.Statuses {
		out[i] = string(st)
	}
	return out
}()

func (h *Handler) fillApplications(r *http.Request, v *pageView) {
	q := r.URL.Query()
	v.Statuses, v.Status, v.Text = statuses, q.Get("state"), strings.TrimSpace(q.Get("q"))
	v.Fits = []string{"high", "medium", "low"}
	f := store.Filter{ClientID: v.Client, Status: domain.Status(v.Status), Text: v.Text}
	apps, p := pageOf(r, AppsPerPage, func(offset, limit int) ([]domain.Application, int) {
		return h.Service.ApplicationsPage(f, offset, limit)
	})
	v.Pager = p
	lc := h.Service.Lifecycle()
	for _, a := range apps {
		// CanComplete also says whether the assessment link still works (invited or started).
		v.Apps = append(v.Apps, appRow{Application: h.Service.View(a), Job: h.Service.Job(a).Name, Timeline: service.Timeline(a),
			CanStart: lc.Can(a.Status, domain.ActStart), CanComplete: lc.Can(a.Status, domain.ActComplete), CanExpire: lc.Can(a.Status, domain.ActExpire)})
	}
}

// deliveryStatuses are the states the callbacks' filter offers.
var deliveryStatuses = []string{string(delivery.Pending), string(delivery.Delivering), string(delivery.Delivered), string(delivery.Failed), string(delivery.Cancelled)}

func (h *Handler) fillCallbacks(r *http.Request, v *pageView) {
	q := r.URL.Query()
	v.Statuses, v.Status, v.Kind, v.Text = deliveryStatuses, q.Get("status"), q.Get("kind"), strings.TrimSpace(q.Get("ref"))
	f := delivery.Filter{ClientID: v.Client, Status: delivery.Status(v.Status), Kind: delivery.Kind(v.Kind), ReferenceID: v.Text}
	dls, p := pageOf(r, DeliveriesPerPage, func(offset, limit int) ([]delivery.Delivery, int) {
		return h.Service.DeliveriesPage(f, offset, limit)
	})
	v.Pager = p
	for _, d := range dls {
		v.Deliveries = append(v.Deliveries, deliveryRow{Delivery: d, CanRedeliver: delivery.CanRedeliver(d.Status)})
	}
}

func (h *Handler) fillWebhooks(r *http.Request, v *pageView) {
	all := h.Service.WebhookViews(v.Client)
	v.Webhooks, v.Pager = pageOf(r, WebhooksPerPage, func(offset, limit int) ([]service.WebhookView, int) {
		return all[min(offset, len(all)):min(offset+limit, len(all))], len(all)
	})
}

func (h *Handler) fillOutbox(r *http.Request, v *pageView) {
	v.Emails, v.Pager = pageOf(r, EmailsPerPage, func(offset, limit int) ([]service.Email, int) {
		return h.Service.OutboxPage(v.Client, offset, limit)
	})
}

func (h *Handler) fillJournal(_ *http.Request, v *pageView) {
	for _, e := range h.Service.Journal().Latest(JournalShown) {
		v.Journal = append(v.Journal, journalRow{Entry: e, Request: shorten(e.RequestBody), Response: shorten(e.ResponseBody)})
	}
	v.JournalTotal = h.Service.Journal().Len()
}

func (h *Handler) fillFaults(_ *http.Request, v *pageView) {
	v.Faults = h.Service.Faults()
	v.Breaks = []string{fault.BreakEmpty, fault.BreakReset, fault.BreakJunk}
}

func shorten(b journal.Body) string {
	if len(b) > bodyShown {
		return strings.ToValidUTF8(string(b[:bodyShown]), "") + "… (cut here: GET /_mock/journal has it whole)"
	}
	return string(b)
}
