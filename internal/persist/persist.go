// Package persist keeps the mock's state in one file in a data directory, so that it survives a
// restart, a crash or a kill -9. The file is a bbolt database (pure Go, one file, ACID transactions
// made durable with fdatasync on commit); this package alone knows it and how records are encoded.
// The store, the callback dispatcher, the lifecycle and the clock own their state and their locks
// and write through to it via small interfaces they define.
//
// Every write is durable when its method returns. Writes arriving while a commit is on its way to
// disk are committed together in the next transaction (group commit: one fsync for all of them,
// and no waiting when a write comes alone). Records carry the revision of the change that wrote
// them, so a write that lost a race to the disk never puts an older state over a newer one, and a
// reset removes only what is older than itself.
//
// Layout (format "equalture-mock", version 1), buckets and keys:
//
//	meta               format, version
//	applications       reference id → revision (8 bytes, big-endian) + JSON application
//	application_order  revision of the creation → reference id
//	outbox             revision of the creation → JSON email
//	token_generations  client id → revision + JSON generation
//	deliveries         delivery id → revision + JSON {seq, series, secret, delivery}
//	webhooks           client id, NUL, label → revision + JSON {webhook} or {webhook, deleted}
//	state              store_reset, deliveries_reset, delivery_last_seq, ids_reserved (8-byte
//	                   counters), clock (revision + JSON), signing_key (bytes)
//
// The webhooks bucket came after the first files of version 1 were written: a file without it is
// read as one without webhooks, and the bucket is made by the first webhook written. (An older
// equalture-mock ignores it; its webhook records older than the last reset are not read back.)
package persist

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the data file's name in the data directory.
const FileName = "equalture-mock.db"

// Format and Version name what the file holds; a file naming another format, or a newer version,
// is refused.
const (
	Format  = "equalture-mock"
	Version = 1
)

// LockTimeout is how long Open waits for the file's lock: another process holding it gets an
// error, not a hang.
const LockTimeout = time.Second

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("data file closed")

var (
	bucketMeta       = []byte("meta")
	bucketApps       = []byte("applications")
	bucketOrder      = []byte("application_order")
	bucketOutbox     = []byte("outbox")
	bucketTokens     = []byte("token_generations")
	bucketDeliveries = []byte("deliveries")
	bucketState      = []byte("state")
	bucketWebhooks   = []byte("webhooks")

	// allBuckets are in every data file of version 1; laidOut are those a new file gets.
	allBuckets = [][]byte{bucketMeta, bucketApps, bucketOrder, bucketOutbox, bucketTokens, bucketDeliveries, bucketState}
	laidOut    = append(allBuckets[:len(allBuckets):len(allBuckets)], bucketWebhooks)

	keyFormat  = []byte("format")
	keyVersion = []byte("version")
)

// DB is an open data file.
type DB struct {
	path string
	bolt *bolt.DB

	mu      sync.Mutex
	pending []op
	closed  bool
	wake    chan struct{} // a write is pending; closed by Close
	done    chan struct{} // the committer has stopped
}

// op is a write waiting for its commit.
type op struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// Open opens (creating it and dir when missing) the data file in dir, checks that it is sound and
// the mock's, reads the state it holds back and starts committing writes. A file another process
// holds, a file that is not a bolt database, a damaged or truncated one, another program's bolt
// database or one written by a newer equalture-mock is an error naming the file and the problem;
// such a file is left as it is.
func Open(dir string) (*DB, State, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, State{}, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		return nil, State{}, fmt.Errorf("data file %s is not a regular file", path)
	}
	if err == nil && fi.Size() > 0 {
		if err := inspect(path); err != nil {
			return nil, State{}, err
		}
	}
	var bdb *bolt.DB
	err = guard(func() (err error) {
		bdb, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: LockTimeout})
		return err
	})
	if err != nil {
		return nil, State{}, openError(path, err)
	}
	db := &DB{path: path, bolt: bdb, wake: make(chan struct{}, 1), done: make(chan struct{})}
	st, err := db.open()
	if err != nil {
		_ = bdb.Close()
		return nil, State{}, err
	}
	go db.commitLoop()
	return db, st, nil
}

// Path is the data file's path.
func (db *DB) Path() string { return db.path }

// openError says why bolt.Open failed on path.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("data file %s is locked by another process (one data dir serves one mock at a time)", path)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return fmt.Errorf("data file %s is not an equalture-mock data file, or is damaged: %w", path, err)
	case errors.As(err, new(*panicked)):
		return fmt.Errorf("data file %s is damaged: %w", path, err)
	default: // the file system's own word: permission denied, read-only, ...
		return fmt.Errorf("data file %s: %w", path, err)
	}
}

// inspect opens an existing file read-only first, where bbolt reads only its meta pages, to see
// that the file is as long as they say: opening a truncated file for writing would read pages
// past its end.
func inspect(path string) error {
	var bdb *bolt.DB
	err := guard(func() (err error) {
		bdb, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: LockTimeout, ReadOnly: true})
		return err
	})
	if err != nil {
		return openError(path, err)
	}
	defer bdb.Close()
	return guard(func() error {
		return bdb.View(func(tx *bolt.Tx) error {
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			if fi.Size() < tx.Size() {
				return fmt.Errorf("data file %s is truncated: %d bytes, its pages reach to %d", path, fi.Size(), tx.Size())
			}
			return nil
		})
	})
}

// open checks that the file is the mock's and sound, lays out a new one and reads the state back.
// Every read of a damaged page is guarded: bbolt panics on some.
func (db *DB) open() (State, error) {
	var (
		fresh   bool
		verdict error // why the file is not one this mock may use
	)
	err := guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			fresh, verdict = identify(tx)
			return nil
		})
	})
	if err != nil {
		return State{}, fmt.Errorf("data file %s is damaged: %w", db.path, err)
	}
	if verdict != nil {
		return State{}, fmt.Errorf("data file %s %w", db.path, verdict)
	}
	if fresh {
		return State{}, db.layOut()
	}
	// Reading every record walks every page of the mock's buckets, guarded; bbolt's own check
	// then runs (in a goroutine of its own, unguarded) only over pages known to be readable.
	st, err := db.load()
	if err != nil {
		return State{}, err
	}
	var damage error
	err = guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				damage = errors.Join(damage, err)
			}
			return nil
		})
	})
	if err = errors.Join(err, damage); err != nil {
		return State{}, fmt.Errorf("data file %s is damaged: %w", db.path, err)
	}
	// Buckets added later (webhooks) are made by their first write, not here: a file is only
	// written to once it has been read back whole.
	return st, nil
}

// layOut makes a new file the mock's: its buckets, its format and version.
func (db *DB) layOut() error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, name := range laidOut {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		return errors.Join(meta.Put(keyFormat, []byte(Format)), meta.Put(keyVersion, []byte(strconv.Itoa(Version))))
	})
	if err != nil {
		return fmt.Errorf("data file %s: %w", db.path, err)
	}
	return nil
}

// identify says whether tx is a new, empty bolt file (fresh), an equalture-mock data file this
// version reads (neither fresh nor an error) or something else (the reason, to follow the file's
// name).
func identify(tx *bolt.Tx) (fresh bool, _ error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		var names []string
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, strconv.Quote(string(name)))
			return nil
		})
		if len(names) > 0 {
			return false, fmt.Errorf("is a bolt database but not an equalture-mock data file (buckets %s, no %q); refusing to use it", strings.Join(names, ", "), bucketMeta)
		}
		return true, nil
	}
	if f := string(meta.Get(keyFormat)); f != Format {
		return false, fmt.Errorf("is a bolt database in format %q, not an equalture-mock data file; refusing to use it", f)
	}
	v, err := strconv.Atoi(string(meta.Get(keyVersion)))
	switch {
	case err != nil || v < 1:
		return false, fmt.Errorf("is damaged: format version %q", meta.Get(keyVersion))
	case v > Version:
		return false, fmt.Errorf("was written by a newer equalture-mock (format version %d; this one reads %d)", v, Version)
	}
	return false, nil
}

// guard turns a panic of bbolt (which it raises on some damaged pages), or a fault reading its
// memory-mapped file, into an error.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = &panicked{p}
		}
	}()
	return fn()
}

// panicked is a panic guard recovered.
type panicked struct{ value any }

func (p *panicked) Error() string { return fmt.Sprintf("bbolt panicked: %v", p.value) }

// Close waits for the writes already made, then closes the file and releases its lock. Writes
// after Close fail with ErrClosed.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	close(db.wake)
	db.mu.Unlock()
	<-db.done
	return db.bolt.Close()
}

// write runs fn in a read-write transaction and returns once it is durable. fn may run more than
// once (when another write of its group fails, the group is committed again without that one), so
// it must only read and put.
func (db *DB) write(fn func(*bolt.Tx) error) error {
	o := op{fn: fn, done: make(chan error, 1)}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return fmt.Errorf("%s: %w", db.path, ErrClosed)
	}
	db.pending = append(db.pending, o)
	select {
	case db.wake <- struct{}{}:
	default: // the committer is already awake and will find it
	}
	db.mu.Unlock()
	if err := <-o.done; err != nil {
		return fmt.Errorf("writing %s: %w", db.path, err)
	}
	return nil
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
		ops := db.pending
		db.pending = nil
		db.mu.Unlock()
		if len(ops) == 0 {
			return
		}
		db.commit(ops)
	}
}

// commit runs ops in one transaction: one fsync for all of them. A write that fails is taken out
// and told its error; the others are committed without it.
func (db *DB) commit(ops []op) {
	for len(ops) > 0 {
		failed, opErr := -1, error(nil)
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for i, o := range ops {
				if err := guard(func() error { return o.fn(tx) }); err != nil {
					failed, opErr = i, err
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, o := range ops {
				o.done <- err // nil, or the commit's own failure
			}
			return
		}
		ops[failed].done <- opErr
		ops = slices.Delete(ops, failed, failed+1)
	}
}
