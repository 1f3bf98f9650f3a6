package persist_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/persist"
	"github.com/equalture/equalture-mock/internal/store"
)

func webhook(client, label, url string) store.Webhook {
	return store.Webhook{ClientID: client, Label: label, URL: url, Secret: "whsec_" + label, CreatedAt: t0, UpdatedAt: t0}
}

func hooks(st persist.State) string {
	var out []string
	for _, w := range st.Store.Webhooks {
		out = append(out, fmt.Sprintf("%s/%s %s %s", w.ClientID, w.Label, w.URL, w.Secret))
	}
	return strings.Join(out, "; ")
}

// Webhooks come back after a restart as the newest revision left them, whatever order their
// writes reached the disk in: a deletion stays a deletion, a reset removes what came before it.
func TestWebhooksInAnyOrder(t *testing.T) {
	put := func(rev uint64, w store.Webhook) store.Change { return store.Change{Rev: rev, Webhook: &w} }
	del := func(rev uint64, ws ...store.Webhook) store.Change { return store.Change{Rev: rev, Unhooked: ws} }
	a, a2, b := webhook("c", "a", "https://a.example"), webhook("c", "a", "https://a2.example"), webhook("d", "b", "https://b.example")
	tests := map[string]struct {
		changes []store.Change
		want    string
	}{
		"in order":                         {[]store.Change{put(1, a), put(2, b), put(3, a2)}, "c/a https://a2.example whsec_a; d/b https://b.example whsec_b"},
		"an older update lands last":       {[]store.Change{put(1, a), put(3, a2), put(2, a)}, "c/a https://a2.example whsec_a"},
		"deleted":                          {[]store.Change{put(1, a), put(2, b), del(3, a, b)}, ""},
		"a deletion lands before its put":  {[]store.Change{del(2, a), put(1, a), put(3, b)}, "d/b https://b.example whsec_b"},
		"registered again after deletion":  {[]store.Change{put(1, a), del(2, a), put(3, a2)}, "c/a https://a2.example whsec_a"},
		"a reset removes what came before": {[]store.Change{put(1, a), {Rev: 2, Reset: true}, put(3, b)}, "d/b https://b.example whsec_b"},
		"a put older than a reset lands after it": {
			[]store.Change{{Rev: 2, Reset: true}, put(1, a)}, "",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			db, _ := open(t, t.TempDir())
			for _, c := range tc.changes {
				must(t, db.WriteStore(c))
			}
			_, st := reopen(t, db)
			if got := hooks(st); got != tc.want {
				t.Fatalf("restored %q, want %q", got, tc.want)
			}
			if want := tc.changes[len(tc.changes)-1].Rev; st.Store.Rev < want {
				t.Fatalf("store revision %d, want at least %d", st.Store.Rev, want)
			}
		})
	}
}

// A data file written before webhooks existed has no webhooks bucket: it opens without webhooks,
// and the first webhook written makes the bucket. Webhook records an older equalture-mock's reset
// left behind (it did not know the bucket) are not read back.
func TestAFileFromBeforeWebhooks(t *testing.T) {
	dir := t.TempDir()
	db, _ := open(t, dir)
	must(t, db.WriteStore(store.Change{Rev: 1, Application: app("r1", store.Invited), Created: true}))
	must(t, db.Close())
	raw := func(fn func(*bolt.Tx) error) {
		t.Helper()
		b, err := bolt.Open(db.Path(), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		must(t, b.Update(fn))
		must(t, b.Close())
	}
	raw(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("webhooks")) })

	db, st := open(t, dir)
	if len(st.Store.Applications) != 1 || len(st.Store.Webhooks) != 0 {
		t.Fatalf("an older file read back as %+v", st.Store)
	}
	w := webhook("c", "a", "https://a.example")
	must(t, db.WriteStore(store.Change{Rev: 2, Webhook: &w}))
	db, st = reopen(t, db)
	if got := hooks(st); got != "c/a https://a.example whsec_a" {
		t.Fatalf("restored %q", got)
	}
	must(t, db.Close())

	// An older equalture-mock resets: it moves the reset revision on, and leaves the bucket alone.
	raw(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("state")).Put([]byte("store_reset"), binary.BigEndian.AppendUint64(nil, 9))
	})
	_, st = open(t, dir)
	if got := hooks(st); got != "" {
		t.Fatalf("a webhook from before an older mock's reset came back: %q", got)
	}
}

func TestDeliveriesKeepTheirSecret(t *testing.T) {
	db, _ := open(t, t.TempDir())
	s := saved(1, delivery.Pending)
	s.Secret, s.Delivery.Kind, s.Delivery.EventID = "whsec_abc", delivery.KindWebhook, "e1"
	must(t, db.WriteDeliveries(delivery.Write{Rev: 1, Deliveries: []delivery.Saved{s}}))
	_, st := reopen(t, db)
	if got := st.Deliveries.Deliveries[0]; got.Secret != "whsec_abc" || got.Delivery.Kind != delivery.KindWebhook || got.Delivery.EventID != "e1" {
		t.Fatalf("restored %+v", got)
	}
}
