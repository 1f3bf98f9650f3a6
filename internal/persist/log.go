package persist

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"
)

// Write is one change of one record: a value put under a key of a bucket (sealed or not), a key
// deleted, or a whole bucket emptied. Values are encoded as JSON when they are committed, so an
// appender hands over a value it no longer changes (a copy).
type Write struct {
	bucket string
	key    string
	value  any
	op     op
}

type op uint8

const (
	opPut op = iota
	opSeal
	opReseal
	opDelete
	opClear
)

// Put writes v, as JSON, under key in bucket.
func Put(bucket, key string, v any) Write { return Write{bucket: bucket, key: key, value: v} }

// PutSealed writes v, as JSON sealed with AES-256-GCM, under key in bucket, with a key of the
// record's own that the key file keeps (the same key as the record's last sealed value, or a new
// one). For records that hold personal data: see Reseal for erasing it.
func PutSealed(bucket, key string, v any) Write {
	return Write{bucket: bucket, key: key, value: v, op: opSeal}
}

// Reseal is PutSealed with a new key, the record's old key destroyed once the write is durable:
// whatever was written under key before, and the copies of it bbolt keeps in its free pages, can
// never be read again (crypto-shredding). Erasure writes the erased record so.
func Reseal(bucket, key string, v any) Write {
	return Write{bucket: bucket, key: key, value: v, op: opReseal}
}

// Delete removes key from bucket (and destroys its key, when it was sealed).
func Delete(bucket, key string) Write { return Write{bucket: bucket, key: key, op: opDelete} }

// Clear empties bucket (and destroys the keys of its sealed records).
func Clear(bucket string) Write { return Write{bucket: bucket, op: opClear} }

// Seq is the key of a creation number: 8 bytes, big-endian, so keys sort as numbers do.
func Seq(n uint64) string { return string(binary.BigEndian.AppendUint64(nil, n)) }

// appending are the buckets whose new keys come after every key they hold.
var appending = map[string]bool{ApplicationOrder: true, Deliveries: true}

// entry is an append waiting for its commit: the writes of one change, at position pos.
type entry struct {
	pos    uint64
	writes []Write
}

// Append queues writes to be committed together, after every write appended before them, and
// returns their position (Wait for it to be durable). Appenders call it while they hold the lock
// that orders their changes, so the file gets a record's changes in the order they were made. It
// never blocks on the disk. A nil DB writes nothing and returns 0.
func (db *DB) Append(writes ...Write) uint64 {
	if db == nil {
		return 0
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.last++
	if !db.closed && db.err == nil {
		db.pending = append(db.pending, entry{pos: db.last, writes: writes})
		select {
		case db.wake <- struct{}{}:
		default: // the committer is awake and will find it
		}
	}
	return db.last
}

// Wait returns once every write up to pos is on disk, or the error that stopped the file before
// them (ErrClosed after Close).
func (db *DB) Wait(pos uint64) error {
	if db == nil {
		return nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	for db.durable < pos && db.err == nil && !(db.closed && db.drained()) {
		db.cond.Wait()
	}
	switch {
	case db.durable >= pos:
		return nil
	case db.err != nil:
		return db.err
	default:
		return fmt.Errorf("%s: %w", db.path, ErrClosed)
	}
}

// drained says the committer has stopped: nothing more becomes durable.
func (db *DB) drained() bool {
	select {
	case <-db.done:
		return true
	default:
		return false
	}
}

// Durable is the position up to which every write is on disk (for a nil DB, every position).
func (db *DB) Durable() uint64 {
	if db == nil {
		return math.MaxUint64
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.durable
}

// OnCommit registers fn, called after each commit with the position now durable, or once with the
// error that stopped the file; from the committer, holding no lock of the DB's (fn may take its
// owner's lock; the owner must not wait for a commit while holding it). Register before appending.
func (db *DB) OnCommit(fn func(durable uint64, err error)) {
	if db == nil {
		return
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.onCommit = append(db.onCommit, fn)
}

// commitLoop commits the pending writes, as many at once as have arrived, until Close.
func (db *DB) commitLoop() {
	defer close(db.done)
	for range db.wake {
		db.drain()
	}
	db.drain() // what arrived before Close
}

func (db *DB) drain() {
	for {
		db.mu.Lock()
		batch := db.pending
		db.pending = nil
		fns := db.onCommit
		stopped := db.err != nil
		db.mu.Unlock()
		if len(batch) == 0 || stopped {
			return
		}
		err := db.commit(batch)
		db.mu.Lock()
		if err != nil {
			db.err = fmt.Errorf("writing %s: %w", db.path, err)
			db.pending = nil
			err = db.err
		} else {
			db.durable = batch[len(batch)-1].pos
		}
		durable := db.durable
		db.cond.Broadcast()
		db.mu.Unlock()
		for _, fn := range fns {
			fn(durable, err)
		}
	}
}

// commit applies batch, in order, in one transaction: one fsync for all of it. A record sealed
// for the first time, or resealed, takes a spare key (on disk before the commit); the keys of the
// sealed records it replaces or deletes are destroyed once it is durable.
func (db *DB) commit(batch []entry) error {
	type encoded struct {
		w     *Write
		value []byte // JSON; nil: delete or clear
	}
	var ops []encoded
	for _, e := range batch {
		for i := range e.writes {
			w := &e.writes[i]
			op := encoded{w: w}
			if w.op != opDelete && w.op != opClear {
				v, err := json.Marshal(w.value)
				if err != nil {
					return fmt.Errorf("encoding %s/%q: %w", w.bucket, w.key, err)
				}
				op.value = v
			}
			ops = append(ops, op)
		}
	}
	keys := &keyChange{r: db.keys}
	err := guard(func() error {
		return db.bolt.Update(func(tx *bolt.Tx) error {
			for _, op := range ops {
				w := op.w
				b := tx.Bucket([]byte(w.bucket))
				if b == nil {
					return fmt.Errorf("no bucket %q", w.bucket)
				}
				var err error
				if w.op == opClear {
					_ = b.ForEach(func(_, v []byte) error {
						if id, sealed := isSealed(v); sealed {
							keys.destroy(id)
						}
						return nil
					})
					if err = tx.DeleteBucket([]byte(w.bucket)); err == nil {
						_, err = tx.CreateBucket([]byte(w.bucket))
					}
				} else {
					err = put(b, keys, w, op.value)
				}
				if err != nil {
					return fmt.Errorf("%s/%q: %w", w.bucket, w.key, err)
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return keys.finish()
}

// put applies w (not a clear) to bucket b, its value v encoded: sealed with the key the record
// has, or a new one; the key of a sealed value it replaces otherwise (or deletes) is destroyed.
func put(b *bolt.Bucket, keys *keyChange, w *Write, v []byte) error {
	key := []byte(w.key)
	id, sealed := isSealed(b.Get(key))
	if sealed && (w.op != opSeal) {
		keys.destroy(id)
	}
	if w.op == opDelete {
		return b.Delete(key)
	}
	if w.op == opSeal || w.op == opReseal {
		var k dataKey
		var err error
		if sealed && w.op == opSeal {
			k, err = keys.r.key(id)
		} else {
			k, err = keys.take()
		}
		if err == nil {
			v, err = seal(&k.key, k.id, w.bucket, w.key, v)
		}
		if err != nil {
			return err
		}
	}
	if appending[w.bucket] {
		// Keys that only grow fill pages rather than split them half full (bbolt's default, right
		// for random keys), which halves the pages a start-up reads.
		b.FillPercent = 0.95
	}
	return b.Put(key, v)
}
