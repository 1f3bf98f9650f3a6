package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/store"
)

// JournalShown is how many of the journal's newest entries the console lists.
const JournalShown = 25

// bodyShown bounds the part of a journal body the console prints.
const bodyShown = 2 << 10

type overviewView struct {
	view
	Now                  time.Time
	Frozen               bool
	Offset               string
	Clients              []string
	Statuses             []domain.Status
	Client, Status, Back string
	Apps                 []appRow
	Deliveries           []delivery.Delivery
	Webhooks             []service.WebhookView
	Emails               []service.Email
	Journal              []journalRow
	JournalTotal         int
	Faults               []fault.Rule
	Fits                 []string
	Breaks               []string
}

type appRow struct {
	service.Application
	Job      string
	Timeline []service.Moment
}

type journalRow struct {
	journal.Entry
	Request, Response string
}

func (h *Handler) handleOverview(w http.ResponseWriter, r *http.Request) {
	s := h.ensureSession(w, r)
	q := r.URL.Query()
	st := h.Service.Clock()
	v := &overviewView{
		view:     view{Lang: "en", Title: "Console", CSRF: h.csrfToken(s), SignedIn: h.Admin.Required(), Flash: h.takeFlash(w, r)},
		Now:      st.Now,
		Frozen:   st.Frozen,
		Offset:   st.Offset.Round(time.Second).String(),
		Statuses: domain.Statuses,
		Client:   q.Get("client"),
		Status:   q.Get("state"),
		Fits:     []string{"high", "medium", "low"},
		Breaks:   []string{fault.BreakEmpty, fault.BreakReset, fault.BreakJunk},
		Faults:   h.Service.Faults(),
	}
	if v.Client != "" || v.Status != "" {
		v.Back = "?" + url.Values{"client": {v.Client}, "state": {v.Status}}.Encode()
	}
	for _, c := range h.Fixtures.Clients {
		v.Clients = append(v.Clients, c.ID)
	}
	apps := h.Service.Applications(store.Filter{ClientID: v.Client, Status: domain.Status(v.Status)})
	slices.Reverse(apps) // newest first
	for _, a := range apps {
		v.Apps = append(v.Apps, appRow{Application: h.Service.View(a), Job: h.Service.Job(a).Name, Timeline: service.Timeline(a)})
	}
	v.Deliveries = h.Service.Deliveries(delivery.Filter{ClientID: v.Client})
	slices.Reverse(v.Deliveries)
	v.Webhooks = h.Service.WebhookViews(v.Client)
	v.Emails = h.Service.Outbox(service.OutboxFilter{ClientID: v.Client})
	slices.Reverse(v.Emails)
	for _, e := range h.Service.Journal().Latest(JournalShown) {
		v.Journal = append(v.Journal, journalRow{Entry: e, Request: shorten(e.RequestBody), Response: shorten(e.ResponseBody)})
	}
	v.JournalTotal = h.Service.Journal().Len()
	h.render(w, http.StatusOK, "overview", v, &v.Nonce)
}

func shorten(b journal.Body) string {
	if len(b) > bodyShown {
		return strings.ToValidUTF8(string(b[:bodyShown]), "") + "… (cut here: GET /_mock/journal has it whole)"
	}
	return string(b)
}
