package delivery

import (
	"fmt"
	"time"

	"github.com/equalture/equalture-mock/internal/store"
)

// What a dispatcher with a data dir writes through, and how it picks up after a restart.

// Persistence is where a durable dispatcher writes its deliveries. WriteDeliveries must be durable
// when it returns, and must ignore a delivery older (by Rev) than what it holds of it, and any
// write older than the last reset.
type Persistence interface {
	WriteDeliveries(Write) error
}

// Write is one change of the delivery log, as of revision Rev.
type Write struct {
	Rev        uint64
	Deliveries []Saved
	// Reset empties the log: every delivery written before Rev is gone (their numbers stay used).
	Reset bool
}

// Saved is a delivery as it is written through and given back at start-up.
type Saved struct {
	Delivery Delivery
	Series   int    // attempts made in the current series
	Seq      int    // the delivery's number (creation order)
	Secret   string // the webhook secret that signs it
}

// Restored is what a Persistence gave back at start-up.
type Restored struct {
	Deliveries []Saved // in creation order
	LastSeq    int     // the highest delivery number ever given, reset ones included
	Rev        uint64  // the newest write's revision
}

// writeLocked is the write of dls as they stand, stamped with the next revision; nil without
// persistence.
func (d *Dispatcher) writeLocked(dls ...*Delivery) *Write {
	if d.deps.Persistence == nil {
		return nil
	}
	d.rev++
	w := &Write{Rev: d.rev, Deliveries: make([]Saved, len(dls))}
	for i, dl := range dls {
		w.Deliveries[i] = Saved{Delivery: dl.clone(), Series: dl.series, Seq: dl.seq, Secret: dl.secret}
	}
	return w
}

// save makes w durable (nothing when w is nil).
func (d *Dispatcher) save(w *Write) error {
	if w == nil {
		return nil
	}
	if err := d.deps.Persistence.WriteDeliveries(*w); err != nil {
		return fmt.Errorf("delivery: saving the log: %w", err)
	}
	return nil
}

// saveAndArm writes w, then arms the planned attempt of each of dls that still stands as planned
// (not reset, cancelled or finished meanwhile): an attempt never starts before its plan is
// durable, so a crash cannot send a callback the log does not hold. It releases the busy hold its
// caller took, so Settled does not see an idle dispatcher between the plan and its arming. A failed
// write still arms: the deliveries go on in memory.
func (d *Dispatcher) saveAndArm(w *Write, now time.Time, dls ...*Delivery) error {
	err := d.save(w)
	d.mu.Lock()
	d.busy--
	for _, dl := range dls {
		if d.all[dl.ID] == dl && dl.Status == Pending && !d.closing {
			d.armLocked(dl, now)
		}
	}
	d.mu.Unlock()
	d.changed.Notify()
	return err
}

// Resume starts what a restart interrupted. Restored deliveries that were pending get their next
// attempt as planned, at once when it is due; one in flight at the crash was saved as pending, so
// its attempt is made again (callbacks are at least once: receivers de-duplicate on the delivery
// id, events on their id). Completed applications whose results delivery a crash lost before it
// was saved get one (an event lost so is not raised again: who was subscribed then is not known).
// Call it once the mock is assembled: payloads are rendered by the lifecycle. Without persistence
// it does nothing.
func (d *Dispatcher) Resume() {
	if d.deps.Persistence == nil {
		return
	}
	now := d.deps.Clock.Now()
	d.mu.Lock()
	have := make(map[string]bool, len(d.order))
	resumed := 0
	for _, id := range d.order {
		dl := d.all[id]
		if dl.Kind == KindResults {
			have[dl.ReferenceID] = true
		}
		if dl.Status != Pending && dl.Status != Delivering {
			continue
		}
		dl.Status = Pending
		if dl.NextAttemptAt == nil {
			dl.NextAttemptAt = &now
		}
		d.armLocked(dl, now)
		resumed++
	}
	d.mu.Unlock()
	d.changed.Notify()
	lost := 0
	for _, app := range d.deps.Store.List("") {
		if !app.CompletedAt.IsZero() && app.Status != store.Anonymized && !have[app.ReferenceID] {
			d.enqueue(app, now)
			lost++
		}
	}
	if resumed+lost > 0 {
		d.deps.Logger.Info("callbacks resumed after a restart", "pending", resumed, "recreated", lost)
	}
}
