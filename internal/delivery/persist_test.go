package delivery_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/persist"
)

// saved reads delivery id as the data file holds it now (its durable state).
func saved(t *testing.T, db *persist.DB, id string) (status delivery.Status, attempts int) {
	t.Helper()
	v, err := db.Get(persist.Deliveries, id)
	if err != nil || v == nil {
		t.Fatalf("delivery %s on disk: %q, %v", id, v, err)
	}
	var r struct {
		Delivery delivery.Delivery `json:"delivery"`
	}
	if err := json.Unmarshal(v, &r); err != nil {
		t.Fatal(err)
	}
	return r.Delivery.Status, len(r.Delivery.Attempts)
}

// An attempt is never made before the write that planned it is on disk: at every request the
// receiver gets, the data file already holds the delivery pending with the attempts before it.
func TestEveryPlanIsOnDiskBeforeItsAttempt(t *testing.T) {
	var (
		mu     sync.Mutex
		w      *world
		n      int
		broken []string
	)
	// A zero-delay schedule: each retry is due the moment the previous attempt is recorded, so an
	// attempt made before its plan was written would find the file behind.
	rcv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		attempt := n
		mu.Unlock()
		if status, attempts := saved(t, w.db, r.Header.Get(delivery.HeaderID)); status != delivery.Pending || attempts != attempt-1 {
			mu.Lock()
			broken = append(broken, string(status))
			mu.Unlock()
		}
		if attempt < 3 {
			rw.WriteHeader(http.StatusInternalServerError)
			return
		}
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rcv.Close)
	w = newWorld(t, delivery.Config{Schedule: []time.Duration{0}, MaxAttempts: 5}, onDisk(t.TempDir()))
	ref := w.complete(rcv.URL)
	dl := w.until(ref, attempts(3, delivery.Delivered))
	w.settle()
	if len(broken) > 0 {
		t.Fatalf("attempts made before their plan was on disk (the file said %v)", broken)
	}
	if status, attempts := saved(t, w.db, dl.ID); status != delivery.Delivered || attempts != 3 {
		t.Fatalf("on disk: %s after %d attempts", status, attempts)
	}
}

// A restart picks up where the log was: a retry planned before it is made at its time, a
// delivered one is not sent again, numbers continue after the highest ever given (a reset's
// included), and payloads are rendered from the applications again.
func TestResumeAfterARestart(t *testing.T) {
	failing, ok := newReceiver(t, 500, 200), newReceiver(t, 200)
	w := newWorld(t, delivery.Config{Jitter: 0}, onDisk(t.TempDir()))
	later := w.complete(failing.URL)
	done := w.complete(ok.URL)
	w.until(later, attempts(1, delivery.Pending))
	w.until(done, attempts(1, delivery.Delivered))
	w.settle()
	before := w.d.List(delivery.Filter{ReferenceID: later})[0]

	w.restart()
	if n := len(w.d.List(delivery.Filter{})); n != 2 {
		t.Fatalf("%d deliveries after the restart, want 2", n)
	}
	w.settle()
	if dl := w.d.List(delivery.Filter{ReferenceID: later})[0]; dl.Status != delivery.Pending || len(dl.Attempts) != 1 || !dl.NextAttemptAt.Equal(*before.NextAttemptAt) {
		t.Fatalf("a retry 5 s away after the restart: %+v", dl)
	}
	if string(w.d.List(delivery.Filter{ReferenceID: later})[0].Payload) != string(before.Payload) {
		t.Fatal("the payload rendered after the restart differs")
	}
	w.clock.Advance(5 * time.Second)
	if dl := w.until(later, attempts(2, delivery.Delivered)); dl.Attempts[1].N != 2 {
		t.Fatalf("resumed attempt = %+v", dl.Attempts[1])
	}
	w.settle()
	if failing.counter.Load() != 2 || ok.counter.Load() != 1 {
		t.Fatalf("receivers got %d and %d attempts, want 2 and 1", failing.counter.Load(), ok.counter.Load())
	}
	if err := w.d.Reset(); err != nil {
		t.Fatal(err)
	}
	w.restart()
	next := w.complete(ok.URL)
	if dl := w.until(next, status(delivery.Delivered)); !strings.HasPrefix(dl.ID, "dlv_000003_") {
		t.Fatalf("the first delivery after a reset and a restart is %s, want number 3", dl.ID)
	}
}

// An anonymization is written with the change: its deliveries cancelled and erased on disk too.
func TestAnonymizingIsWrittenWithItsDeliveries(t *testing.T) {
	rcv := newReceiver(t, 500)
	w := newWorld(t, delivery.Config{}, onDisk(t.TempDir()))
	ref := w.complete(rcv.URL)
	dl := w.until(ref, attempts(1, delivery.Pending))
	w.settle()
	w.update(ref, lc.Anonymize)
	if status, _ := saved(t, w.db, dl.ID); status != delivery.Cancelled {
		t.Fatalf("on disk the delivery is %s", status)
	}
	w.restart()
	got, err := w.d.Get(dl.ID)
	if err != nil || got.Status != delivery.Cancelled || got.Reason != delivery.ReasonAnonymized || string(got.Payload) != "{}" {
		t.Fatalf("after a restart: %+v, %v", got, err)
	}
	if _, err := w.d.Redeliver(dl.ID); err == nil {
		t.Fatal("an anonymized application's delivery was sent again after a restart")
	}
}

// A change the data file refuses is not stored: nothing is sent about it, and the sender still
// settles (the file stops; no plan after it becomes durable).
func TestNothingIsSentForAChangeNotStored(t *testing.T) {
	rcv := newReceiver(t, 200)
	w := newWorld(t, delivery.Config{}, onDisk(t.TempDir()))
	w.register("demo-client", "ats", rcv.URL, secretA)
	ref := w.create(rcv.URL, jobID)
	if err := w.store.InvalidateTokens("revoked", strings.Repeat("x", 40<<10)); err == nil { // over bbolt's key size
		t.Fatal("a write bbolt refuses was acknowledged")
	}
	if _, err := w.store.Update("", ref, finish); err == nil {
		t.Fatal("a completion after the file stopped was acknowledged")
	}
	w.settle()
	w.clock.Advance(time.Hour)
	w.settle()
	if n := rcv.counter.Load(); n != 0 {
		t.Fatalf("the receiver got %d requests about a completion the file does not hold", n)
	}
}
