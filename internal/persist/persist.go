// Package persist keeps the mock's state in one file in a data directory, so that it survives a
// restart, a crash or a kill -9. The file is a bbolt database (pure Go, one file, ACID transactions
// made durable with fdatasync on commit); this package alone knows bbolt. It is an ordered log of
// record writes: the owners of the state — the store (applications, token generations), the
// delivery machinery (deliveries, webhooks) and the service (the clock, the signing key) — append
// the records their changes make while they hold their own lock, so records reach the file in the
// order the changes were made; the file applies them in that order. Each owner encodes and decodes
// its own records (JSON); this package checks the file and stores bytes.
//
// Group commit: the writes appended while a commit is on its way to disk are committed together
// in the next transaction, in the order they were appended (one fsync for all of them, and no
// waiting when a write comes alone). Wait tells an appender when its writes are durable; OnCommit
// tells the delivery machinery, which starts no attempt before the change that planned it is on
// disk. A commit that fails stops the file: it and every later write fail, so the file never holds
// a change without the changes before it.
//
// Layout (format "equalture-mock", version 3), buckets and keys:
//
//	meta               format, version (and compact, while a compaction is due)
//	applications       reference id → application (sealed)
//	application_order  creation number (8 bytes, big-endian) → reference id
//	token_generations  client id → generation
//	deliveries         delivery id → delivery
//	webhooks           client id, NUL, label → webhook
//	state              ids_drawn, event_seq, delivery_last_seq (numbers), clock, signing_key
//
// Values are JSON; the records holding personal data (applications: the applicant's name and
// email, the scores, the hiring) are sealed, each with an AES-256-GCM key of its own kept in a
// second file, the key file (KeyFileName, beside the data file; keys.go), where a destroyed key
// is overwritten: erasing a record (Reseal, Delete, Clear) destroys its key, so the copies bbolt
// leaves in its free pages can no longer be read. A version-1 file (records behind an 8-byte
// revision, an outbox bucket, deleted webhooks kept as tombstones) is upgraded to version 2 when
// it is opened; a version-2 file (applications in the clear) to version 3 — its applications
// sealed, then the file compacted into a new one so that no page of it holds them in the clear.
package persist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
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
	Version = 3
)

// LockTimeout is how long Open waits for the file's lock: another process holding it gets an
// error, not a hang.
const LockTimeout = time.Second

// ErrClosed is what waiting for a write appended after Close returns.
var ErrClosed = errors.New("data file closed")

// The buckets of the state, each owned by the part of the mock that writes it.
const (
	Applications     = "applications"
	ApplicationOrder = "application_order"
	TokenGenerations = "token_generations"
	Deliveries       = "deliveries"
	Webhooks         = "webhooks"
	State            = "state"
)

var (
	bucketMeta = []byte("meta")
	// buckets are in every data file of version 2.
	buckets    = []string{Applications, ApplicationOrder, TokenGenerations, Deliveries, Webhooks, State}
	keyFormat  = []byte("format")
	keyVersion = []byte("version")
	// keyCompact marks a file whose free pages may hold what an older version wrote in the clear:
	// it is compacted into a new file before it is used.
	keyCompact = []byte("compact")
	// personal are the buckets whose records hold personal data: sealed (PutSealed), and sealed
	// by the upgrade of a file an older version wrote in the clear.
	personal = []string{Applications}
)

// DB is an open data file. A nil *DB is the in-memory mock: it writes nothing, and everything
// appended to it is durable at once.
type DB struct {
	path string
	bolt *bolt.DB
	keys *keyring

	mu       sync.Mutex
	cond     *sync.Cond // durable or err moved, or the file closed
	pending  []entry
	last     uint64 // position of the newest write appended
	durable  uint64 // every write up to here is on disk
	err      error  // the failure that stopped the file
	closed   bool
	onCommit []func(durable uint64, err error)
	wake     chan struct{} // a write is pending; closed by Close
	done     chan struct{} // the committer has stopped
}

// Open opens (creating it and dir when missing) the data file in dir, checks that it is sound and
// the mock's, upgrades an older version, and starts committing writes. A file another process
// holds, a file that is not a bolt database, a damaged or truncated one, another program's bolt
// database or one written by a newer equalture-mock is an error naming the file and the problem;
// such a file is left as it is.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("data file %s is not a regular file", path)
	}
	if err == nil && fi.Size() > 0 {
		if err := inspect(path); err != nil {
			return nil, err
		}
	}
	var bdb *bolt.DB
	err = guard(func() (err error) {
		bdb, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: LockTimeout})
		return err
	})
	if err != nil {
		return nil, openError(path, err)
	}
	db := &DB{path: path, bolt: bdb, wake: make(chan struct{}, 1), done: make(chan struct{})}
	db.cond = sync.NewCond(&db.mu)
	if err := db.open(); err != nil {
		_ = db.bolt.Close()
		_ = db.keys.close()
		return nil, err
	}
	go db.commitLoop()
	return db, nil
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

// open checks that the file is the mock's and sound, lays out a new one, upgrades an older one,
// and opens its key file. Every read of a damaged page is guarded: bbolt panics on some.
func (db *DB) open() error {
	var (
		fresh   bool
		version int
		verdict error // why the file is not one this mock may use
	)
	err := guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			fresh, version, verdict = identify(tx)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("data file %s is damaged: %w", db.path, err)
	}
	if verdict != nil {
		return fmt.Errorf("data file %s %w", db.path, verdict)
	}
	// A compaction the process died in (the file it was to replace is whole); removed only now
	// that the file's lock is this process's.
	if err := os.Remove(db.path + compactSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("data dir: %w", err)
	}
	var ids []uint64 // the keys the sealed records name
	if fresh {
		if err := db.layOut(); err != nil {
			return err
		}
	} else {
		if ids, err = db.check(); err != nil {
			return err
		}
		if version == 1 {
			if err := db.upgrade(); err != nil {
				return err
			}
		}
	}
	if db.keys, err = openKeys(filepath.Join(filepath.Dir(db.path), KeyFileName), db.path, ids, db.sealedWith); err != nil {
		return err
	}
	if !fresh && version < 3 {
		if err := db.sealUpgrade(); err != nil {
			return err
		}
	}
	return db.compactIfMarked()
}

// check reads every record, which walks every page of the mock's buckets, guarded, and returns
// the keys the sealed ones name; bbolt's own check then runs (in a goroutine of its own,
// unguarded) only over pages known to be readable.
func (db *DB) check() ([]uint64, error) {
	var ids []uint64
	err := guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
				return b.ForEach(func(k, v []byte) error {
					if id, ok := isSealed(v); ok {
						ids = append(ids, id)
					}
					return nil
				})
			})
		})
	})
	var damage error
	if err == nil {
		err = guard(func() error {
			return db.bolt.View(func(tx *bolt.Tx) error {
				for err := range tx.Check() {
					damage = errors.Join(damage, err)
				}
				return nil
			})
		})
	}
	if err = errors.Join(err, damage); err != nil {
		return nil, fmt.Errorf("data file %s is damaged: %w", db.path, err)
	}
	return ids, nil
}

// sealedWith names a record sealed with key id, for an error about it.
func (db *DB) sealedWith(id uint64) string {
	var name string
	_ = guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(bucket []byte, b *bolt.Bucket) error {
				return b.ForEach(func(k, v []byte) error {
					if got, ok := isSealed(v); ok && got == id && name == "" {
						name = fmt.Sprintf("%s/%q", bucket, k)
					}
					return nil
				})
			})
		})
	})
	return name
}

// layOut makes a new file the mock's: its buckets, its format and version.
func (db *DB) layOut() error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, name := range append([]string{string(bucketMeta)}, buckets...) {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return setVersion(tx, Version)
	})
	if err != nil {
		return fmt.Errorf("data file %s: %w", db.path, err)
	}
	return nil
}

func setVersion(tx *bolt.Tx, v int) error {
	meta := tx.Bucket(bucketMeta)
	return errors.Join(meta.Put(keyFormat, []byte(Format)), meta.Put(keyVersion, []byte(strconv.Itoa(v))))
}

// identify says whether tx is a new, empty bolt file (fresh), an equalture-mock data file this
// version reads (its version) or something else (the reason, to follow the file's name).
func identify(tx *bolt.Tx) (fresh bool, version int, _ error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		var names []string
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, strconv.Quote(string(name)))
			return nil
		})
		if len(names) > 0 {
			return false, 0, fmt.Errorf("is a bolt database but not an equalture-mock data file (buckets %s, no %q); refusing to use it", strings.Join(names, ", "), bucketMeta)
		}
		return true, 0, nil
	}
	if f := string(meta.Get(keyFormat)); f != Format {
		return false, 0, fmt.Errorf("is a bolt database in format %q, not an equalture-mock data file; refusing to use it", f)
	}
	v, err := strconv.Atoi(string(meta.Get(keyVersion)))
	switch {
	case err != nil || v < 1:
		return false, 0, fmt.Errorf("is damaged: format version %q", meta.Get(keyVersion))
	case v > Version:
		return false, 0, fmt.Errorf("was written by a newer equalture-mock (format version %d; this one reads up to %d)", v, Version)
	}
	for _, name := range buckets {
		if tx.Bucket([]byte(name)) == nil && !(v == 1 && name == Webhooks) { // version 1 made it late
			return false, 0, fmt.Errorf("is damaged: bucket %q is missing", name)
		}
	}
	return false, v, nil
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

// Close waits for the writes already appended, then closes the file and releases its lock.
// Waiting for a write appended after Close returns ErrClosed.
func (db *DB) Close() error {
	if db == nil {
		return nil
	}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	close(db.wake)
	db.mu.Unlock()
	<-db.done
	db.mu.Lock()
	db.cond.Broadcast()
	db.mu.Unlock()
	return errors.Join(db.bolt.Close(), db.keys.close())
}
