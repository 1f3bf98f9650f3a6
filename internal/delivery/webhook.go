package delivery

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/equalture/equalture-mock/internal/store"
)

// The vendor webhook events. The vendor's documentation names them application_started and
// application_finished in its list of events and assessment_started and assessment_finished in
// their payloads; the payloads are what receivers parse, so the mock sends those.
const (
	EventStarted  = "assessment_started"  // the applicant opened the assessment
	EventFinished = "assessment_finished" // the applicant completed it
)

// EventTypes are the events, in the order an application has them.
var EventTypes = []string{EventStarted, EventFinished}

// NaiveLayout is how application_start_date is written: the vendor's example is a naive date-time
// (2025-02-17T11:58:11), sent in UTC on the mock's clock.
const NaiveLayout = "2006-01-02T15:04:05"

// Envelope is what a webhook receives: the event's id (a UUID, also its webhook-id header), its
// type and its data.
type Envelope struct {
	ID   string    `json:"id"`
	Type string    `json:"type"`
	Data EventData `json:"data"`
}

// EventData is an event's data: the application, and for assessment_started when it started.
type EventData struct {
	ReferenceID          string `json:"reference_id"`
	ApplicationStartDate string `json:"application_start_date,omitempty"`
}

// data is the data of event typ about app.
func data(typ string, app store.Application) EventData {
	out := EventData{ReferenceID: app.ReferenceID}
	if typ == EventStarted {
		out.ApplicationStartDate = app.StartedAt.UTC().Format(NaiveLayout)
	}
	return out
}

// Raise sends event typ about app to every webhook of app's client now (the control API's
// trigger; the lifecycle checks the application may have it) and returns the event's id, "" when
// the client has no webhook. The error is a failed write-through.
func (d *Dispatcher) Raise(app store.Application, typ string) (string, error) {
	if !slices.Contains(EventTypes, typ) {
		return "", fmt.Errorf("delivery: no event %q", typ)
	}
	return d.raise(app, typ, d.deps.Clock.Now())
}

// raise makes one delivery of event typ for each webhook of app's client, all with one event id
// (drawn from the seed and the first delivery's number: reproducible, never the same twice), and
// saves them before it returns.
func (d *Dispatcher) raise(app store.Application, typ string, now time.Time) (string, error) {
	d.mu.Lock()
	if d.closing {
		d.mu.Unlock()
		d.deps.Logger.Warn("event not sent: shutting down", "reference_id", app.ReferenceID, "event", typ)
		return "", nil
	}
	// Read under the dispatcher's lock (the store never calls into it while holding its own): a
	// webhook deleted or updated meanwhile is cancelled or retargeted after these are made, and
	// an application anonymized meanwhile gets none.
	hooks := d.deps.Store.Webhooks(app.ClientID)
	if len(hooks) == 0 || d.anonymized(app.ReferenceID) {
		d.mu.Unlock()
		return "", nil
	}
	id := eventID(d.cfg.Seed, d.nextID+1)
	body, err := json.Marshal(Envelope{ID: id, Type: typ, Data: data(typ, app)})
	if err != nil { // a struct of strings
		d.mu.Unlock()
		return "", fmt.Errorf("delivery: encoding event %s: %w", typ, err)
	}
	dls := make([]*Delivery, len(hooks))
	for i, h := range hooks {
		dl := d.newLocked(app, KindWebhook, now, body)
		dl.Method, dl.URL, dl.secret = http.MethodPost, h.URL, h.Secret
		dl.EventType, dl.EventID, dl.Webhook = typ, id, h.Label
		d.planLocked(dl, now)
		dls[i] = dl
	}
	d.busy++
	w := d.writeLocked(dls...)
	d.mu.Unlock()
	err = d.saveAndArm(w, now, dls...)
	if err != nil {
		d.deps.Logger.Error("event not saved", "event", id, "type", typ, "reference_id", app.ReferenceID, "err", err)
	}
	return id, err
}

// anonymized reports whether application ref is anonymized by now: nothing more of it leaves.
func (d *Dispatcher) anonymized(ref string) bool {
	app, err := d.deps.Store.Lookup(ref)
	return err == nil && app.Status == store.Anonymized
}

// eventID is the UUID (version 4 in form) of the event whose first delivery is number seq.
func eventID(seed uint64, seq int) string {
	r := rand.New(rand.NewPCG(seed^0x6576656e74, uint64(seq))) // "event": not the jitter's stream
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// lane is what orders a webhook delivery's attempts with others: the events of one application to
// one webhook go one at a time. Results deliveries have none.
func (dl *Delivery) lane() string {
	if dl.Kind != KindWebhook {
		return ""
	}
	return dl.ClientID + "\x00" + dl.Webhook + "\x00" + dl.ReferenceID
}

// jitterKey is what a delivery's jitter is drawn for, with the seed and the attempt.
func (dl *Delivery) jitterKey() string {
	if dl.Kind != KindWebhook {
		return dl.ReferenceID
	}
	return dl.ReferenceID + " " + dl.EventType + " " + dl.Webhook
}

// CancelWebhook cancels the deliveries to clientID's webhook label that have not finished, for
// reason (the webhook was deleted): no attempt follows. Finished ones keep their status. The error
// is a failed write-through.
func (d *Dispatcher) CancelWebhook(clientID, label, reason string) error {
	return d.touchWebhook(clientID, label, func(dl *Delivery) {
		dl.Status, dl.Reason, dl.NextAttemptAt = Cancelled, reason, nil
	})
}

// RetargetWebhook points the deliveries to h (its client and label) that have not finished at
// its URL and secret now: their next attempts go there, signed so. The error is a failed
// write-through.
func (d *Dispatcher) RetargetWebhook(h store.Webhook) error {
	return d.touchWebhook(h.ClientID, h.Label, func(dl *Delivery) { dl.URL, dl.secret = h.URL, h.Secret })
}

// touchWebhook applies fn to the unfinished deliveries to clientID's webhook label and writes them.
func (d *Dispatcher) touchWebhook(clientID, label string, fn func(*Delivery)) error {
	return d.touch(func(dl *Delivery) bool {
		return dl.Kind == KindWebhook && dl.ClientID == clientID && dl.Webhook == label && (dl.Status == Pending || dl.Status == Delivering)
	}, fn)
}
