package delivery

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/persist"
)

// What the sender writes to the data file, and how it picks up after a restart.

// keyLastSeq is the state record of the highest delivery number ever given.
const keyLastSeq = "delivery_last_seq"

// record is a delivery as the data file holds it: the log's view (without a payload) and what
// orders it.
type record struct {
	Seq      int      `json:"seq"`
	Series   int      `json:"series"`
	After    []int    `json:"after,omitempty"`
	Erased   bool     `json:"erased,omitempty"`
	Delivery Delivery `json:"delivery"`
}

// records are the writes of ds as they stand.
func records(ds []*delivery) []persist.Write {
	out := make([]persist.Write, len(ds))
	for i, d := range ds {
		v := d.view()
		out[i] = persist.Put(persist.Deliveries, v.ID, record{Seq: d.seq, Series: d.series, After: d.after, Erased: d.erased, Delivery: v})
	}
	return out
}

// fromRecord is the delivery r holds.
func fromRecord(r record) *delivery {
	v := r.Delivery
	d := &delivery{
		seq: r.Seq, ref: v.ReferenceID, client: domain.Intern(v.ClientID), kind: v.Kind, event: domain.EventType(v.EventType),
		eventID: v.EventID, webhook: v.Webhook, url: v.URL, status: v.Status, reason: v.Reason,
		attempts: v.Attempts, created: v.CreatedAt, series: r.Series, after: r.After,
		erased: r.Erased, // a version-1 file's erased payload ({}) is this mark since the upgrade to version 3
	}
	if d.kind == "" { // written before deliveries had kinds
		d.kind = KindResults
	}
	if d.attempts == nil {
		d.attempts = []Attempt{}
	}
	if v.NextAttemptAt != nil {
		d.next = *v.NextAttemptAt
	}
	return d
}

// load reads the deliveries and webhooks back from the data file.
func (s *Sender) load() error {
	if s.db == nil {
		return nil
	}
	if _, err := s.db.GetJSON(persist.State, keyLastSeq, &s.lastSeq); err != nil {
		return err
	}
	var ds []*delivery
	err := s.db.Load(persist.Deliveries, func(n int) { ds = make([]*delivery, n) }, func(i int, k, v []byte) error {
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if r.Delivery.ID != string(k) {
			return fmt.Errorf("it holds delivery %q", r.Delivery.ID)
		}
		ds[i] = fromRecord(r)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(ds, func(a, b *delivery) int { return a.seq - b.seq })
	if len(ds) > 0 {
		s.first = ds[0].seq
		s.log = make([]*delivery, ds[len(ds)-1].seq-s.first+1)
		for _, d := range ds {
			s.log[d.seq-s.first] = d
		}
		s.lastSeq = max(s.lastSeq, ds[len(ds)-1].seq)
	} else {
		s.first = s.lastSeq + 1
	}
	var hooks []domain.Webhook
	err = s.db.Load(persist.Webhooks, func(n int) { hooks = make([]domain.Webhook, n) }, func(i int, k, v []byte) error {
		if err := json.Unmarshal(v, &hooks[i]); err != nil {
			return err
		}
		if string(k) != webhookKey(hooks[i].ClientID, hooks[i].Label) {
			return fmt.Errorf("it holds webhook %q of %q", hooks[i].Label, hooks[i].ClientID)
		}
		return nil
	})
	for _, w := range hooks {
		s.hookLocked(w)
	}
	return err
}

// Resume starts what a restart interrupted: the deliveries that were pending get their next
// attempt as planned, at once when it is due, in their turn; one in flight at the crash was
// written as it stood before its attempt, so its attempt is made again (deliveries are at least
// once: receivers de-duplicate on the delivery id, events on their id). Call it once the mock is
// assembled: payloads are rendered from the applications.
func (s *Sender) Resume() {
	now := s.deps.Clock.Now()
	s.mu.Lock()
	var resumed []*delivery
	for _, d := range s.log {
		if d == nil || !d.unfinished() {
			continue
		}
		d.status, d.durable = Pending, true
		if d.next.IsZero() {
			d.next = now
		}
		if d.kind == KindWebhook {
			s.lanes[d.lane()] = append(s.lanes[d.lane()], d)
		}
		resumed = append(resumed, d)
	}
	for _, d := range resumed {
		s.scheduleLocked(d)
	}
	s.mu.Unlock()
	s.changed.Notify()
	if len(resumed) > 0 {
		s.deps.Logger.Info("callbacks resumed after a restart", "pending", len(resumed))
	}
}
