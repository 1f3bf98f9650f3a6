package persist

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/store"
)

// Keys of the state bucket.
var (
	keyStoreReset      = []byte("store_reset")
	keyDeliveriesReset = []byte("deliveries_reset")
	keyDeliveryLastSeq = []byte("delivery_last_seq")
	keyIDsReserved     = []byte("ids_reserved")
	keyClock           = []byte("clock")
	keySigningKey      = []byte("signing_key")
)

// State is everything the data file holds, as the parts of the mock take it back at start-up.
type State struct {
	Store      store.Snapshot
	Deliveries delivery.Restored
	// Clock is the clock's course and ClockRev its revision; nil in a new file.
	Clock    *clock.State
	ClockRev uint64
	// SigningKey signs tokens and links; nil in a new file.
	SigningKey []byte
	// IDsReserved is how many reference ids may have been drawn.
	IDsReserved uint64
}

// deliveryDoc is a delivery's record: the delivery and what the dispatcher keeps unexported.
type deliveryDoc struct {
	Seq      int               `json:"seq"`
	Series   int               `json:"series"`
	Secret   string            `json:"secret,omitempty"`
	Delivery delivery.Delivery `json:"delivery"`
}

// webhookDoc is a webhook's record; a deleted one stays as a tombstone (until a reset drops it),
// so that a write that lost the race to the disk cannot bring it back.
type webhookDoc struct {
	Webhook store.Webhook `json:"webhook"`
	Deleted bool          `json:"deleted,omitempty"`
}

// webhookKey is a webhook record's key: its client id and label, NUL between them.
func webhookKey(w store.Webhook) []byte { return []byte(w.ClientID + "\x00" + w.Label) }

// clockDoc is the clock's course: frozen at Now, or running Offset ahead of real time.
type clockDoc struct {
	Frozen bool          `json:"frozen"`
	Now    time.Time     `json:"now"`
	Offset time.Duration `json:"offset_ns"`
}

// WriteStore makes a store change durable (store.Persistence).
func (db *DB) WriteStore(c store.Change) error {
	var app, mail []byte
	erased := make(map[string][]byte, len(c.Erased)) // reference id → the email as it now stands
	gens := make(map[string][]byte, len(c.Tokens))
	hooks := make(map[string][]byte, len(c.Unhooked)+1) // key → record
	err := func() (err error) {
		if w := c.Webhook; w != nil {
			if hooks[string(webhookKey(*w))], err = versioned(c.Rev, webhookDoc{Webhook: *w}); err != nil {
				return err
			}
		}
		for _, w := range c.Unhooked {
			tomb := store.Webhook{ClientID: w.ClientID, Label: w.Label}
			if hooks[string(webhookKey(w))], err = versioned(c.Rev, webhookDoc{Webhook: tomb, Deleted: true}); err != nil {
				return err
			}
		}
		if c.Application != nil {
			if app, err = versioned(c.Rev, c.Application); err != nil {
				return err
			}
		}
		if c.Email != nil {
			if mail, err = json.Marshal(c.Email); err != nil {
				return err
			}
		}
		for _, m := range c.Erased {
			if erased[m.ReferenceID], err = json.Marshal(m); err != nil {
				return err
			}
		}
		for id, g := range c.Tokens {
			if gens[id], err = versioned(c.Rev, g); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		return fmt.Errorf("persist: encoding a store change: %w", err)
	}
	return db.write(func(tx *bolt.Tx) error {
		state := tx.Bucket(bucketState)
		reset := counter(state, keyStoreReset)
		if c.Rev <= reset {
			return nil // undone by a later reset
		}
		if c.Reset {
			var hooks error
			if b := tx.Bucket(bucketWebhooks); b != nil {
				hooks = dropOlder(b, c.Rev, revOfValue)
			}
			return errors.Join(
				dropOlder(tx.Bucket(bucketApps), c.Rev, revOfValue),
				dropOlder(tx.Bucket(bucketOrder), c.Rev, revOfKey),
				dropOlder(tx.Bucket(bucketOutbox), c.Rev, revOfKey),
				dropOlder(tx.Bucket(bucketTokens), c.Rev, revOfValue),
				hooks,
				putCounter(state, keyStoreReset, c.Rev),
			)
		}
		if app != nil {
			ref := []byte(c.Application.ReferenceID)
			if err := putNewer(tx.Bucket(bucketApps), ref, c.Rev, app); err != nil {
				return err
			}
			if c.Created {
				if err := appending(tx, bucketOrder).Put(be64(c.Rev), ref); err != nil {
					return err
				}
			}
		}
		if mail != nil {
			if err := appending(tx, bucketOutbox).Put(be64(c.Rev), mail); err != nil {
				return err
			}
		}
		if len(erased) > 0 {
			if err := replaceEmails(tx.Bucket(bucketOutbox), erased); err != nil {
				return err
			}
		}
		for id, g := range gens {
			if err := putNewer(tx.Bucket(bucketTokens), []byte(id), c.Rev, g); err != nil {
				return err
			}
		}
		if len(hooks) > 0 {
			b, err := tx.CreateBucketIfNotExists(bucketWebhooks)
			if err != nil {
				return err
			}
			for key, doc := range hooks {
				if err := putNewer(b, []byte(key), c.Rev, doc); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// WriteDeliveries makes a change of the delivery log durable (delivery.Persistence).
func (db *DB) WriteDeliveries(w delivery.Write) error {
	docs := make([][]byte, len(w.Deliveries))
	for i, s := range w.Deliveries {
		var err error
		if docs[i], err = versioned(w.Rev, deliveryDoc{Seq: s.Seq, Series: s.Series, Secret: s.Secret, Delivery: s.Delivery}); err != nil {
			return fmt.Errorf("persist: encoding delivery %s: %w", s.Delivery.ID, err)
		}
	}
	return db.write(func(tx *bolt.Tx) error {
		state := tx.Bucket(bucketState)
		if w.Rev <= counter(state, keyDeliveriesReset) {
			return nil // undone by a later reset
		}
		if w.Reset {
			return errors.Join(dropOlder(tx.Bucket(bucketDeliveries), w.Rev, revOfValue), putCounter(state, keyDeliveriesReset, w.Rev))
		}
		last := counter(state, keyDeliveryLastSeq)
		for i, s := range w.Deliveries {
			if err := putNewer(tx.Bucket(bucketDeliveries), []byte(s.Delivery.ID), w.Rev, docs[i]); err != nil {
				return err
			}
			last = max(last, uint64(s.Seq))
		}
		return putCounter(state, keyDeliveryLastSeq, last)
	})
}

// ReserveIDs records that up to n reference ids may have been drawn (service.IDReservations).
func (db *DB) ReserveIDs(n uint64) error {
	return db.write(func(tx *bolt.Tx) error {
		state := tx.Bucket(bucketState)
		return putCounter(state, keyIDsReserved, max(n, counter(state, keyIDsReserved)))
	})
}

// WriteClock records the clock's course as of revision rev (what clock.Virtual.Watch hands out).
func (db *DB) WriteClock(st clock.State, rev uint64) error {
	doc := clockDoc{Frozen: st.Frozen}
	if st.Frozen {
		doc.Now = st.Now
	} else {
		doc.Offset = st.Offset
	}
	v, err := versioned(rev, doc)
	if err != nil {
		return fmt.Errorf("persist: encoding the clock: %w", err)
	}
	return db.write(func(tx *bolt.Tx) error {
		state := tx.Bucket(bucketState)
		if old := state.Get(keyClock); old != nil && revOfValue(nil, old) >= rev {
			return nil
		}
		return state.Put(keyClock, v)
	})
}

// WriteSigningKey records the key that signs tokens and links.
func (db *DB) WriteSigningKey(key []byte) error {
	k := bytes.Clone(key)
	return db.write(func(tx *bolt.Tx) error { return tx.Bucket(bucketState).Put(keySigningKey, k) })
}

// load reads the whole state back. A record that does not decode is an error naming it.
func (db *DB) load() (State, error) {
	var st State
	err := guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			for _, name := range allBuckets {
				if tx.Bucket(name) == nil {
					return fmt.Errorf("bucket %q is missing", name)
				}
			}
			state := tx.Bucket(bucketState)
			st.Store.Rev = counter(state, keyStoreReset)
			st.Deliveries.Rev = counter(state, keyDeliveriesReset)
			st.Deliveries.LastSeq = int(counter(state, keyDeliveryLastSeq))
			st.IDsReserved = counter(state, keyIDsReserved)
			if k := state.Get(keySigningKey); k != nil {
				st.SigningKey = bytes.Clone(k)
			}
			if v := state.Get(keyClock); v != nil {
				var doc clockDoc
				rev, err := decode(bucketState, keyClock, v, &doc)
				if err != nil {
					return err
				}
				st.Clock = &clock.State{Now: doc.Now, Frozen: doc.Frozen, Offset: doc.Offset}
				st.ClockRev = rev
			}
			return errors.Join(loadStore(tx, &st.Store), loadDeliveries(tx, &st.Deliveries))
		})
	})
	if err != nil {
		return State{}, fmt.Errorf("data file %s is damaged: %w", db.path, err)
	}
	return st, nil
}

func loadStore(tx *bolt.Tx, snap *store.Snapshot) error {
	appRecs := records(tx.Bucket(bucketApps))
	apps := make([]store.Application, len(appRecs))
	revs := make([]uint64, len(appRecs))
	err := decodeAll(len(appRecs), func(i int) (err error) {
		r := appRecs[i]
		if revs[i], err = decode(bucketApps, r.key, r.value, &apps[i]); err != nil {
			return err
		}
		if apps[i].ReferenceID != string(r.key) {
			return fmt.Errorf("record %s/%q: it holds application %q", bucketApps, r.key, apps[i].ReferenceID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	byRef := make(map[string]int, len(apps))
	for i, a := range apps {
		byRef[a.ReferenceID] = i
		snap.Rev = max(snap.Rev, revs[i])
	}
	snap.Applications = make([]store.Application, 0, len(apps))
	err = tx.Bucket(bucketOrder).ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("record %s/%q: the key is not a revision", bucketOrder, k)
		}
		snap.Rev = max(snap.Rev, revOfKey(k, nil))
		if i, ok := byRef[string(v)]; ok {
			snap.Applications = append(snap.Applications, apps[i])
			delete(byRef, string(v))
		}
		return nil
	})
	if err != nil {
		return err
	}
	// An application whose creation never reached the disk (its write failed) but whose later
	// change did: after the others, oldest first.
	rest := make([]store.Application, 0, len(byRef))
	for _, i := range byRef {
		rest = append(rest, apps[i])
	}
	slices.SortFunc(rest, func(a, b store.Application) int { return a.CreatedAt.Compare(b.CreatedAt) })
	snap.Applications = append(snap.Applications, rest...)

	mails := records(tx.Bucket(bucketOutbox))
	snap.Outbox = make([]store.Email, len(mails))
	err = decodeAll(len(mails), func(i int) error {
		r := mails[i]
		if len(r.key) != 8 {
			return fmt.Errorf("record %s/%q: the key is not a revision", bucketOutbox, r.key)
		}
		if err := json.Unmarshal(r.value, &snap.Outbox[i]); err != nil {
			return fmt.Errorf("record %s/%x: %w", bucketOutbox, r.key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(mails) > 0 {
		snap.Rev = max(snap.Rev, revOfKey(mails[len(mails)-1].key, nil))
	}
	snap.Tokens = make(map[string]store.TokenGeneration)
	err = tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
		var g store.TokenGeneration
		rev, err := decode(bucketTokens, k, v, &g)
		if err != nil {
			return err
		}
		snap.Tokens[string(k)] = g
		snap.Rev = max(snap.Rev, rev)
		return nil
	})
	if err != nil {
		return err
	}
	return loadWebhooks(tx, snap)
}

// loadWebhooks reads the webhooks back: not the tombstones, nor records an older equalture-mock's
// reset left behind (it did not know the bucket).
func loadWebhooks(tx *bolt.Tx, snap *store.Snapshot) error {
	b := tx.Bucket(bucketWebhooks)
	if b == nil {
		return nil
	}
	reset := counter(tx.Bucket(bucketState), keyStoreReset)
	return b.ForEach(func(k, v []byte) error {
		var doc webhookDoc
		rev, err := decode(bucketWebhooks, k, v, &doc)
		if err != nil {
			return err
		}
		if !bytes.Equal(k, webhookKey(doc.Webhook)) {
			return fmt.Errorf("record %s/%q: it holds webhook %q of %q", bucketWebhooks, k, doc.Webhook.Label, doc.Webhook.ClientID)
		}
		snap.Rev = max(snap.Rev, rev)
		if !doc.Deleted && rev > reset {
			snap.Webhooks = append(snap.Webhooks, doc.Webhook)
		}
		return nil
	})
}

func loadDeliveries(tx *bolt.Tx, r *delivery.Restored) error {
	recs := records(tx.Bucket(bucketDeliveries))
	docs := make([]deliveryDoc, len(recs))
	revs := make([]uint64, len(recs))
	err := decodeAll(len(recs), func(i int) (err error) {
		if revs[i], err = decode(bucketDeliveries, recs[i].key, recs[i].value, &docs[i]); err != nil {
			return err
		}
		if docs[i].Delivery.ID != string(recs[i].key) {
			return fmt.Errorf("record %s/%q: it holds delivery %q", bucketDeliveries, recs[i].key, docs[i].Delivery.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.Deliveries = make([]delivery.Saved, len(docs))
	for i, doc := range docs {
		r.Deliveries[i] = delivery.Saved{Delivery: doc.Delivery, Series: doc.Series, Seq: doc.Seq, Secret: doc.Secret}
		r.Rev = max(r.Rev, revs[i])
		r.LastSeq = max(r.LastSeq, doc.Seq)
	}
	slices.SortFunc(r.Deliveries, func(a, b delivery.Saved) int { return a.Seq - b.Seq })
	return nil
}

// record is a key and value as bbolt holds them: valid while its transaction is open.
type record struct{ key, value []byte }

func records(b *bolt.Bucket) []record {
	var out []record
	_ = b.ForEach(func(k, v []byte) error {
		out = append(out, record{k, v})
		return nil
	})
	return out
}

// decodeAll runs decode(i) for every i in [0, n) on every core (JSON decoding is most of a
// start-up), each worker guarded like the reads of its caller, and returns the first error.
func decodeAll(n int, decode func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = guard(func() error {
				for i := w; i < n; i += workers {
					if err := decode(i); err != nil {
						return err
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// versioned encodes a record: its revision (8 bytes, big-endian), then v as JSON.
func versioned(rev uint64, v any) ([]byte, error) {
	doc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(be64(rev), doc...), nil
}

// decode reads a versioned record into v and returns its revision.
func decode(bucket, key, value []byte, v any) (uint64, error) {
	if len(value) < 8 {
		return 0, fmt.Errorf("record %s/%q: %d bytes", bucket, key, len(value))
	}
	if err := json.Unmarshal(value[8:], v); err != nil {
		return 0, fmt.Errorf("record %s/%q: %w", bucket, key, err)
	}
	return revOfValue(key, value), nil
}

// appending returns bucket name for puts that go (nearly always) after its last key: its pages
// are split full rather than half full (bbolt's default, right for random keys), which halves
// the file's share of them and the pages a start-up reads.
func appending(tx *bolt.Tx, name []byte) *bolt.Bucket {
	b := tx.Bucket(name)
	b.FillPercent = 0.95
	return b
}

// putNewer puts a versioned record unless the one stored is as new or newer.
func putNewer(b *bolt.Bucket, key []byte, rev uint64, value []byte) error {
	if old := b.Get(key); old != nil && revOfValue(key, old) >= rev {
		return nil
	}
	return b.Put(key, value)
}

// dropOlder deletes the records of b older than rev (by rev of key and value).
func dropOlder(b *bolt.Bucket, rev uint64, revOf func(k, v []byte) uint64) error {
	var old [][]byte
	_ = b.ForEach(func(k, v []byte) error {
		if revOf(k, v) < rev {
			old = append(old, bytes.Clone(k))
		}
		return nil
	})
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// revOfValue is a versioned record's revision (0 when too short to hold one).
func revOfValue(_, v []byte) uint64 {
	if len(v) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// revOfKey is the revision a key is (outbox and creation order).
func revOfKey(k, _ []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}

func counter(b *bolt.Bucket, key []byte) uint64 { return revOfKey(b.Get(key), nil) }

func putCounter(b *bolt.Bucket, key []byte, n uint64) error { return b.Put(key, be64(n)) }

func be64(n uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n) }

// replaceEmails overwrites the outbox records of the applications erased names (an anonymized
// application's invitation) with what they now hold, so the file keeps no more of them.
func replaceEmails(b *bolt.Bucket, erased map[string][]byte) error {
	type hit struct{ key, value []byte }
	var hits []hit
	err := b.ForEach(func(k, v []byte) error {
		named := false
		for ref := range erased {
			named = named || bytes.Contains(v, []byte(ref))
		}
		if !named {
			return nil // cheaper than decoding every email of the outbox
		}
		var m struct {
			ReferenceID string `json:"reference_id"`
		}
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("record %s/%x: %w", bucketOutbox, k, err)
		}
		if value, ok := erased[m.ReferenceID]; ok {
			hits = append(hits, hit{bytes.Clone(k), value})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, h := range hits {
		if err := b.Put(h.key, h.value); err != nil {
			return err
		}
	}
	return nil
}
