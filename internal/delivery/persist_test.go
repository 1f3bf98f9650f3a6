package delivery_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/store"
)

// disk is a Persistence that keeps every write and, like a disk, takes a moment to make one
// durable; at each write it notes how many attempts the receiver had seen.
type disk struct {
	rcv *receiver

	mu     sync.Mutex
	writes []delivery.Write
	seen   []int64 // the receiver's count when each write began
	fail   error
}

func (p *disk) WriteDeliveries(w delivery.Write) error {
	var seen int64
	if p.rcv != nil {
		seen = p.rcv.counter.Load()
	}
	time.Sleep(2 * time.Millisecond) // an fsync: widens the window an early attempt would use
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.writes = append(p.writes, w)
	p.seen = append(p.seen, seen)
	return nil
}

func (p *disk) all() ([]delivery.Write, []int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]delivery.Write(nil), p.writes...), append([]int64(nil), p.seen...)
}

func durable(p delivery.Persistence, r delivery.Restored) func(*world, *delivery.Deps) {
	return func(_ *world, d *delivery.Deps) { d.Persistence, d.Restored = p, r }
}

func TestEveryChangeIsWrittenBeforeTheNextAttempt(t *testing.T) {
	rcv := newReceiver(t, 500, 500, 200)
	p := &disk{rcv: rcv}
	// A zero-delay schedule: each retry is due the moment the previous attempt is recorded, so an
	// attempt armed before its plan was saved would reach the receiver during the write.
	w := newWorld(t, delivery.Config{Schedule: []time.Duration{0}, MaxAttempts: 5}, durable(p, delivery.Restored{}))
	ref := w.complete(rcv.URL)
	dl := w.until(ref, attempts(3, delivery.Delivered))
	w.settle()

	writes, seen := p.all()
	want := []struct {
		status   delivery.Status
		attempts int
	}{{delivery.Pending, 0}, {delivery.Pending, 1}, {delivery.Pending, 2}, {delivery.Delivered, 3}}
	if len(writes) != len(want) {
		t.Fatalf("%d writes, want %d", len(writes), len(want))
	}
	for i, wr := range writes {
		s := wr.Deliveries[0]
		if wr.Rev != uint64(i+1) || s.Delivery.ID != dl.ID || s.Seq != 1 || s.Delivery.Status != want[i].status || len(s.Delivery.Attempts) != want[i].attempts {
			t.Fatalf("write %d = rev %d, %s seq %d %s after %d attempts; want %+v", i, wr.Rev, s.Delivery.ID, s.Seq, s.Delivery.Status, len(s.Delivery.Attempts), want[i])
		}
		if seen[i] != int64(want[i].attempts) {
			t.Fatalf("write %d began after the receiver had seen %d attempts, want %d: an attempt started before its plan was saved", i, seen[i], want[i].attempts)
		}
	}
}

func TestResumeAfterARestart(t *testing.T) {
	rcv := newReceiver(t, 200)
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	saved := func(seq int, ref string, status delivery.Status, next *time.Time, attempts, series int) delivery.Saved {
		d := delivery.Delivery{
			ID: fmt.Sprintf("dlv_%06d_%s", seq, ref[:8]), ReferenceID: ref, ClientID: "demo-client", URL: rcv.URL,
			Status: status, NextAttemptAt: next, CreatedAt: t0, Payload: json.RawMessage(`{"fit":"high"}`),
		}
		for n := 1; n <= attempts; n++ {
			d.Attempts = append(d.Attempts, delivery.Attempt{N: n, At: t0, StatusCode: 500})
		}
		return delivery.Saved{Delivery: d, Series: series, Seq: seq}
	}
	const (
		refDue     = "00000000-0000-4000-8000-00000000000a" // in flight at the crash: saved as pending, due
		refLater   = "00000000-0000-4000-8000-00000000000b" // its retry is 5 s away
		refDone    = "00000000-0000-4000-8000-00000000000c"
		refLost    = "00000000-0000-4000-8000-00000000000d" // completed, its delivery lost before it was saved
		refAnon    = "00000000-0000-4000-8000-00000000000e" // completed then anonymized: no delivery
		refInvited = "00000000-0000-4000-8000-00000000000f"
	)
	restored := delivery.Restored{
		Deliveries: []delivery.Saved{
			saved(3, refDue, delivery.Pending, at(0), 0, 0),
			saved(5, refLater, delivery.Pending, at(5*time.Second), 1, 1),
			saved(6, refDone, delivery.Delivered, nil, 1, 1),
		},
		LastSeq: 7, // a delivery reset since had number 7
		Rev:     40,
	}
	app := func(ref string, st store.Status) store.Application {
		a := store.Application{ReferenceID: ref, ClientID: "demo-client", JobID: jobID, CallbackURL: rcv.URL, Status: st, InvitationExpiresAt: t0.Add(time.Hour)}
		if st != store.Invited {
			a.CompletedAt = t0
			a.Scores = map[string]int{"working_memory": 3}
		}
		return a
	}
	snap := store.Snapshot{Applications: []store.Application{
		app(refDue, store.Completed), app(refLater, store.Completed), app(refDone, store.Hired),
		app(refLost, store.Completed), app(refAnon, store.Anonymized), app(refInvited, store.Invited),
	}}
	p := &disk{}
	w := newWorld(t, delivery.Config{Jitter: 0}, durable(p, restored), func(w *world, d *delivery.Deps) {
		d.Store = store.Open(w.clock, nil, snap)
	})
	if n := len(w.d.List(delivery.Filter{})); n != 3 {
		t.Fatalf("%d deliveries restored, want 3", n)
	}
	w.settle()
	if n := rcv.counter.Load(); n != 0 {
		t.Fatalf("%d attempts before Resume", n)
	}

	w.d.Resume()
	w.until(refDue, attempts(1, delivery.Delivered))
	lost := w.until(refLost, attempts(1, delivery.Delivered))
	if got, want := lost.ID, "dlv_000008_00000000"; got != want {
		t.Fatalf("the recreated delivery is %s, want %s (numbers continue after the highest ever given)", got, want)
	}
	w.settle()
	if dl := w.d.List(delivery.Filter{ReferenceID: refLater})[0]; dl.Status != delivery.Pending || len(dl.Attempts) != 1 {
		t.Fatalf("a retry 5 s away was made before the clock got there: %+v", dl)
	}
	for _, ref := range []string{refAnon, refInvited} {
		if n := len(w.d.List(delivery.Filter{ReferenceID: ref})); n != 0 {
			t.Fatalf("%s got %d deliveries", ref, n)
		}
	}
	w.clock.Advance(5 * time.Second)
	if dl := w.until(refLater, attempts(2, delivery.Delivered)); dl.Attempts[1].N != 2 {
		t.Fatalf("resumed attempt = %+v", dl.Attempts[1])
	}
	if got, want := rcv.counter.Load(), int64(3); got != want {
		t.Fatalf("receiver got %d attempts, want %d", got, want)
	}
	writes, _ := p.all()
	first := writes[0].Rev
	for _, w := range writes { // concurrent writes reach the disk in any order
		first = min(first, w.Rev)
	}
	if first != 41 {
		t.Fatalf("the first write after restoring revision 40 has revision %d", first)
	}
}

func TestCancelAndResetAreWritten(t *testing.T) {
	rcv := newReceiver(t, 500)
	p := &disk{}
	w := newWorld(t, delivery.Config{}, durable(p, delivery.Restored{}))
	ref := w.complete(rcv.URL)
	w.until(ref, attempts(1, delivery.Pending))
	w.settle()
	if err := w.d.Cancel(ref, "anonymized"); err != nil {
		t.Fatal(err)
	}
	if err := w.d.Reset(); err != nil {
		t.Fatal(err)
	}
	writes, _ := p.all()
	cancel, reset := writes[len(writes)-2], writes[len(writes)-1]
	if s := cancel.Deliveries[0].Delivery; s.Status != delivery.Cancelled || string(s.Payload) != "{}" {
		t.Fatalf("cancel wrote %s with payload %s", s.Status, s.Payload)
	}
	if !reset.Reset || len(reset.Deliveries) != 0 || reset.Rev != cancel.Rev+1 {
		t.Fatalf("reset wrote reset=%v, %d deliveries, revision %d after %d", reset.Reset, len(reset.Deliveries), reset.Rev, cancel.Rev)
	}

	p.mu.Lock()
	p.fail = fmt.Errorf("disk full")
	p.mu.Unlock()
	if err := w.d.Reset(); err == nil {
		t.Fatal("a failed write was not reported")
	}
}
