package delivery

import (
	"encoding/json"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/store"
)

// The delivery log as the control API and the console read and move it.

// Filter selects deliveries; empty fields match everything.
type Filter struct {
	ReferenceID, ClientID string
	Status                Status
	Kind                  Kind
	EventType, EventID    string
}

func (f Filter) matches(dl *Delivery) bool {
	return (f.ReferenceID == "" || dl.ReferenceID == f.ReferenceID) && (f.ClientID == "" || dl.ClientID == f.ClientID) &&
		(f.Status == "" || dl.Status == f.Status) && (f.Kind == "" || dl.Kind == f.Kind) &&
		(f.EventType == "" || dl.EventType == f.EventType) && (f.EventID == "" || dl.EventID == f.EventID)
}

// List returns the deliveries f matches, oldest first.
func (d *Dispatcher) List(f Filter) []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := []Delivery{}
	for _, id := range d.order {
		if dl := d.all[id]; f.matches(dl) {
			out = append(out, dl.clone())
		}
	}
	return out
}

// Page returns the deliveries f matches, newest first, from the offset-th on, at most limit of
// them, and how many f matches in all; only the page is copied.
func (d *Dispatcher) Page(f Filter, offset, limit int) (page []Delivery, total int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.order) - 1; i >= 0; i-- {
		dl := d.all[d.order[i]]
		if !f.matches(dl) {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, dl.clone())
		}
		total++
	}
	return page, total
}

// Get returns delivery id, or a 404.
func (d *Dispatcher) Get(id string) (Delivery, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dl, ok := d.all[id]
	if !ok {
		return Delivery{}, apierr.New(apierr.NotFound, "No delivery %q", id)
	}
	return dl.clone(), nil
}

// CanRedeliver reports whether a delivery in status st may be sent again: once it has finished
// (delivered, or failed), never while it runs, never once cancelled (its application anonymized,
// its webhook deleted). Redeliver applies it; the console asks it before offering the button.
func CanRedeliver(st Status) bool { return st == Delivered || st == Failed }

// Redeliver starts a new series of attempts for a finished delivery (409 while one is running,
// for a cancelled one, one of an anonymized application, and one to a webhook deleted since). A
// webhook delivery goes where the webhook points now, signed with its secret now.
func (d *Dispatcher) Redeliver(id string) (Delivery, error) {
	cur, err := d.Get(id)
	if err != nil {
		return Delivery{}, err
	}
	if d.anonymized(cur.ReferenceID) {
		return Delivery{}, apierr.New(apierr.Conflict, "Delivery %s is of an anonymized application: nothing of it may be sent again", id)
	}
	var hook store.Webhook
	if cur.Kind == KindWebhook {
		if hook, err = d.deps.Store.Webhook(cur.ClientID, cur.Webhook); err != nil {
			return Delivery{}, apierr.New(apierr.Conflict, "Delivery %s was to webhook %q of %s, which is deleted: register it again to receive new events", id, cur.Webhook, cur.ClientID)
		}
	}
	d.mu.Lock()
	dl, ok := d.all[id]
	if !ok {
		d.mu.Unlock()
		return Delivery{}, apierr.New(apierr.NotFound, "No delivery %q", id)
	}
	if !CanRedeliver(dl.Status) {
		d.mu.Unlock()
		if dl.Status == Cancelled {
			return Delivery{}, apierr.New(apierr.Conflict, "Delivery %s was cancelled (%s): it may not be sent again", id, dl.Reason)
		}
		return Delivery{}, apierr.New(apierr.Conflict, "Delivery %s is %s: redeliver it once it has finished", id, dl.Status)
	}
	if d.closing {
		d.mu.Unlock()
		return Delivery{}, apierr.New(apierr.Unavailable, "Shutting down")
	}
	if dl.Kind == KindWebhook {
		dl.URL, dl.secret = hook.URL, hook.Secret
	}
	dl.series, dl.Reason = 0, ""
	now := d.deps.Clock.Now()
	dl.Status, dl.NextAttemptAt = Pending, &now
	out := dl.clone()
	d.busy++
	w := d.writeLocked(dl)
	d.mu.Unlock()
	return out, d.saveAndArm(w, now, dl)
}

// Cancel cancels every delivery of application ref that has not succeeded, for reason, and
// erases the payloads kept of all of them: nothing more of its results leaves the mock, and the
// log no longer shows them. An attempt in flight finishes, unrecorded as a success. The error is a
// failed write-through.
func (d *Dispatcher) Cancel(ref, reason string) error {
	return d.touch(func(dl *Delivery) bool { return dl.ReferenceID == ref }, func(dl *Delivery) {
		dl.Payload = json.RawMessage("{}")
		if dl.Status != Delivered {
			dl.Status, dl.Reason, dl.NextAttemptAt = Cancelled, reason, nil
		}
	})
}

// touch applies fn, under the lock, to every delivery match selects, oldest first, and writes
// the ones it touched through. The error is a failed write-through.
func (d *Dispatcher) touch(match func(*Delivery) bool, fn func(*Delivery)) error {
	d.mu.Lock()
	var touched []*Delivery
	for _, id := range d.order {
		if dl := d.all[id]; match(dl) {
			fn(dl)
			touched = append(touched, dl)
		}
	}
	var w *Write
	if len(touched) > 0 {
		w = d.writeLocked(touched...)
	}
	d.mu.Unlock()
	d.changed.Notify()
	return d.save(w)
}

// Reset forgets every delivery; attempts in flight finish unrecorded. The error is a failed
// write-through.
func (d *Dispatcher) Reset() error {
	d.mu.Lock()
	d.all = make(map[string]*Delivery)
	d.order, d.ready = nil, nil
	d.inflight, d.parked = make(map[string]bool), make(map[string][]string)
	w := d.writeLocked()
	if w != nil {
		w.Reset = true
	}
	d.mu.Unlock()
	d.queue.Reset()
	d.changed.Notify()
	return d.save(w)
}
