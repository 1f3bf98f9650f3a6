package persist

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// upgrade rewrites a version-1 file as version 2, in one transaction: every record loses the
// 8-byte revision before its JSON (records are written in order now, so none needs it), the
// outbox goes (invitation emails are rendered from their applications), deleted webhooks' tombstones
// and webhook records older than the last reset go, the counters and the signing key become JSON,
// and event numbers start past the delivery numbers version 1 drew event ids from.
func (db *DB) upgrade() error {
	err := guard(func() error {
		return db.bolt.Update(func(tx *bolt.Tx) error {
			state := tx.Bucket([]byte(State))
			storeReset := be64(state.Get([]byte("store_reset")))
			for _, name := range []string{Applications, TokenGenerations, Deliveries} {
				if err := rewrite(tx.Bucket([]byte(name)), func(_, v []byte) ([]byte, error) { return unversioned(v) }); err != nil {
					return fmt.Errorf("bucket %s: %w", name, err)
				}
			}
			if err := rewrite(tx.Bucket([]byte(ApplicationOrder)), func(_, v []byte) ([]byte, error) { return json.Marshal(string(v)) }); err != nil {
				return fmt.Errorf("bucket %s: %w", ApplicationOrder, err)
			}
			hooks, err := tx.CreateBucketIfNotExists([]byte(Webhooks))
			if err != nil {
				return err
			}
			err = rewrite(hooks, func(_, v []byte) ([]byte, error) {
				var doc struct {
					Webhook json.RawMessage `json:"webhook"`
					Deleted bool            `json:"deleted"`
				}
				raw, err := unversioned(v)
				if err != nil {
					return nil, err
				}
				if err := json.Unmarshal(raw, &doc); err != nil {
					return nil, err
				}
				if doc.Deleted || be64(v[:8]) <= storeReset {
					return nil, nil // gone
				}
				return doc.Webhook, nil
			})
			if err != nil {
				return fmt.Errorf("bucket %s: %w", Webhooks, err)
			}
			if tx.Bucket([]byte("outbox")) != nil {
				if err := tx.DeleteBucket([]byte("outbox")); err != nil {
					return err
				}
			}
			var puts [][2][]byte
			if v := state.Get([]byte("ids_reserved")); v != nil {
				n, _ := json.Marshal(be64(v))
				puts = append(puts, [2][]byte{[]byte("ids_drawn"), n})
			}
			if v := state.Get([]byte("delivery_last_seq")); v != nil {
				n, _ := json.Marshal(be64(v))
				// Version 1 drew event ids from delivery numbers; version 2 from event numbers,
				// which start past them so that no id comes again.
				puts = append(puts, [2][]byte{[]byte("delivery_last_seq"), n}, [2][]byte{[]byte("event_seq"), n})
			}
			if v := state.Get([]byte("clock")); v != nil {
				c, err := unversioned(v)
				if err != nil {
					return fmt.Errorf("record state/clock: %w", err)
				}
				puts = append(puts, [2][]byte{[]byte("clock"), bytes.Clone(c)})
			}
			if v := state.Get([]byte("signing_key")); v != nil {
				k, _ := json.Marshal(bytes.Clone(v))
				puts = append(puts, [2][]byte{[]byte("signing_key"), k})
			}
			for _, k := range []string{"store_reset", "deliveries_reset", "ids_reserved"} {
				if err := state.Delete([]byte(k)); err != nil {
					return err
				}
			}
			for _, p := range puts {
				if err := state.Put(p[0], p[1]); err != nil {
					return err
				}
			}
			return setVersion(tx, Version)
		})
	})
	if err != nil {
		return fmt.Errorf("data file %s: upgrading it from version 1: %w", db.path, err)
	}
	return nil
}

// rewrite replaces every value of b with what fn makes of it (nil: the record goes).
func rewrite(b *bolt.Bucket, fn func(k, v []byte) ([]byte, error)) error {
	type kv struct{ k, v []byte }
	var out []kv
	err := b.ForEach(func(k, v []byte) error {
		nv, err := fn(k, v)
		if err != nil {
			return fmt.Errorf("record %q: %w", k, err)
		}
		out = append(out, kv{bytes.Clone(k), bytes.Clone(nv)})
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range out {
		if r.v == nil {
			err = b.Delete(r.k)
		} else {
			err = b.Put(r.k, r.v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unversioned is a version-1 record's JSON, behind its 8-byte revision.
func unversioned(v []byte) ([]byte, error) {
	if len(v) < 8 || !json.Valid(v[8:]) {
		return nil, errors.New("not a revision and JSON")
	}
	return v[8:], nil
}

func be64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
