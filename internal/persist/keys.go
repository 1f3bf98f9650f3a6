package persist

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// The key file: the data keys that seal the records holding personal data (crypto-shredding).
// They live outside bbolt because bbolt never overwrites a freed page: a key deleted there would
// linger in the file. Here a destroyed key's bytes are overwritten with zeros in place and
// synced, and the file is rewritten (to a temporary file, synced, renamed over it, the directory
// synced) when most of it is zeros.
//
// Layout: a 64-byte header (keyMagic, then zeros), then one 64-byte slot per key: its id (8
// bytes, big-endian, never 0), the AES-256 key (32 bytes), a CRC-32C of those 40 bytes, 20 zero
// bytes. A slot of zeros is free (a destroyed key). A slot whose checksum fails was being written
// when the process died (new keys are appended, and synced, before a record sealed with them is
// committed; a destroyed key is zeroed after the record that replaced it is committed): no
// committed record needs it, and it is zeroed at the next start, as is every key no record names.
// New keys are appended in batches ahead of need (spares), so that a creation rarely waits for
// the key file as well as for bbolt.

// KeyFileName is the key file's name in the data directory.
const KeyFileName = "equalture-mock.keys"

const (
	keySlot = 64 // bytes per key: a slot never crosses a disk sector, so its write is not torn
	// spareKeys is how many keys are written ahead at once.
	spareKeys = 1024
	// rewriteFree is how many free slots the file may hold before it is rewritten without them
	// (once they are also the larger part of it).
	rewriteFree = 1024
)

var (
	keyMagic   = []byte("equalture-mock keys 1\n")
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// dataKey is one record's key: its id (named by the records it seals), its slot in the file.
type dataKey struct {
	id   uint64
	slot uint32
	key  [32]byte
}

// sealedRef is a sealed record found in the data file: its bucket, key and the id of its key.
type sealedRef struct {
	bucket, key string
	id          uint64
}

// keyring is the open key file and the keys of the sealed records. The committer alone changes
// it; the loaders read it at start-up (mu).
type keyring struct {
	path string
	f    *os.File

	mu       sync.RWMutex
	subjects map[string]map[string]dataKey // bucket → record key → the key its record is sealed with
	spare    []dataKey                     // in the file, sealing nothing yet
	next     uint64                        // the next key's id
	slots    uint32                        // slots in the file
	free     uint32                        // zeroed slots
}

// openKeys opens the key file at path (creating it when missing), keeps the keys refs name and
// destroys every other: keys no record is sealed with (spares written ahead; keys of records
// replaced or deleted by a write that did not finish destroying them) and slots a crash cut
// short. A record whose key is missing means the key file is lost, damaged or another data
// file's: an error, as for any damaged record.
func openKeys(path, dataFile string, refs []sealedRef) (*keyring, error) {
	r := &keyring{path: path, subjects: make(map[string]map[string]dataKey), next: 1}
	// A rewrite the process died in: the file it was replacing is whole.
	if err := os.Remove(path + ".tmp"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if len(refs) > 0 {
			return nil, fmt.Errorf("key file %s is missing: the %d sealed records of data file %s (such as %s/%q) cannot be read without it; restore it, or move the data file away to start afresh",
				path, len(refs), dataFile, refs[0].bucket, refs[0].key)
		}
		if err := r.rewrite(); err != nil {
			return nil, err
		}
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if len(b) < keySlot || !bytes.HasPrefix(b, keyMagic) {
		return nil, fmt.Errorf("key file %s is not an equalture-mock key file, or is damaged; refusing to use it", path)
	}
	if r.f, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	ok, err := r.read(b, dataFile, refs)
	if err == nil && !ok {
		err = r.rewrite()
	}
	if err != nil {
		_ = r.close()
		return nil, err
	}
	return r, nil
}

// read takes in the key file's bytes b: the keys refs name are kept, every other slot that is
// not free is zeroed. It reports false when the file should be rewritten (mostly free slots, or
// a torn append at its end).
func (r *keyring) read(b []byte, dataFile string, refs []sealedRef) (bool, error) {
	body := b[keySlot:]
	whole := len(body) - len(body)%keySlot // a torn append leaves part of a slot at the end
	byID := make(map[uint64]dataKey, whole/keySlot)
	var destroy []uint32
	for off := 0; off < whole; off += keySlot {
		slot := uint32(off / keySlot)
		k, state := decodeSlot(body[off : off+keySlot])
		switch {
		case state == slotFree:
			r.free++
			continue
		case state == slotTorn:
			destroy = append(destroy, slot)
			continue
		}
		if _, dup := byID[k.id]; dup {
			return false, fmt.Errorf("key file %s is damaged: key %d is in it twice", r.path, k.id)
		}
		k.slot = slot
		byID[k.id] = k
		r.next = max(r.next, k.id+1)
	}
	r.slots = uint32(whole / keySlot)
	used := make(map[uint64]bool, len(refs))
	var missing []sealedRef
	for _, ref := range refs {
		k, ok := byID[ref.id]
		if !ok {
			missing = append(missing, ref)
			continue
		}
		used[ref.id] = true
		m := r.subjects[ref.bucket]
		if m == nil {
			m = make(map[string]dataKey)
			r.subjects[ref.bucket] = m
		}
		m[ref.key] = k
	}
	if len(missing) > 0 {
		return false, fmt.Errorf("data file %s holds %d records sealed with keys its key file %s does not have (such as %s/%q): the key file is damaged, or belongs to another data file; restore it, or move both away to start afresh",
			dataFile, len(missing), r.path, missing[0].bucket, missing[0].key)
	}
	for id, k := range byID {
		if !used[id] {
			destroy = append(destroy, k.slot)
		}
	}
	if err := r.zero(destroy); err != nil {
		return false, err
	}
	return whole == len(body) && !r.mostlyFree(), nil
}

// The states of a slot.
const (
	slotKey  = iota
	slotFree // zeros: a destroyed key
	slotTorn // neither: a write the process died in
)

func decodeSlot(b []byte) (dataKey, int) {
	var k dataKey
	k.id = binary.BigEndian.Uint64(b)
	copy(k.key[:], b[8:40])
	switch {
	case k.id != 0 && binary.BigEndian.Uint32(b[40:44]) == crc32.Checksum(b[:40], castagnoli) && !slices.ContainsFunc(b[44:], func(c byte) bool { return c != 0 }):
		return k, slotKey
	case !slices.ContainsFunc(b, func(c byte) bool { return c != 0 }):
		return k, slotFree
	default:
		return k, slotTorn
	}
}

func (k *dataKey) encode(b []byte) {
	binary.BigEndian.PutUint64(b, k.id)
	copy(b[8:40], k.key[:])
	binary.BigEndian.PutUint32(b[40:44], crc32.Checksum(b[:40], castagnoli))
	clear(b[44:keySlot])
}

func slotOffset(slot uint32) int64 { return int64(keySlot) * (1 + int64(slot)) }

// keyChange is what one commit does to the keys: the committer holds the keyring's lock while
// it encodes the commit's writes.
type keyChange struct {
	r         *keyring
	fresh     []dataKey // generated for this commit: written (and synced) before it
	destroyed []dataKey // zeroed once the commit is durable
}

func (r *keyring) change() *keyChange {
	r.mu.Lock()
	return &keyChange{r: r}
}

// done releases the keyring; the change's writes follow (persist, then destroy).
func (c *keyChange) done() { c.r.mu.Unlock() }

// keyFor returns the key bucket/key's record is sealed with, taking a spare when it has none.
func (c *keyChange) keyFor(bucket, key string) (dataKey, error) {
	m := c.r.subjects[bucket]
	if k, ok := m[key]; ok {
		return k, nil
	}
	if len(c.r.spare) == 0 {
		fresh, err := c.r.generate(spareKeys)
		if err != nil {
			return dataKey{}, err
		}
		c.fresh = append(c.fresh, fresh...)
		c.r.spare = fresh
	}
	k := c.r.spare[0]
	clear(c.r.spare[0].key[:]) // the map holds it now: no second copy outlives its destruction
	c.r.spare = c.r.spare[1:]
	if m == nil {
		m = make(map[string]dataKey)
		c.r.subjects[bucket] = m
	}
	m[key] = k
	return k, nil
}

// drop destroys the key of bucket/key's record, if it has one: the record is replaced or gone.
func (c *keyChange) drop(bucket, key string) {
	if k, ok := c.r.subjects[bucket][key]; ok {
		c.destroyed = append(c.destroyed, k)
		delete(c.r.subjects[bucket], key)
	}
}

// dropAll destroys the keys of every record of bucket: it is emptied.
func (c *keyChange) dropAll(bucket string) {
	for _, k := range c.r.subjects[bucket] {
		c.destroyed = append(c.destroyed, k)
	}
	delete(c.r.subjects, bucket)
}

// generate makes n new keys, in new slots at the end of the file (not yet written).
func (r *keyring) generate(n int) ([]dataKey, error) {
	ks := make([]dataKey, n)
	for i := range ks {
		if _, err := rand.Read(ks[i].key[:]); err != nil {
			return nil, fmt.Errorf("key file %s: drawing a key: %w", r.path, err)
		}
		ks[i].id, ks[i].slot = r.next, r.slots
		r.next++
		r.slots++
	}
	return ks, nil
}

// persist writes the keys generated for the commit and syncs them: before the commit, so that a
// committed record's key is always on disk.
func (c *keyChange) persist() error {
	if len(c.fresh) == 0 {
		return nil
	}
	b := make([]byte, keySlot*len(c.fresh))
	for i := range c.fresh {
		c.fresh[i].encode(b[i*keySlot:])
	}
	if _, err := c.r.f.WriteAt(b, slotOffset(c.fresh[0].slot)); err != nil {
		return fmt.Errorf("key file %s: %w", c.r.path, err)
	}
	if err := c.r.f.Sync(); err != nil {
		return fmt.Errorf("key file %s: %w", c.r.path, err)
	}
	return nil
}

// destroy zeroes the keys the commit replaced or deleted, now that it is durable, and rewrites
// the file when it is mostly free slots.
func (c *keyChange) destroy() error {
	if len(c.destroyed) == 0 {
		return nil
	}
	slots := make([]uint32, len(c.destroyed))
	for i, k := range c.destroyed {
		slots[i] = k.slot
		clear(c.destroyed[i].key[:])
	}
	if err := c.r.zero(slots); err != nil {
		return err
	}
	if c.r.mostlyFree() {
		return c.r.rewrite()
	}
	return nil
}

func (r *keyring) mostlyFree() bool { return r.free > rewriteFree && r.free > r.slots-r.free }

// zero overwrites slots with zeros in place (runs of adjacent slots in one write) and syncs.
func (r *keyring) zero(slots []uint32) error {
	if len(slots) == 0 {
		return nil
	}
	slices.Sort(slots)
	var zeros []byte
	for i := 0; i < len(slots); {
		j := i + 1
		for j < len(slots) && slots[j] == slots[j-1]+1 {
			j++
		}
		if n := (j - i) * keySlot; len(zeros) < n {
			zeros = make([]byte, n)
		}
		if _, err := r.f.WriteAt(zeros[:(j-i)*keySlot], slotOffset(slots[i])); err != nil {
			return fmt.Errorf("key file %s: destroying keys: %w", r.path, err)
		}
		i = j
	}
	r.free += uint32(len(slots))
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("key file %s: destroying keys: %w", r.path, err)
	}
	return nil
}

// rewrite writes the keys in use and the spares, and nothing else, to a temporary file, syncs
// it, renames it over the key file and syncs the directory: a crash leaves either file whole.
// What the old file held is then only what the new one holds, and zeros.
func (r *keyring) rewrite() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.spare)
	for _, m := range r.subjects {
		n += len(m)
	}
	b := make([]byte, keySlot*(1+n))
	copy(b, keyMagic)
	slot := uint32(0)
	put := func(k *dataKey) {
		k.slot = slot
		k.encode(b[slotOffset(slot):])
		slot++
	}
	for _, m := range r.subjects {
		for key, k := range m {
			put(&k)
			m[key] = k
		}
	}
	for i := range r.spare {
		put(&r.spare[i])
	}
	tmp := r.path + ".tmp"
	err := writeSynced(tmp, b)
	if err == nil {
		err = os.Rename(tmp, r.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(r.path))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("key file %s: rewriting it: %w", r.path, err)
	}
	if r.f != nil {
		_ = r.f.Close()
	}
	if r.f, err = os.OpenFile(r.path, os.O_RDWR, 0); err != nil {
		return fmt.Errorf("key file %s: %w", r.path, err)
	}
	r.slots, r.free = slot, 0
	return nil
}

// writeSynced writes b to a new file at path (mode 0600) and syncs it.
func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir makes a rename or a new file in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

func (r *keyring) close() error {
	if r == nil || r.f == nil {
		return nil
	}
	return r.f.Close()
}
