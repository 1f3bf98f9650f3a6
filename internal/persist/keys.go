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
)

// The key file: the data keys that seal the records holding personal data (crypto-shredding).
// They live outside bbolt because bbolt never overwrites a page it frees: a key deleted there
// would linger in the file. Here a destroyed key's bytes are overwritten with zeros in place and
// synced; its slot is reused by a later key.
//
// Layout: a 64-byte header (keyMagic, then zeros), then 64-byte slots: a key's id (8 bytes,
// big-endian: its slot number, then a random tag that is never 0), the AES-256 key (32 bytes), a
// CRC-32C of those 40 bytes, 20 zero bytes. A slot of zeros is free. A sealed record names its
// key by the id, so the key is found at its slot and nothing about the keys is kept in memory.
//
// Crashes: new keys are written ahead of need (spares), in free slots or appended, and synced
// before a record sealed with one is committed; a key is zeroed only once the record that
// replaced or deleted the one it sealed is committed. So a committed record's key is always in
// the file, and what a crash can leave is a key no record names (a spare; the old key of a record
// replaced just before), a slot that does not check (a write cut short, of a key nothing was
// committed with) or part of a slot at the end: the next start zeroes or cuts them all.

// KeyFileName is the key file's name in the data directory.
const KeyFileName = "equalture-mock.keys"

const (
	keySlot = 64 // bytes per key: a slot never crosses a disk sector, so its write is not torn
	// spareKeys is how many keys are written ahead at once: one sync of the key file for so many
	// creations.
	spareKeys = 256
)

var (
	keyMagic   = []byte("equalture-mock keys 1\n")
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// dataKey is one record's key and its id.
type dataKey struct {
	id  uint64
	key [32]byte
}

func (k *dataKey) slot() uint32 { return uint32(k.id >> 32) }

// keyring is the open key file. The committer alone writes it; loaders read it at start-up.
type keyring struct {
	path  string
	f     *os.File
	slots uint32    // slots in the file
	free  []uint32  // zeroed slots, in order: new keys take the lowest
	spare []dataKey // written and synced, sealing nothing yet
}

// openKeys opens the key file at path (creating it when missing), keeps the keys that ids (those
// the data file's sealed records name) need and destroys every other: spares written ahead, keys
// of records replaced by a write that did not finish destroying them, slots a crash cut short. A
// record whose key is missing means the key file is lost, damaged or another data file's: an
// error naming the data file and a record (name gives a record sealed with an id), as for any
// damaged record.
func openKeys(path, dataFile string, ids []uint64, name func(id uint64) string) (*keyring, error) {
	r := &keyring{path: path}
	// A creation the process died in: there was no key file yet.
	if err := os.Remove(path + ".tmp"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if len(ids) > 0 {
			return nil, fmt.Errorf("key file %s is missing: the %d sealed records of data file %s (such as %s) cannot be read without it; restore it, or move the data file away to start afresh",
				path, len(ids), dataFile, name(ids[0]))
		}
		return r, r.create()
	}
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if len(b) < keySlot || !bytes.HasPrefix(b, keyMagic) {
		return nil, fmt.Errorf("key file %s is not an equalture-mock key file, or is damaged; refusing to use it", path)
	}
	used := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		used[id] = true
	}
	for id := range used {
		if _, ok := keyAt(b, id); !ok {
			n := 0
			for id := range used {
				if _, ok := keyAt(b, id); !ok {
					n++
				}
			}
			return nil, fmt.Errorf("data file %s holds records sealed with keys its key file %s does not have (%d keys; such as the key of %s): the key file is damaged, or belongs to another data file; restore it, or move both away to start afresh",
				dataFile, path, n, name(id))
		}
	}
	if r.f, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if err := r.tidy(b, used); err != nil {
		_ = r.close()
		return nil, err
	}
	return r, nil
}

// create writes a key file without keys: to a temporary file, synced, renamed, the directory
// synced, so that a key file is never found half written.
func (r *keyring) create() error {
	tmp := r.path + ".tmp"
	err := writeSynced(tmp, append(slices.Clone(keyMagic), make([]byte, keySlot-len(keyMagic))...))
	if err == nil {
		err = os.Rename(tmp, r.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(r.path))
	}
	if err == nil {
		r.f, err = os.OpenFile(r.path, os.O_RDWR, 0)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("key file %s: creating it: %w", r.path, err)
	}
	return nil
}

// tidy zeroes every slot of the key file b that holds no key in use, and cuts the free slots
// (and any part of a slot) off its end.
func (r *keyring) tidy(b []byte, used map[uint64]bool) error {
	n := uint32((len(b) - keySlot) / keySlot)
	var destroy []uint32
	inUse := make([]bool, n)
	for slot := range n {
		off := slotOffset(slot)
		k, state := decodeSlot(b[off : off+keySlot])
		switch {
		case state == slotKey && k.slot() == slot && used[k.id]:
			inUse[slot] = true
			r.slots = slot + 1
		case state != slotFree:
			destroy = append(destroy, slot)
		}
	}
	if err := r.zero(destroy); err != nil {
		return err
	}
	for slot := range r.slots {
		if !inUse[slot] {
			r.free = append(r.free, slot)
		}
	}
	if size := slotOffset(r.slots); size != int64(len(b)) {
		if err := r.f.Truncate(size); err != nil {
			return fmt.Errorf("key file %s: %w", r.path, err)
		}
		if err := r.f.Sync(); err != nil {
			return fmt.Errorf("key file %s: %w", r.path, err)
		}
	}
	return nil
}

// The states of a slot.
const (
	slotKey  = iota
	slotFree // zeros: no key
	slotTorn // neither: a write the process died in
)

func decodeSlot(b []byte) (dataKey, int) {
	var k dataKey
	k.id = binary.BigEndian.Uint64(b)
	copy(k.key[:], b[8:40])
	switch {
	case uint32(k.id) != 0 && binary.BigEndian.Uint32(b[40:44]) == crc32.Checksum(b[:40], castagnoli) && allZero(b[44:]):
		return k, slotKey
	case allZero(b):
		return k, slotFree
	default:
		return k, slotTorn
	}
}

func allZero(b []byte) bool { return !slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) }

func (k *dataKey) encode(b []byte) {
	binary.BigEndian.PutUint64(b, k.id)
	copy(b[8:40], k.key[:])
	binary.BigEndian.PutUint32(b[40:44], crc32.Checksum(b[:40], castagnoli))
	clear(b[44:keySlot])
}

func slotOffset(slot uint32) int64 { return int64(keySlot) * (1 + int64(slot)) }

// keyAt finds key id in the key file's bytes b.
func keyAt(b []byte, id uint64) (dataKey, bool) {
	off := slotOffset(uint32(id >> 32))
	if off+keySlot > int64(len(b)) {
		return dataKey{}, false
	}
	k, state := decodeSlot(b[off : off+keySlot])
	return k, state == slotKey && k.id == id
}

// key reads key id from the file.
func (r *keyring) key(id uint64) (dataKey, error) {
	b := make([]byte, keySlot)
	if _, err := r.f.ReadAt(b, slotOffset(uint32(id>>32))); err != nil {
		return dataKey{}, fmt.Errorf("key file %s: key %x: %w", r.path, id, err)
	}
	k, state := decodeSlot(b)
	if state != slotKey || k.id != id {
		return dataKey{}, fmt.Errorf("key file %s: key %x is missing", r.path, id)
	}
	return k, nil
}

// all reads the whole file, for a loader to find many keys in (keyAt).
func (r *keyring) all() ([]byte, error) {
	b, err := os.ReadFile(r.path)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", r.path, err)
	}
	return b, nil
}

// keyChange is what one commit does to the keys: it takes spares (more are written, and synced,
// before the commit when they run out) and destroys the keys of the records it replaces or
// deletes, once it is durable.
type keyChange struct {
	r         *keyring
	destroyed []uint32 // slots to zero once the commit is durable
}

// take returns a spare key, for a record sealed for the first time or resealed.
func (c *keyChange) take() (dataKey, error) {
	if len(c.r.spare) == 0 {
		if err := c.r.generate(spareKeys); err != nil {
			return dataKey{}, err
		}
	}
	k := c.r.spare[0]
	clear(c.r.spare[0].key[:]) // no second copy of it outlives its destruction
	c.r.spare = c.r.spare[1:]
	return k, nil
}

// destroy marks key id for destruction: the record it sealed is replaced or gone.
func (c *keyChange) destroy(id uint64) { c.destroyed = append(c.destroyed, uint32(id>>32)) }

// finish zeroes the keys the commit destroyed, now that it is durable, and frees their slots.
func (c *keyChange) finish() error {
	if len(c.destroyed) == 0 {
		return nil
	}
	if err := c.r.zero(c.destroyed); err != nil {
		return err
	}
	for _, slot := range c.destroyed {
		if i, found := slices.BinarySearch(c.r.free, slot); !found {
			c.r.free = slices.Insert(c.r.free, i, slot)
		}
	}
	return nil
}

// generate writes n new keys, in the lowest free slots and then at the end of the file, syncs
// them and makes them spares.
func (r *keyring) generate(n int) error {
	ks := make([]dataKey, n)
	for i := range ks {
		var slot uint32
		if len(r.free) > 0 {
			slot, r.free = r.free[0], r.free[1:]
		} else {
			slot = r.slots
			r.slots++
		}
		var tag [4]byte
		for tag == [4]byte{} {
			if _, err := rand.Read(tag[:]); err != nil {
				return fmt.Errorf("key file %s: drawing a key: %w", r.path, err)
			}
		}
		if _, err := rand.Read(ks[i].key[:]); err != nil {
			return fmt.Errorf("key file %s: drawing a key: %w", r.path, err)
		}
		ks[i].id = uint64(slot)<<32 | uint64(binary.BigEndian.Uint32(tag[:]))
	}
	// In slot order, runs of adjacent slots in one write each.
	for i := 0; i < len(ks); {
		j := i + 1
		for j < len(ks) && ks[j].slot() == ks[j-1].slot()+1 {
			j++
		}
		b := make([]byte, (j-i)*keySlot)
		for x := i; x < j; x++ {
			ks[x].encode(b[(x-i)*keySlot:])
		}
		if _, err := r.f.WriteAt(b, slotOffset(ks[i].slot())); err != nil {
			return fmt.Errorf("key file %s: %w", r.path, err)
		}
		clear(b)
		i = j
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("key file %s: %w", r.path, err)
	}
	r.spare = ks
	return nil
}

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
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("key file %s: destroying keys: %w", r.path, err)
	}
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
