package persist_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/equalture/equalture-mock/internal/persist"
)

// findNone fails when any file under dir holds any of needles, as bytes.
func findNone(t *testing.T, dir string, needles ...string) {
	t.Helper()
	must(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("%s holds %q", path, n)
			}
		}
		return nil
	}))
}

// forms are the ways a key's bytes could be written down: raw, hex, base64.
func forms(key []byte) []string {
	return []string{string(key), hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key)}
}

// keysIn reads the key file as its layout says: a 64-byte header, then 64-byte slots of id,
// key and CRC-32C; zeroed slots are free.
func keysIn(t *testing.T, dir string) map[uint64][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, persist.KeyFileName))
	must(t, err)
	if !bytes.HasPrefix(b, []byte("equalture-mock keys 1\n")) || len(b)%64 != 0 {
		t.Fatalf("key file of %d bytes starting %q", len(b), b[:min(len(b), 22)])
	}
	keys := make(map[uint64][]byte)
	for off := 64; off < len(b); off += 64 {
		slot := b[off : off+64]
		if bytes.Count(slot, []byte{0}) == 64 {
			continue
		}
		if binary.BigEndian.Uint32(slot[40:]) != crc32.Checksum(slot[:40], crc32.MakeTable(crc32.Castagnoli)) {
			t.Fatalf("slot %d of the key file is torn", off/64-1)
		}
		keys[binary.BigEndian.Uint64(slot)] = bytes.Clone(slot[8:40])
	}
	return keys
}

// raw is a record's value as the data file holds it (the file closed).
func raw(t *testing.T, dir, bucket, key string) []byte {
	t.Helper()
	b, err := bolt.Open(filepath.Join(dir, persist.FileName), 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	defer b.Close()
	var v []byte
	must(t, b.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket([]byte(bucket)).Get([]byte(key)))
		return nil
	}))
	return v
}

// keyOf is the key a sealed value names: its id, after the 2-byte tag.
func keyOf(t *testing.T, v []byte) uint64 {
	t.Helper()
	if len(v) < 10 || v[0] != 0 || v[1] != 1 {
		t.Fatalf("value %q is not sealed", v)
	}
	return binary.BigEndian.Uint64(v[2:10])
}

type person struct {
	Name   string         `json:"name"`
	Email  string         `json:"email"`
	Scores map[string]int `json:"scores,omitempty"`
}

// Sealed records read back as they were put, restart after restart, and the data file holds none
// of them in the clear; each has a key of its own.
func TestSealedRecordsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	write(t, db,
		persist.PutSealed(persist.Applications, "r1", person{"Ada Lovelace", "ada@example.com", nil}),
		persist.PutSealed(persist.Applications, "r2", person{"Grace Hopper", "grace@example.com", nil}),
		persist.Put(persist.ApplicationOrder, persist.Seq(1), "r1"),
	)
	write(t, db, persist.PutSealed(persist.Applications, "r1", person{"Ada Lovelace", "ada@example.com", map[string]int{"OPN": 4}}))
	want := `r1={"name":"Ada Lovelace","email":"ada@example.com","scores":{"OPN":4}}; r2={"name":"Grace Hopper","email":"grace@example.com"}; `
	if got := dump(t, db, persist.Applications); got != want {
		t.Fatalf("before a restart:\n  %s\nwant\n  %s", got, want)
	}
	for range 2 {
		db = reopen(t, db)
		if got := dump(t, db, persist.Applications); got != want {
			t.Fatalf("after a restart:\n  %s\nwant\n  %s", got, want)
		}
	}
	if v, err := db.Get(persist.Applications, "r2"); err != nil || !strings.Contains(string(v), "Grace") {
		t.Fatalf("Get = %s, %v", v, err)
	}
	must(t, db.Close())
	findNone(t, dir, "Ada", "Lovelace", "ada@example.com", "Grace", "grace@", `"OPN"`, "scores")
	r1, r2 := keyOf(t, raw(t, dir, persist.Applications, "r1")), keyOf(t, raw(t, dir, persist.Applications, "r2"))
	keys := keysIn(t, dir)
	if r1 == r2 || keys[r1] == nil || keys[r2] == nil {
		t.Fatalf("r1 sealed with key %d, r2 with %d; the key file has %d keys", r1, r2, len(keys))
	}
	if len(keys) != 2 {
		t.Fatalf("after a restart the key file holds %d keys, want only the 2 in use (spares written ahead are destroyed)", len(keys))
	}
	if fi, err := os.Stat(filepath.Join(dir, persist.KeyFileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
}

// Resealing a record destroys the key it was sealed with: no file of the data dir holds that key
// any more, in any form, so the copy bbolt keeps of the old value in its free pages is noise.
// Deleting a sealed record and clearing a bucket destroy its keys as well.
func TestErasureDestroysTheKey(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	for i := range 3 {
		write(t, db, persist.PutSealed(persist.Applications, fmt.Sprint("r", i), person{Name: fmt.Sprint("Person ", i)}))
	}
	must(t, db.Close())
	old := map[string][]byte{}
	keys := keysIn(t, dir)
	for _, r := range []string{"r0", "r1", "r2"} {
		old[r] = keys[keyOf(t, raw(t, dir, persist.Applications, r))]
	}

	db = open(t, dir)
	write(t, db, persist.Reseal(persist.Applications, "r0", person{Name: "Anonymized"}))
	write(t, db, persist.Delete(persist.Applications, "r1"))
	must(t, db.Close())
	for _, r := range []string{"r0", "r1"} {
		findNone(t, dir, forms(old[r])...)
	}
	keys = keysIn(t, dir)
	if k := keys[keyOf(t, raw(t, dir, persist.Applications, "r0"))]; k == nil || bytes.Equal(k, old["r0"]) {
		t.Fatal("the resealed record is not sealed with a new key")
	}
	db = open(t, dir)
	if got := dump(t, db, persist.Applications); got != `r0={"name":"Anonymized","email":""}; r2={"name":"Person 2","email":""}; ` {
		t.Fatalf("after a restart: %s", got)
	}
	write(t, db, persist.Clear(persist.Applications))
	must(t, db.Close())
	findNone(t, dir, forms(old["r2"])...)
	if keys := keysIn(t, dir); len(keys) != 0 {
		// Before the restart the spares were there; the restart destroyed those too.
		t.Fatalf("%d keys left after the bucket was cleared", len(keys))
	}
}

// The slots of destroyed keys are taken by new keys: the key file grows with the keys in use at
// once, not with every key ever made; free slots at its end are cut off at start-up.
func TestKeyFileSlotsAreReused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, persist.KeyFileName)
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(path)
		must(t, err)
		return fi.Size()
	}
	db := open(t, dir)
	puts := func(from, to int) (ws []persist.Write) {
		for i := from; i < to; i++ {
			ws = append(ws, persist.PutSealed(persist.Applications, fmt.Sprintf("r%04d", i), i))
		}
		return ws
	}
	write(t, db, puts(0, 1000)...)
	full := size()
	var dels []persist.Write
	for i := range 990 {
		dels = append(dels, persist.Delete(persist.Applications, fmt.Sprintf("r%04d", i)))
	}
	write(t, db, dels...)
	write(t, db, puts(1000, 1990)...)
	if got := size(); got > full*3/2 { // spares written ahead: a slot or two hundred more
		t.Fatalf("the key file grew from %d to %d bytes for as many keys in use", full, got)
	}
	db = reopen(t, db)
	var n int
	must(t, db.Load(persist.Applications, func(c int) { n = c }, func(int, []byte, []byte) error { return nil }))
	if n != 1000 || len(keysIn(t, dir)) != 1000 {
		t.Fatalf("%d records, %d keys after a restart", n, len(keysIn(t, dir)))
	}
	write(t, db, persist.Clear(persist.Applications))
	reopen(t, db)
	if got := size(); got != 64 {
		t.Fatalf("the key file is %d bytes after its keys were destroyed and a restart, want the header's 64", got)
	}
}

// A sealed value is bound to its record: moved under another reference id it does not open, and
// start-up refuses the file naming the record.
func TestSealedRecordCannotMove(t *testing.T) {
	for name, move := range map[string]func(tx *bolt.Tx) error{
		"onto another record": func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte(persist.Applications))
			return b.Put([]byte("r2"), bytes.Clone(b.Get([]byte("r1"))))
		},
		"to a new reference id": func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte(persist.Applications))
			v := bytes.Clone(b.Get([]byte("r1")))
			if err := b.Delete([]byte("r1")); err != nil {
				return err
			}
			return b.Put([]byte("r9"), v)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			db := open(t, dir)
			write(t, db,
				persist.PutSealed(persist.Applications, "r1", person{Name: "Ada"}),
				persist.PutSealed(persist.Applications, "r2", person{Name: "Grace"}))
			must(t, db.Close())
			b, err := bolt.Open(filepath.Join(dir, persist.FileName), 0o600, nil)
			must(t, err)
			must(t, b.Update(move))
			must(t, b.Close())
			db = open(t, dir)
			err = db.Load(persist.Applications, func(int) {}, func(_ int, k, v []byte) error {
				if strings.Contains(string(v), "Ada") && string(k) != "r1" {
					t.Errorf("record %s reads as r1's: %s", k, v)
				}
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), "its seal does not open") || !strings.Contains(err.Error(), db.Path()) {
				t.Fatalf("Load = %v", err)
			}
			t.Log(err)
		})
	}
}

// The key file survives a crash at any point: its creation cut short leaves a temporary file, which
// is ignored (and removed); an append cut short leaves part of a slot, or a slot that does not
// check, which are not keys any record was committed with; a crash after an erasure was
// committed but before its key was destroyed leaves the old key beside the new, destroyed at the
// next start.
func TestKeyFileCrashes(t *testing.T) {
	setup := func(t *testing.T) (dir string, old []byte) {
		dir = t.TempDir()
		db := open(t, dir)
		write(t, db, persist.PutSealed(persist.Applications, "r1", person{Name: "Ada"}))
		write(t, db, persist.PutSealed(persist.Applications, "r2", person{Name: "Grace"}))
		must(t, db.Close())
		return dir, keysIn(t, dir)[keyOf(t, raw(t, dir, persist.Applications, "r1"))]
	}
	keyPath := func(dir string) string { return filepath.Join(dir, persist.KeyFileName) }
	appendTo := func(t *testing.T, path string, b []byte) {
		t.Helper()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		must(t, err)
		_, err = f.Write(b)
		must(t, err)
		must(t, f.Close())
	}
	tests := map[string]func(t *testing.T, dir string){
		"a torn temporary file": func(t *testing.T, dir string) {
			must(t, os.WriteFile(keyPath(dir)+".tmp", []byte("equalture-mock keys 1\n\x00\x00garbage"), 0o600))
		},
		"part of a slot at the end": func(t *testing.T, dir string) {
			appendTo(t, keyPath(dir), bytes.Repeat([]byte{0xAB}, 23))
		},
		"a slot that does not check": func(t *testing.T, dir string) {
			appendTo(t, keyPath(dir), bytes.Repeat([]byte{0xCD}, 64))
		},
		"an erasure committed, its key not yet destroyed": func(t *testing.T, dir string) {
			db := open(t, dir)
			write(t, db, persist.PutSealed(persist.Applications, "r0", person{Name: "Alan"})) // spares are written
			before, err := os.ReadFile(keyPath(dir))
			must(t, err)
			write(t, db, persist.Reseal(persist.Applications, "r1", person{Name: "Anonymized"}))
			must(t, db.Close())
			// The new key was a spare, in the file before the erasure: the file as it was then
			// is the file of a crash after the commit, before the old key was zeroed.
			must(t, os.WriteFile(keyPath(dir), before, 0o600))
		},
	}
	for name, crash := range tests {
		t.Run(name, func(t *testing.T) {
			dir, old := setup(t)
			crash(t, dir)
			db := open(t, dir)
			got := dump(t, db, persist.Applications)
			if !strings.Contains(got, `r2={"name":"Grace"`) || !strings.Contains(got, "r1=") {
				t.Fatalf("after the crash: %s", got)
			}
			write(t, db, persist.PutSealed(persist.Applications, "r3", person{Name: "Katherine"}))
			must(t, db.Close())
			if _, err := os.Stat(keyPath(dir) + ".tmp"); !os.IsNotExist(err) {
				t.Fatalf("the temporary file is left: %v", err)
			}
			keysIn(t, dir) // whole slots, each checking
			if strings.Contains(got, "Anonymized") {
				findNone(t, dir, forms(old)...)
			}
		})
	}
}

// Start-up refuses a data file whose sealed records have no key: the key file missing, damaged or
// another data file's. The files are left as they were.
func TestMissingKeysAreRefused(t *testing.T) {
	tests := map[string]struct {
		damage func(t *testing.T, dir string)
		want   string
	}{
		"no key file": {
			func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, persist.KeyFileName))) },
			"is missing: the 1 sealed records of data file",
		},
		"another data dir's key file": {
			func(t *testing.T, dir string) {
				other := t.TempDir()
				db := open(t, other)
				write(t, db, persist.Put(persist.State, "x", 1))
				must(t, db.Close())
				b, err := os.ReadFile(filepath.Join(other, persist.KeyFileName))
				must(t, err)
				must(t, os.WriteFile(filepath.Join(dir, persist.KeyFileName), b, 0o600))
			},
			`holds records sealed with keys its key file`,
		},
		"not a key file": {
			func(t *testing.T, dir string) {
				must(t, os.WriteFile(filepath.Join(dir, persist.KeyFileName), []byte("hello"), 0o600))
			},
			"is not an equalture-mock key file",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			db := open(t, dir)
			write(t, db, persist.PutSealed(persist.Applications, "r1", person{Name: "Ada"}))
			must(t, db.Close())
			tc.damage(t, dir)
			before, _ := os.ReadFile(filepath.Join(dir, persist.FileName))
			db, err := persist.Open(dir)
			if err == nil {
				_ = db.Close()
				t.Fatal("opened without an error")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want one saying %q", err, tc.want)
			}
			if after, _ := os.ReadFile(filepath.Join(dir, persist.FileName)); !bytes.Equal(after, before) {
				t.Fatal("the refused data file was changed")
			}
			// The lock is released: the data dir opens again once both files are moved away.
			must(t, os.Remove(filepath.Join(dir, persist.FileName)))
			must(t, os.RemoveAll(filepath.Join(dir, persist.KeyFileName)))
			open(t, dir)
		})
	}
}

// A version-2 file holds its applications in the clear, and older copies of them in its free
// pages: the upgrade seals each with a key of its own and compacts the file into a new one, so
// that nothing of them is left in the clear; what they said reads back the same.
func TestUpgradeFromVersion2SealsAndCompacts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, persist.FileName)
	b, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, b.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"meta", "applications", "application_order", "token_generations", "deliveries", "webhooks", "state"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		meta := tx.Bucket([]byte("meta"))
		must(t, meta.Put([]byte("format"), []byte("equalture-mock")))
		return meta.Put([]byte("version"), []byte("2"))
	}))
	for i := range 200 { // one transaction each: old copies of the records are left in free pages
		must(t, b.Update(func(tx *bolt.Tx) error {
			doc := fmt.Sprintf(`{"reference_id":"r%03d","applicant":{"first_name":"Plain%03d","email":"plain%03d@example.com"},"scores":{"OPN":%d}}`, i, i, i, i%5+1)
			return tx.Bucket([]byte("applications")).Put(fmt.Appendf(nil, "r%03d", i), []byte(doc))
		}))
	}
	must(t, b.Update(func(tx *bolt.Tx) error { // the old copy of r000 is in a free page now
		return tx.Bucket([]byte("applications")).Put([]byte("r000"), []byte(`{"reference_id":"r000","applicant":{"first_name":"Anonymized"}}`))
	}))
	must(t, b.Close())

	db := open(t, dir)
	var n int
	must(t, db.Load(persist.Applications, func(c int) { n = c }, func(i int, k, v []byte) error {
		if i > 0 && !strings.Contains(string(v), fmt.Sprintf("Plain%03d", i)) {
			t.Errorf("record %s reads %s", k, v)
		}
		return nil
	}))
	if n != 200 {
		t.Fatalf("%d records after the upgrade", n)
	}
	must(t, db.Close())
	findNone(t, dir, "Plain", "plain0", `"OPN"`, "scores", "applicant")
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Fatalf("the compaction's file is left: %v", err)
	}
	b, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	must(t, b.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		if v := meta.Get([]byte("version")); string(v) != "3" || meta.Get([]byte("compact")) != nil {
			t.Errorf("version %q, compact %q after the upgrade", v, meta.Get([]byte("compact")))
		}
		return nil
	}))
	must(t, b.Close())
}

// A crash between the sealing and the compaction's rename leaves a file still marked for
// compaction (and perhaps the compaction's file): the next start compacts it.
func TestMarkedFileIsCompacted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, persist.FileName)
	db := open(t, dir)
	write(t, db, persist.PutSealed(persist.Applications, "r1", person{Name: "Ada"}))
	must(t, db.Close())
	b, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("deliveries")).Put([]byte("plaintext"), []byte("Clear Text From Before"))
	}))
	must(t, b.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte("deliveries")).Delete([]byte("plaintext")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("compact"), []byte("1"))
	}))
	must(t, b.Close())
	must(t, os.WriteFile(path+".compact", []byte("half a compaction"), 0o600))
	before, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Contains(before, []byte("Clear Text From Before")) {
		t.Skip("bbolt reused the freed page: nothing to compact away")
	}
	db = open(t, dir)
	if got := dump(t, db, persist.Applications); got != `r1={"name":"Ada","email":""}; ` {
		t.Fatalf("after the compaction: %s", got)
	}
	write(t, db, persist.PutSealed(persist.Applications, "r2", person{Name: "Grace"}))
	must(t, db.Close())
	findNone(t, dir, "Clear Text From Before", "half a compaction")
}
