package persist_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/equalture/equalture-mock/internal/persist"
)

func open(t *testing.T, dir string) *persist.DB {
	t.Helper()
	db, err := persist.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// reopen closes db and opens its directory again, as a restart does.
func reopen(t *testing.T, db *persist.DB) *persist.DB {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return open(t, filepath.Dir(db.Path()))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// write appends writes and waits for them to be durable.
func write(t *testing.T, db *persist.DB, ws ...persist.Write) {
	t.Helper()
	must(t, db.Wait(db.Append(ws...)))
}

// dump is a bucket's records as "key=value; ", keys in order (creation numbers as numbers).
func dump(t *testing.T, db *persist.DB, bucket string) string {
	t.Helper()
	var keys, values []string
	must(t, db.Load(bucket, func(n int) { keys, values = make([]string, n), make([]string, n) }, func(i int, k, v []byte) error {
		keys[i], values[i] = string(k), string(v)
		if len(k) == 8 {
			keys[i] = fmt.Sprint(binary.BigEndian.Uint64(k))
		}
		return nil
	}))
	var b strings.Builder
	for i := range keys {
		fmt.Fprintf(&b, "%s=%s; ", keys[i], values[i])
	}
	return b.String()
}

func TestRoundTrip(t *testing.T) {
	db := open(t, t.TempDir())
	type app struct {
		Ref    string `json:"reference_id"`
		Status string `json:"status"`
	}
	write(t, db,
		persist.Put(persist.Applications, "r1", app{"r1", "invited"}),
		persist.Put(persist.ApplicationOrder, persist.Seq(1), "r1"),
		persist.Put(persist.Applications, "r0", app{"r0", "invited"}),
		persist.Put(persist.ApplicationOrder, persist.Seq(2), "r0"),
	)
	write(t, db, persist.Put(persist.Applications, "r1", app{"r1", "completed"}), persist.Put(persist.State, "ids_drawn", 2))
	write(t, db, persist.Put(persist.Webhooks, "c\x00a", "hook"), persist.Put(persist.Webhooks, "c\x00b", "hook"))
	write(t, db, persist.Delete(persist.Webhooks, "c\x00a"))
	write(t, db, persist.Put(persist.Deliveries, "dlv_1", 1), persist.Clear(persist.Deliveries), persist.Put(persist.Deliveries, "dlv_2", 2))

	db = reopen(t, db)
	for bucket, want := range map[string]string{
		persist.Applications:     `r0={"reference_id":"r0","status":"invited"}; r1={"reference_id":"r1","status":"completed"}; `,
		persist.ApplicationOrder: `1="r1"; 2="r0"; `,
		persist.Webhooks:         "c\x00b=\"hook\"; ",
		persist.Deliveries:       `dlv_2=2; `,
		persist.TokenGenerations: ``,
	} {
		if got := dump(t, db, bucket); got != want {
			t.Errorf("%s after a restart:\n  %q\nwant\n  %q", bucket, got, want)
		}
	}
	if v, err := db.Get(persist.State, "ids_drawn"); err != nil || string(v) != "2" {
		t.Fatalf("state/ids_drawn = %q, %v", v, err)
	}
	if v, err := db.Get(persist.State, "nothing"); err != nil || v != nil {
		t.Fatalf("a missing record = %q, %v", v, err)
	}
}

func TestEmptyFileIsANewDataFile(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, persist.FileName), nil, 0o600)) // e.g. a crash before the first write
	db := open(t, dir)
	write(t, db, persist.Put(persist.State, "ids_drawn", 3))
	if v, _ := reopen(t, db).Get(persist.State, "ids_drawn"); string(v) != "3" {
		t.Fatalf("ids_drawn %q after a restart, want 3", v)
	}
}

func TestNewFileIsEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	db := open(t, dir)
	for _, b := range []string{persist.Applications, persist.ApplicationOrder, persist.TokenGenerations, persist.Deliveries, persist.Webhooks, persist.State} {
		if got := dump(t, db, b); got != "" {
			t.Fatalf("a new file's %s holds %s", b, got)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir: %v %v", fi, err)
	}
	if fi, err := os.Stat(db.Path()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("data file: %v %v", fi, err)
	}
}

// Writes land in the order they were appended, whatever goroutines appended them: each owner
// appends under the lock that orders its changes, so a record ends as the last change left it.
func TestWritesLandInTheOrderAppended(t *testing.T) {
	db := open(t, t.TempDir())
	var (
		mu    sync.Mutex // the owner's lock
		value int
		wg    sync.WaitGroup
	)
	for range 16 {
		wg.Go(func() {
			for range 20 {
				mu.Lock()
				value++
				pos := db.Append(persist.Put(persist.State, "counter", value))
				if value%50 == 0 {
					pos = db.Append(persist.Clear(persist.Deliveries), persist.Put(persist.Deliveries, fmt.Sprint(value), value))
				}
				mu.Unlock()
				must(t, db.Wait(pos))
			}
		})
	}
	wg.Wait()
	db = reopen(t, db)
	if v, _ := db.Get(persist.State, "counter"); string(v) != "320" {
		t.Fatalf("counter %s after a restart, want the last value written, 320", v)
	}
	if got := dump(t, db, persist.Deliveries); got != "300=300; " {
		t.Fatalf("deliveries %q: want only what the last clear left", got)
	}
}

// Writes appended while a commit is under way are committed together: many writers, fewer
// commits, and each is told when its own write is durable.
func TestConcurrentWritesAreGroupedAndEachAnswered(t *testing.T) {
	db := open(t, t.TempDir())
	var commits sync.Map
	var n int64
	db.OnCommit(func(durable uint64, err error) {
		if err != nil {
			t.Error(err)
		}
		commits.Store(durable, true)
	})
	const writers = 200
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			pos := db.Append(persist.Put(persist.Applications, fmt.Sprintf("r%03d", i), i))
			must(t, db.Wait(pos))
			if d := db.Durable(); d < pos {
				t.Errorf("write %d answered durable at %d before its position %d", i, d, pos)
			}
		})
	}
	wg.Wait()
	commits.Range(func(any, any) bool { n++; return true })
	if n == 0 || n >= writers {
		t.Fatalf("%d commits for %d concurrent writes", n, writers)
	}
	t.Logf("%d writes in %d commits", writers, n)
	if got := strings.Count(dump(t, reopen(t, db), persist.Applications), ";"); got != writers {
		t.Fatalf("%d records after a restart, want %d", got, writers)
	}
}

// A commit the file refuses fails every write in it and every write after it, and is told to
// OnCommit once: the file never holds a change without the changes before it.
func TestAFailedCommitStopsTheFile(t *testing.T) {
	db := open(t, t.TempDir())
	failures := make(chan error, 10)
	db.OnCommit(func(_ uint64, err error) {
		if err != nil {
			failures <- err
		}
	})
	write(t, db, persist.Put(persist.Applications, "before", 1))
	bad := db.Append(persist.Put(persist.Applications, strings.Repeat("x", bolt.MaxKeySize+1), 2)) // bbolt refuses the key
	err := db.Wait(bad)
	if err == nil || !strings.Contains(err.Error(), "key too large") || !strings.Contains(err.Error(), db.Path()) {
		t.Fatalf("the refused write = %v", err)
	}
	if err := db.Wait(db.Append(persist.Put(persist.Applications, "after", 3))); err == nil {
		t.Fatal("a write after a failed commit was acknowledged")
	}
	if err := <-failures; !strings.Contains(err.Error(), "key too large") {
		t.Fatalf("OnCommit told of %v", err)
	}
	if got := dump(t, reopen(t, db), persist.Applications); got != "before=1; " {
		t.Fatalf("after a restart: %q", got)
	}
	if len(failures) != 0 {
		t.Fatalf("OnCommit told of %d more failures: want one", len(failures))
	}
}

func TestWritesAfterClose(t *testing.T) {
	db := open(t, t.TempDir())
	must(t, db.Close())
	if err := db.Wait(db.Append(persist.Put(persist.State, "x", 1))); !errors.Is(err, persist.ErrClosed) {
		t.Fatalf("write after Close = %v", err)
	}
	must(t, db.Close())
}

// A nil DB is the in-memory mock: nothing is written, everything is durable at once.
func TestNilIsMemory(t *testing.T) {
	var db *persist.DB
	if pos := db.Append(persist.Put(persist.State, "x", 1)); db.Wait(pos) != nil || db.Durable() < pos {
		t.Fatal("a nil DB waits")
	}
	must(t, db.Load(persist.Applications, func(n int) {
		if n != 0 {
			t.Fatalf("a nil DB holds %d records", n)
		}
	}, func(int, []byte, []byte) error { return nil }))
	must(t, db.Close())
}

// A record that does not decode is named, with the file, by the loader's error.
func TestLoadNamesADamagedRecord(t *testing.T) {
	db := open(t, t.TempDir())
	write(t, db, persist.Put(persist.Applications, "ref-0150", "x"))
	err := db.Load(persist.Applications, func(int) {}, func(_ int, _, v []byte) error {
		var n int
		return json.Unmarshal(v, &n)
	})
	if err == nil || !strings.Contains(err.Error(), `record applications/"ref-0150"`) || !strings.Contains(err.Error(), db.Path()) {
		t.Fatalf("Load = %v", err)
	}
}

func TestLockedFile(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	start := time.Now()
	_, err := persist.Open(dir)
	if err == nil || !strings.Contains(err.Error(), "locked by another process") || !strings.Contains(err.Error(), filepath.Join(dir, persist.FileName)) {
		t.Fatalf("second Open = %v", err)
	}
	if waited := time.Since(start); waited > 5*persist.LockTimeout {
		t.Fatalf("second Open waited %v", waited)
	}
}

// TestRefusedFiles: whatever is in the way, start-up gets an error naming the file and the
// problem, never a panic, and the file is left as it was.
func TestRefusedFiles(t *testing.T) {
	foreign := func(t *testing.T, path string, fill func(*bolt.Tx) error) {
		t.Helper()
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		must(t, db.Update(fill))
		must(t, db.Close())
	}
	meta := func(format, version string) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("meta"))
			if err != nil {
				return err
			}
			return errors.Join(b.Put([]byte("format"), []byte(format)), b.Put([]byte("version"), []byte(version)))
		}
	}
	ours := func(t *testing.T, path string) {
		t.Helper()
		db := open(t, filepath.Dir(path))
		var wg sync.WaitGroup
		for i := range 300 {
			wg.Go(func() {
				ref := fmt.Sprintf("ref-%04d", i)
				if err := db.Wait(db.Append(persist.Put(persist.Applications, ref, map[string]string{"reference_id": ref, "status": "invited"}))); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		must(t, db.Close())
	}
	tests := map[string]struct {
		make func(t *testing.T, path string)
		want string
	}{
		"text": {
			func(t *testing.T, path string) { must(t, os.WriteFile(path, []byte("hello, not a database\n"), 0o600)) },
			"not an equalture-mock data file, or is damaged",
		},
		"random bytes": {
			func(t *testing.T, path string) {
				b := make([]byte, 64<<10)
				r := rand.New(rand.NewPCG(1, 2))
				for i := range b {
					b[i] = byte(r.Uint32())
				}
				must(t, os.WriteFile(path, b, 0o600))
			},
			"not an equalture-mock data file, or is damaged",
		},
		"another program's bolt file": {
			func(t *testing.T, path string) {
				foreign(t, path, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("users")); return err })
			},
			`is a bolt database but not an equalture-mock data file (buckets "users", no "meta")`,
		},
		"a bolt file in another format": {
			func(t *testing.T, path string) { foreign(t, path, meta("acme-cache", "1")) },
			`in format "acme-cache"`,
		},
		"a newer version": {
			func(t *testing.T, path string) { foreign(t, path, meta(persist.Format, "4")) },
			"written by a newer equalture-mock (format version 4; this one reads up to 3)",
		},
		"a directory": {
			func(t *testing.T, path string) { must(t, os.Mkdir(path, 0o700)) },
			"is not a regular file",
		},
		"both meta pages damaged": {
			func(t *testing.T, path string) {
				ours(t, path)
				scribble(t, path, 0, 2*os.Getpagesize())
			},
			"not an equalture-mock data file, or is damaged",
		},
		"data pages damaged": {
			func(t *testing.T, path string) {
				ours(t, path)
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				scribble(t, path, 2*os.Getpagesize(), int(fi.Size())-2*os.Getpagesize())
			},
			"is damaged",
		},
		"a bucket missing": {
			func(t *testing.T, path string) {
				ours(t, path)
				b, err := bolt.Open(path, 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				must(t, b.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("deliveries")) }))
				must(t, b.Close())
			},
			`is damaged: bucket "deliveries" is missing`,
		},
		"truncated": {
			func(t *testing.T, path string) {
				ours(t, path)
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				must(t, os.Truncate(path, fi.Size()/3))
			},
			"is truncated",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, persist.FileName)
			tc.make(t, path)
			before, _ := os.ReadFile(path)
			db, err := persist.Open(dir)
			if err == nil {
				_ = db.Close()
				t.Fatal("opened without an error")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want one naming %s and saying %q", err, path, tc.want)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Fatal("the refused file was changed")
			}
		})
	}
}

// scribble overwrites n bytes of the file at off with a repeating pattern.
func scribble(t *testing.T, path string, off, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	if _, err := f.WriteAt(b, int64(off)); err != nil {
		t.Fatal(err)
	}
}

// A version-1 file (records behind an 8-byte revision, an outbox, webhook tombstones, binary
// counters, payloads in the delivery records) is upgraded to version 2 when it is opened, in one
// transaction, keeping what it held, then to version 3: the applications sealed, the payloads
// gone, the file compacted so that none of it is left in the clear.
func TestUpgradeFromVersion1(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, persist.FileName)
	rev := func(n uint64, doc string) []byte { return append(binary.BigEndian.AppendUint64(nil, n), doc...) }
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	must(t, b.Update(func(tx *bolt.Tx) error {
		put := func(bucket, key string, v []byte) {
			bk, err := tx.CreateBucketIfNotExists([]byte(bucket))
			must(t, err)
			must(t, bk.Put([]byte(key), v))
		}
		put("meta", "format", []byte("equalture-mock"))
		put("meta", "version", []byte("1"))
		put("applications", "r1", rev(3, `{"reference_id":"r1","status":"completed","assessment_url":"x"}`))
		put("application_order", string(binary.BigEndian.AppendUint64(nil, 1)), []byte("r1"))
		put("outbox", string(binary.BigEndian.AppendUint64(nil, 1)), []byte(`{"reference_id":"r1"}`))
		put("token_generations", "c", rev(2, `{"generation":1}`))
		put("deliveries", "dlv_000001_r1", rev(1, `{"seq":1,"series":1,"secret":"whsec_x","delivery":{"id":"dlv_000001_r1","payload":{"fit":"high"}}}`))
		put("deliveries", "dlv_000002_r1", rev(1, `{"seq":2,"series":1,"delivery":{"id":"dlv_000002_r1","payload":{}}}`))
		put("webhooks", "c\x00a", rev(5, `{"webhook":{"client_id":"c","label":"a"}}`))
		put("webhooks", "c\x00b", rev(6, `{"webhook":{"client_id":"c","label":"b"},"deleted":true}`))
		put("webhooks", "c\x00old", rev(1, `{"webhook":{"client_id":"c","label":"old"}}`))
		put("state", "store_reset", binary.BigEndian.AppendUint64(nil, 2))
		put("state", "deliveries_reset", binary.BigEndian.AppendUint64(nil, 0))
		put("state", "delivery_last_seq", binary.BigEndian.AppendUint64(nil, 9))
		put("state", "ids_reserved", binary.BigEndian.AppendUint64(nil, 1024))
		put("state", "clock", rev(4, `{"frozen":true,"now":"2026-11-28T12:00:00Z","offset_ns":0}`))
		put("state", "signing_key", []byte("secret"))
		return nil
	}))
	must(t, b.Close())

	db := open(t, dir)
	for bucket, want := range map[string]string{
		persist.Applications:     `r1={"reference_id":"r1","status":"completed","assessment_url":"x"}; `,
		persist.ApplicationOrder: `1="r1"; `,
		persist.TokenGenerations: `c={"generation":1}; `,
		persist.Deliveries:       `dlv_000001_r1={"delivery":{"id":"dlv_000001_r1"},"seq":1,"series":1}; dlv_000002_r1={"delivery":{"id":"dlv_000002_r1"},"erased":true,"seq":2,"series":1}; `,
		persist.Webhooks:         "c\x00a={\"client_id\":\"c\",\"label\":\"a\"}; ",
		persist.State:            `clock={"frozen":true,"now":"2026-11-28T12:00:00Z","offset_ns":0}; delivery_last_seq=9; event_seq=9; ids_drawn=1024; signing_key="c2VjcmV0"; `,
	} {
		if got := dump(t, db, bucket); got != want {
			t.Errorf("%s upgraded:\n  %q\nwant\n  %q", bucket, got, want)
		}
	}
	must(t, db.Close())
	b, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	must(t, b.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("meta")).Get([]byte("version")); string(v) != "3" {
			t.Errorf("version %q after the upgrade", v)
		}
		if tx.Bucket([]byte("outbox")) != nil {
			t.Error("the outbox bucket is still there")
		}
		return nil
	}))
	findNone(t, dir, "completed", "assessment_url", "fit", "high", "whsec_x")
}
