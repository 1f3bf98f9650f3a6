package persist_test

import (
	"bytes"
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

	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/persist"
	"github.com/equalture/equalture-mock/internal/store"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func open(t *testing.T, dir string) (*persist.DB, persist.State) {
	t.Helper()
	db, st, err := persist.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, st
}

// reopen closes db and opens its directory again, as a restart does.
func reopen(t *testing.T, db *persist.DB) (*persist.DB, persist.State) {
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

func app(ref string, st store.Status) *store.Application {
	return &store.Application{ReferenceID: ref, ClientID: "demo-client", Status: st, CreatedAt: t0, InvitationExpiresAt: t0.Add(time.Hour)}
}

func saved(seq int, st delivery.Status) delivery.Saved {
	return delivery.Saved{Seq: seq, Series: 1, Delivery: delivery.Delivery{
		ID: fmt.Sprintf("dlv_%06d_ref", seq), ReferenceID: "ref", Status: st, Attempts: []delivery.Attempt{{N: 1, At: t0, StatusCode: 500}},
		Payload: json.RawMessage(`{"fit":"high"}`),
	}}
}

// summary is a state in a few words, for comparing.
func summary(st persist.State) string {
	var b strings.Builder
	for _, a := range st.Store.Applications {
		fmt.Fprintf(&b, "app %s %s %v; ", a.ReferenceID, a.Status, a.Scores)
	}
	for _, m := range st.Store.Outbox {
		fmt.Fprintf(&b, "mail %s; ", m.ReferenceID)
	}
	for _, id := range []string{"a", "b"} {
		if g, ok := st.Store.Tokens[id]; ok {
			fmt.Fprintf(&b, "gen %s %d %s; ", id, g.Gen, g.Reason)
		}
	}
	for _, d := range st.Deliveries.Deliveries {
		fmt.Fprintf(&b, "dlv %d %s; ", d.Seq, d.Delivery.Status)
	}
	fmt.Fprintf(&b, "store rev %d, deliveries rev %d, last seq %d", st.Store.Rev, st.Deliveries.Rev, st.Deliveries.LastSeq)
	return b.String()
}

func TestRoundTrip(t *testing.T) {
	db, _ := open(t, t.TempDir())
	completed := app("r1", store.Completed)
	completed.Scores = map[string]int{"working_memory": 4}
	completed.Hire = &store.Hire{AddToTeam: true, HiredAt: t0}
	must(t, db.WriteStore(store.Change{Rev: 1, Application: app("r1", store.Invited), Created: true, Email: &store.Email{ReferenceID: "r1", To: "a@example.com", SentAt: t0}}))
	must(t, db.WriteStore(store.Change{Rev: 2, Application: app("r0", store.Invited), Created: true}))
	must(t, db.WriteStore(store.Change{Rev: 3, Application: completed}))
	must(t, db.WriteStore(store.Change{Rev: 4, Tokens: map[string]store.TokenGeneration{"a": {Gen: 2, Reason: "revoked"}}}))
	must(t, db.WriteDeliveries(delivery.Write{Rev: 1, Deliveries: []delivery.Saved{saved(1, delivery.Pending), saved(2, delivery.Delivered)}}))
	must(t, db.ReserveIDs(1024))
	must(t, db.ReserveIDs(512)) // an older reservation never lowers it
	must(t, db.WriteClock(clock.State{Now: t0, Frozen: true, Offset: time.Hour}, 7))
	must(t, db.WriteSigningKey([]byte("secret")))

	_, st := reopen(t, db)
	if got, want := summary(st), "app r1 completed map[working_memory:4]; app r0 invited map[]; mail r1; gen a 2 revoked; dlv 1 pending; dlv 2 delivered; store rev 4, deliveries rev 1, last seq 2"; got != want {
		t.Fatalf("restored\n  %s\nwant\n  %s", got, want)
	}
	a := st.Store.Applications[0]
	if a.Hire == nil || !a.Hire.AddToTeam || !a.CreatedAt.Equal(t0) || !a.InvitationExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("application = %+v", a)
	}
	d := st.Deliveries.Deliveries[0]
	if d.Series != 1 || string(d.Delivery.Payload) != `{"fit":"high"}` || d.Delivery.Attempts[0].StatusCode != 500 {
		t.Fatalf("delivery = %+v", d)
	}
	if st.IDsReserved != 1024 || string(st.SigningKey) != "secret" {
		t.Fatalf("ids reserved %d, key %q", st.IDsReserved, st.SigningKey)
	}
	if st.Clock == nil || !st.Clock.Frozen || !st.Clock.Now.Equal(t0) || st.Clock.Offset != 0 || st.ClockRev != 7 {
		t.Fatalf("clock = %+v rev %d (a frozen clock keeps its time, not its offset)", st.Clock, st.ClockRev)
	}
}

func TestEmptyFileIsANewDataFile(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, persist.FileName), nil, 0o600)) // e.g. a crash before the first write
	db, st := open(t, dir)
	if len(st.Store.Applications) != 0 || st.Clock != nil {
		t.Fatalf("an empty file holds %+v", st)
	}
	must(t, db.ReserveIDs(3))
	if _, st = reopen(t, db); st.IDsReserved != 3 {
		t.Fatalf("reserved %d after a restart, want 3", st.IDsReserved)
	}
}

func TestNewFileIsEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	db, st := open(t, dir)
	if st.Clock != nil || st.SigningKey != nil || len(st.Store.Applications) != 0 || st.IDsReserved != 0 {
		t.Fatalf("a new file holds %+v", st)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir: %v %v", fi, err)
	}
	if fi, err := os.Stat(db.Path()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("data file: %v %v", fi, err)
	}
}

// TestVersionOrdering replays writes in the order they reached the disk, which races can make
// other than the order of their revisions: the newest revision wins, and a reset removes what is
// older than itself only.
func TestVersionOrdering(t *testing.T) {
	create := func(rev uint64, ref string) store.Change {
		return store.Change{Rev: rev, Application: app(ref, store.Invited), Created: true, Email: &store.Email{ReferenceID: ref}}
	}
	update := func(rev uint64, ref string, st store.Status) store.Change {
		return store.Change{Rev: rev, Application: app(ref, st)}
	}
	tokens := func(rev uint64, gen int) store.Change {
		return store.Change{Rev: rev, Tokens: map[string]store.TokenGeneration{"a": {Gen: gen}}}
	}
	reset := func(rev uint64) store.Change { return store.Change{Rev: rev, Reset: true} }
	tests := map[string]struct {
		store      []store.Change
		deliveries []delivery.Write
		want       string
	}{
		"in order": {
			store: []store.Change{create(1, "r"), update(2, "r", store.Started), update(3, "r", store.Completed)},
			want:  "app r completed map[]; mail r; store rev 3, deliveries rev 0, last seq 0",
		},
		"an older update lands last": {
			store: []store.Change{create(1, "r"), update(3, "r", store.Completed), update(2, "r", store.Started)},
			want:  "app r completed map[]; mail r; store rev 3, deliveries rev 0, last seq 0",
		},
		"an update lands before its creation": {
			store: []store.Change{update(2, "r", store.Started), create(1, "r"), create(3, "s")},
			want:  "app r started map[]; app s invited map[]; mail r; mail s; store rev 3, deliveries rev 0, last seq 0",
		},
		"token generations": {
			store: []store.Change{tokens(5, 2), tokens(4, 1)},
			want:  "gen a 2 ; store rev 5, deliveries rev 0, last seq 0",
		},
		"a reset removes what came before it": {
			store: []store.Change{create(1, "r"), tokens(2, 1), reset(3)},
			want:  "store rev 3, deliveries rev 0, last seq 0",
		},
		"a write older than a reset lands after it": {
			store: []store.Change{create(1, "r"), reset(3), update(2, "r", store.Completed), tokens(2, 1)},
			want:  "store rev 3, deliveries rev 0, last seq 0",
		},
		"a reset lands after a newer write": {
			store: []store.Change{create(1, "r"), create(4, "s"), tokens(5, 1), reset(3), reset(2)},
			want:  "app s invited map[]; mail s; gen a 1 ; store rev 5, deliveries rev 0, last seq 0",
		},
		"deliveries": {
			deliveries: []delivery.Write{
				{Rev: 1, Deliveries: []delivery.Saved{saved(1, delivery.Pending)}},
				{Rev: 3, Deliveries: []delivery.Saved{saved(1, delivery.Delivered)}},
				{Rev: 2, Deliveries: []delivery.Saved{saved(1, delivery.Pending), saved(2, delivery.Pending)}},
			},
			want: "dlv 1 delivered; dlv 2 pending; store rev 0, deliveries rev 3, last seq 2",
		},
		"a delivery reset keeps the numbers used": {
			deliveries: []delivery.Write{
				{Rev: 1, Deliveries: []delivery.Saved{saved(1, delivery.Pending)}},
				{Rev: 3, Deliveries: []delivery.Saved{saved(2, delivery.Pending)}},
				{Rev: 2, Reset: true},
				{Rev: 1, Deliveries: []delivery.Saved{saved(1, delivery.Failed)}},
			},
			want: "dlv 2 pending; store rev 0, deliveries rev 3, last seq 2",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			db, _ := open(t, t.TempDir())
			for _, c := range tc.store {
				must(t, db.WriteStore(c))
			}
			for _, w := range tc.deliveries {
				must(t, db.WriteDeliveries(w))
			}
			_, st := reopen(t, db)
			if got := summary(st); got != tc.want {
				t.Fatalf("restored\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}

func TestClockOrdering(t *testing.T) {
	db, _ := open(t, t.TempDir())
	must(t, db.WriteClock(clock.State{Offset: time.Minute}, 0)) // the course a new file starts with
	must(t, db.WriteClock(clock.State{Offset: 2 * time.Hour}, 2))
	must(t, db.WriteClock(clock.State{Now: t0, Frozen: true}, 1))
	_, st := reopen(t, db)
	if st.Clock.Frozen || st.Clock.Offset != 2*time.Hour || st.ClockRev != 2 {
		t.Fatalf("clock = %+v rev %d, want running 2h ahead at revision 2", st.Clock, st.ClockRev)
	}
}

// TestConcurrentWritesAreGroupedAndEachAnswered writes from many goroutines at once; one write
// that bbolt refuses fails alone.
func TestConcurrentWritesAreGroupedAndEachAnswered(t *testing.T) {
	db, _ := open(t, t.TempDir())
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := fmt.Sprintf("r%03d", i)
			if i == n/2 {
				ref = strings.Repeat("x", bolt.MaxKeySize+1) // bbolt refuses the key
			}
			errs[i] = db.WriteStore(store.Change{Rev: uint64(i + 1), Application: app(ref, store.Invited), Created: true})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == n/2) {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if !strings.Contains(errs[n/2].Error(), "key too large") {
		t.Fatalf("the refused write says %v", errs[n/2])
	}
	_, st := reopen(t, db)
	if got := len(st.Store.Applications); got != n-1 {
		t.Fatalf("%d applications after %d writes (one refused)", got, n)
	}
	for i := 1; i < len(st.Store.Applications); i++ {
		if st.Store.Applications[i-1].ReferenceID > st.Store.Applications[i].ReferenceID {
			t.Fatal("creation order lost")
		}
	}
}

func TestWritesAfterClose(t *testing.T) {
	db, _ := open(t, t.TempDir())
	must(t, db.Close())
	if err := db.ReserveIDs(1); !errors.Is(err, persist.ErrClosed) {
		t.Fatalf("write after Close = %v", err)
	}
	must(t, db.Close())
}

func TestLockedFile(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	start := time.Now()
	_, _, err := persist.Open(dir)
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
		db, _ := open(t, filepath.Dir(path))
		var wg sync.WaitGroup
		for i := range 300 {
			wg.Go(func() {
				if err := db.WriteStore(store.Change{Rev: uint64(i + 1), Application: app(fmt.Sprintf("ref-%04d", i), store.Invited), Created: true}); err != nil {
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
			func(t *testing.T, path string) { foreign(t, path, meta(persist.Format, "2")) },
			"written by a newer equalture-mock (format version 2; this one reads 1)",
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
		"a record damaged": {
			func(t *testing.T, path string) {
				ours(t, path)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				// Every copy of the record (bbolt copies pages on write) loses its JSON shape.
				b = bytes.ReplaceAll(b, []byte(`{"reference_id":"ref-0150",`), []byte(`{"reference_id":"ref-0150":`))
				must(t, os.WriteFile(path, b, 0o600))
			},
			`record applications/"ref-0150"`,
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
			db, _, err := persist.Open(dir)
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

// Anonymizing rewrites the application's invitation email in the file too: nothing of the
// applicant is read back after a restart.
func TestErasedEmailsReplaceTheirRecords(t *testing.T) {
	db, _ := open(t, t.TempDir())
	must(t, db.WriteStore(store.Change{Rev: 1, Application: app("r1", store.Invited), Created: true, Email: &store.Email{ReferenceID: "r1", To: "ada@example.com", Body: "Dear Ada", SentAt: t0}}))
	must(t, db.WriteStore(store.Change{Rev: 2, Application: app("r2", store.Invited), Created: true, Email: &store.Email{ReferenceID: "r2", To: "bob@example.com", Body: "Dear Bob", SentAt: t0}}))
	must(t, db.WriteStore(store.Change{Rev: 3, Application: app("r1", store.Anonymized), Erased: []store.Email{{ReferenceID: "r1", Body: "(anonymized)", SentAt: t0}}}))
	db, st := reopen(t, db)
	if len(st.Store.Outbox) != 2 || st.Store.Outbox[0].To != "" || st.Store.Outbox[0].Body != "(anonymized)" || st.Store.Outbox[1].To != "bob@example.com" {
		t.Fatalf("outbox after a restart: %+v", st.Store.Outbox)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("ada@example.com")) && !bytes.Contains(raw, []byte("(anonymized)")) {
		t.Fatal("the file holds the email only as it was")
	}
}
