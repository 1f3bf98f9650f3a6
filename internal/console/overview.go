package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/lifecycle"
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
	Statuses             []store.Status
	Client, Status, Back string
	Apps                 []appRow
	Deliveries           []delivery.Delivery
	Webhooks             []webhookRow
	Emails               []store.Email
	Journal              []journalRow
	JournalTotal         int
	Faults               []fault.Rule
	Fits                 []string
	Breaks               []string
}

type appRow struct {
	store.Application
	Job      string
	Timeline []lifecycle.Moment
}

// webhookRow is a webhook as the console shows it: never its secret.
type webhookRow struct {
	ClientID, Label, URL, SecretHint string
	CreatedAt, UpdatedAt             time.Time
}

type journalRow struct {
	journal.Entry
	Request, Response string
}

// statuses are the states the filter offers, in lifecycle order.
var statuses = []store.Status{store.Invited, store.Started, store.Completed, store.Hired, store.Expired, store.Anonymized}

func (h *Handler) handleOverview(w http.ResponseWriter, r *http.Request) {
	s := h.ensureSession(w, r)
	q := r.URL.Query()
	st := h.Clock.State()
	v := &overviewView{
		view:     view{Lang: "en", Title: "Console", CSRF: h.csrfToken(s), SignedIn: h.Admin.Required(), Flash: h.takeFlash(w, r)},
		Now:      st.Now,
		Frozen:   st.Frozen,
		Offset:   st.Offset.Round(time.Second).String(),
		Statuses: statuses,
		Client:   q.Get("client"),
		Status:   q.Get("state"),
		Fits:     []string{"high", "medium", "low"},
		Breaks:   []string{fault.BreakEmpty, fault.BreakReset, fault.BreakJunk},
		Faults:   h.Faults.List(),
	}
	if v.Client != "" || v.Status != "" {
		v.Back = "?" + url.Values{"client": {v.Client}, "state": {v.Status}}.Encode()
	}
	for _, c := range h.Fixtures.Clients {
		v.Clients = append(v.Clients, c.ID)
	}
	apps := h.Store.List(v.Client)
	slices.Reverse(apps) // newest first
	for _, a := range apps {
		if v.Status == "" || string(a.Status) == v.Status {
			v.Apps = append(v.Apps, appRow{Application: a, Job: h.Lifecycle.Job(a).Name, Timeline: lifecycle.Timeline(a)})
		}
	}
	v.Deliveries = h.Callbacks.List(delivery.Filter{ClientID: v.Client})
	slices.Reverse(v.Deliveries)
	for _, w := range h.Lifecycle.Webhooks(v.Client) {
		v.Webhooks = append(v.Webhooks, webhookRow{ClientID: w.ClientID, Label: w.Label, URL: w.URL, SecretHint: lifecycle.SecretHint(w.Secret), CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt})
	}
	v.Emails = h.Store.Outbox(v.Client)
	slices.Reverse(v.Emails)
	for _, e := range h.Journal.Latest(JournalShown) {
		v.Journal = append(v.Journal, journalRow{Entry: e, Request: shorten(e.RequestBody), Response: shorten(e.ResponseBody)})
	}
	v.JournalTotal = h.Journal.Len()
	h.render(w, http.StatusOK, "overview", v, &v.Nonce)
}

func shorten(b journal.Body) string {
	if len(b) > bodyShown {
		return strings.ToValidUTF8(string(b[:bodyShown]), "") + "… (cut here: GET /_mock/journal has it whole)"
	}
	return string(b)
}
