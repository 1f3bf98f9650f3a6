package delivery

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/persist"
)

// The delivery log as the control API and the console read and move it.

// Filter selects deliveries; empty fields match everything.
type Filter struct {
	ReferenceID, ClientID string
	Status                Status
	Kind                  Kind
	EventType, EventID    string
}

func (f Filter) matches(d *delivery) bool {
	return d != nil && (f.ReferenceID == "" || d.ref == f.ReferenceID) && (f.ClientID == "" || d.client == f.ClientID) &&
		(f.Status == "" || d.status == f.Status) && (f.Kind == "" || d.kind == f.Kind) &&
		(f.EventType == "" || string(d.event) == f.EventType) && (f.EventID == "" || d.eventID == f.EventID)
}

// view is d as the log shows it, without its payload.
func (d *delivery) view() Delivery {
	v := Delivery{
		ID: d.id(), ReferenceID: d.ref, ClientID: d.client, Kind: d.kind, Method: method(d.kind),
		EventType: string(d.event), EventID: d.eventID, Webhook: d.webhook, URL: d.url,
		Status: d.status, Reason: d.reason, CreatedAt: d.created,
		Attempts: append(make([]Attempt, 0, len(d.attempts)), d.attempts...), // [] before the first, not null
	}
	if d.status == Pending && !d.next.IsZero() {
		t := d.next
		v.NextAttemptAt = &t
	}
	return v
}

// erasedPayload is what the log shows of an anonymized application's payloads.
var erasedPayload = json.RawMessage("{}")

// List returns the deliveries f matches, oldest first, each with its payload.
func (s *Sender) List(f Filter) []Delivery {
	s.mu.Lock()
	out := []Delivery{}
	var erased []bool
	for _, d := range s.log {
		if f.matches(d) {
			out = append(out, d.view())
			erased = append(erased, d.erased)
		}
	}
	s.mu.Unlock()
	for i := range out {
		out[i].Payload = s.payload(out[i], erased[i])
	}
	return out
}

// Page returns the deliveries f matches, newest first, from the offset-th on, at most limit of
// them, with their payloads, and how many f matches in all; only the page is copied.
func (s *Sender) Page(f Filter, offset, limit int) (page []Delivery, total int) {
	s.mu.Lock()
	var erased []bool
	for i := len(s.log) - 1; i >= 0; i-- {
		d := s.log[i]
		if !f.matches(d) {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, d.view())
			erased = append(erased, d.erased)
		}
		total++
	}
	s.mu.Unlock()
	for i := range page {
		page[i].Payload = s.payload(page[i], erased[i])
	}
	return page, total
}

// Get returns delivery id with its payload, or a 404.
func (s *Sender) Get(id string) (Delivery, error) {
	s.mu.Lock()
	d := s.byIDLocked(id)
	if d == nil {
		s.mu.Unlock()
		return Delivery{}, apierr.New(apierr.NotFound, "No delivery %q", id)
	}
	v, erased := d.view(), d.erased
	s.mu.Unlock()
	v.Payload = s.payload(v, erased)
	return v, nil
}

// byIDLocked returns delivery id (its number is in it), or nil.
func (s *Sender) byIDLocked(id string) *delivery {
	rest, ok := strings.CutPrefix(id, "dlv_")
	num, _, ok2 := strings.Cut(rest, "_")
	seq, err := strconv.Atoi(num)
	if !ok || !ok2 || err != nil {
		return nil
	}
	if d := s.bySeq(seq); d != nil && d.id() == id {
		return d
	}
	return nil
}

// payload renders what v carries from its application as it stands ({} once it is anonymized,
// nothing when the application is gone).
func (s *Sender) payload(v Delivery, erased bool) json.RawMessage {
	if erased {
		return erasedPayload
	}
	app, err := s.deps.Lookup(v.ReferenceID)
	if err != nil {
		return nil
	}
	if app.Status == domain.Anonymized {
		return erasedPayload
	}
	return s.render(v, app)
}

// render is what v sends about app as it stands: the results (PUT to the callback URL) or the
// event's envelope; nil, logged, when it does not encode.
func (s *Sender) render(v Delivery, app domain.Application) json.RawMessage {
	var p any = s.deps.Results(app)
	if v.Kind == KindWebhook {
		p = envelope(v.EventID, domain.EventType(v.EventType), app)
	}
	b, err := json.Marshal(p)
	if err != nil {
		s.deps.Logger.Error("render payload", "delivery", v.ID, "err", err)
		return nil
	}
	return b
}

// CanRedeliver reports whether a delivery in status st may be sent again: once it has finished
// (delivered, or failed), never while it runs, never once cancelled (its application anonymized,
// its webhook deleted). Redeliver applies it; the console asks it before offering the button.
func CanRedeliver(st Status) bool { return st == Delivered || st == Failed }

// Redeliver starts a new series of attempts for a finished delivery (409 while one is running,
// for a cancelled one, one of an anonymized application, and one to a webhook deleted since). A
// webhook delivery goes where the webhook points now, signed with its secret then, after what is
// pending in its lane. It returns once the new plan is durable.
func (s *Sender) Redeliver(id string) (Delivery, error) {
	s.mu.Lock()
	d := s.byIDLocked(id)
	var err error
	switch {
	case d == nil:
		err = apierr.New(apierr.NotFound, "No delivery %q", id)
	case d.erased:
		err = apierr.New(apierr.Conflict, "Delivery %s is of an anonymized application: nothing of it may be sent again", id)
	case d.status == Cancelled:
		err = apierr.New(apierr.Conflict, "Delivery %s was cancelled (%s): it may not be sent again", id, d.reason)
	case !CanRedeliver(d.status):
		err = apierr.New(apierr.Conflict, "Delivery %s is %s: redeliver it once it has finished", id, d.status)
	case s.closing:
		err = apierr.New(apierr.Unavailable, "Shutting down")
	}
	var hook domain.Webhook
	if err == nil && d.kind == KindWebhook {
		var ok bool
		if hook, ok = s.hooks[d.client][d.webhook]; !ok {
			err = apierr.New(apierr.Conflict, "Delivery %s was to webhook %q of %s, which is deleted: register it again to receive new events", id, d.webhook, d.client)
		}
	}
	if err != nil {
		s.mu.Unlock()
		return Delivery{}, err
	}
	if d.kind == KindWebhook {
		d.url = hook.URL
		s.lanes[d.lane()] = append(s.lanes[d.lane()], d)
	}
	d.series, d.reason, d.after = 0, "", nil
	s.nextLocked(d, s.deps.Clock.Now())
	pos := s.appendLocked(records([]*delivery{d})...)
	s.planLocked(pos, d)
	v := d.view()
	s.mu.Unlock()
	if err := s.finish(pos); err != nil {
		return v, err
	}
	v.Payload = s.payload(v, false)
	return v, nil
}

// Reset forgets every delivery and webhook (not the numbers given: none is given twice); attempts
// in flight finish unrecorded. It returns once that is durable.
func (s *Sender) Reset() error {
	s.mu.Lock()
	s.log, s.first, s.ready, s.arming = nil, s.lastSeq+1, nil, nil
	s.hooks, s.lanes, s.gated = make(map[string]map[string]domain.Webhook), make(map[lane][]*delivery), make(map[string]map[*delivery]bool)
	pos := s.appendLocked(persist.Clear(persist.Deliveries), persist.Clear(persist.Webhooks))
	s.mu.Unlock()
	s.queue.Reset()
	return s.finish(pos)
}
