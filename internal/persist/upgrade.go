package persist

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
			return setVersion(tx, 2)
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

// sealUpgrade seals the records of the personal buckets that a version-2 file holds in the clear,
// each with a key of its own (the keys on disk first), and drops the payloads (results: scores,
// fit) that the delivery records of a file first written by version 1 still carry, in one
// transaction that makes the file version 3 and marks it for compaction: bbolt keeps the
// plaintext in the pages it freed until the file is compacted into a new one.
func (db *DB) sealUpgrade() error {
	keys := &keyChange{r: db.keys}
	err := guard(func() error {
		return db.bolt.Update(func(tx *bolt.Tx) error {
			for _, name := range personal {
				b := tx.Bucket([]byte(name))
				var plain [][]byte
				_ = b.ForEach(func(k, v []byte) error {
					if _, ok := isSealed(v); !ok {
						plain = append(plain, bytes.Clone(k))
					}
					return nil
				})
				for _, k := range plain {
					if err := put(b, keys, &Write{bucket: name, key: string(k), op: opSeal}, bytes.Clone(b.Get(k))); err != nil {
						return fmt.Errorf("record %s/%q: %w", name, k, err)
					}
				}
			}
			if err := rewrite(tx.Bucket([]byte(Deliveries)), func(_, v []byte) ([]byte, error) { return withoutPayload(v) }); err != nil {
				return fmt.Errorf("bucket %s: %w", Deliveries, err)
			}
			if err := tx.Bucket(bucketMeta).Put(keyCompact, []byte("1")); err != nil {
				return err
			}
			return setVersion(tx, Version)
		})
	})
	if err != nil {
		return fmt.Errorf("data file %s: sealing its personal records: %w", db.path, err)
	}
	return nil
}

// compactSuffix names the new file a compaction writes, beside the data file.
const compactSuffix = ".compact"

// compactIfMarked compacts a file marked for it: bbolt copies every record into a new file
// (synced), which is renamed over the data file (the directory synced). The pages the old file
// had freed, and what they held, are not copied; a crash leaves either file whole, and a file
// still marked is compacted at the next start.
func (db *DB) compactIfMarked() error {
	var marked bool
	err := guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			marked = tx.Bucket(bucketMeta).Get(keyCompact) != nil
			return nil
		})
	})
	if err != nil || !marked {
		return err
	}
	tmp := db.path + compactSuffix
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: LockTimeout, NoSync: true})
	if err != nil {
		return fmt.Errorf("data file %s: compacting it: %w", db.path, err)
	}
	err = guard(func() error { return bolt.Compact(dst, db.bolt, 64<<20) })
	if err == nil {
		err = dst.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyCompact) })
	}
	if err == nil {
		err = dst.Sync()
	}
	err = errors.Join(err, dst.Close())
	if err == nil {
		err = os.Rename(tmp, db.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(db.path))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("data file %s: compacting it: %w", db.path, err)
	}
	old := db.bolt
	db.bolt, err = bolt.Open(db.path, 0o600, &bolt.Options{Timeout: LockTimeout})
	if err != nil {
		db.bolt = old
		return openError(db.path, err)
	}
	_ = old.Close()
	return nil
}

// withoutPayload is a delivery record without the payload (and the webhook secret) version 1
// kept in it: payloads are rendered from the application when they are sent or shown. An erased
// payload ({}) becomes the erased mark that version 2 writes.
func withoutPayload(v []byte) ([]byte, error) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, err
	}
	var d map[string]json.RawMessage
	if err := json.Unmarshal(rec["delivery"], &d); err != nil {
		return nil, err
	}
	p, kept := d["payload"]
	if !kept && rec["secret"] == nil {
		return v, nil
	}
	if bytes.Equal(p, []byte("{}")) {
		rec["erased"] = json.RawMessage("true")
	}
	delete(d, "payload")
	delete(rec, "secret")
	var err error
	if rec["delivery"], err = json.Marshal(d); err != nil {
		return nil, err
	}
	return json.Marshal(rec)
}
