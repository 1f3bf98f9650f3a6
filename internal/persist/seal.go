package persist

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"sync"
)

// Sealed records: a record holding personal data is written as AES-256-GCM ciphertext under a
// key of its own, kept in the key file (keys.go), never in the data file. Destroying the key
// makes every copy of what it sealed unreadable, the copies bbolt leaves in its free pages
// included (crypto-shredding).
//
// A sealed value is sealedTag, the key's id (8 bytes, big-endian), then what
// cipher.NewGCMWithRandomNonce's Seal makes: a random 96-bit nonce, the ciphertext and the
// 16-byte tag. The additional data is the record's bucket and key, so a value moved under
// another key, or into another bucket, does not open. JSON never starts with sealedTag's zero
// byte, so sealed and plain records tell themselves apart.

var sealedTag = []byte{0x00, 0x01}

const sealedHeader = 2 + 8

// isSealed says whether v is a sealed value, and names its key.
func isSealed(v []byte) (id uint64, ok bool) {
	if len(v) < sealedHeader || v[0] != sealedTag[0] || v[1] != sealedTag[1] {
		return 0, false
	}
	return binary.BigEndian.Uint64(v[2:sealedHeader]), true
}

// additional is the data a record's seal is bound to: its bucket and key.
func additional(bucket, key string) []byte {
	return append(append(append(make([]byte, 0, len(bucket)+1+len(key)), bucket...), 0), key...)
}

func aead(key *[32]byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// seal returns plain sealed with key (id) for bucket/key.
func seal(key *[32]byte, id uint64, bucket, k string, plain []byte) ([]byte, error) {
	a, err := aead(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, sealedHeader, sealedHeader+len(plain)+a.Overhead())
	copy(out, sealedTag)
	binary.BigEndian.PutUint64(out[2:], id)
	return a.Seal(out, nil, plain, additional(bucket, k)), nil
}

// errUnsealed is why a sealed value does not open.
var errUnsealed = errors.New("its seal does not open with its key: it was sealed for another record, or altered")

// unseal opens v, sealed with key for bucket/key, appending the plain value to dst.
func unseal(key *[32]byte, bucket string, k, v, dst []byte) ([]byte, error) {
	a, err := aead(key)
	if err != nil {
		return nil, err
	}
	out, err := a.Open(dst, nil, v[sealedHeader:], additional(bucket, string(k)))
	if err != nil {
		return nil, errUnsealed
	}
	return out, nil
}

// errNoKey is why a sealed value has no key (openKeys refuses such a file: a key destroyed since).
var errNoKey = errors.New("its key is not in the key file")

// opener opens the sealed values one Load meets, with the key file read once, at the first.
type opener struct {
	r    *keyring
	once sync.Once
	keys []byte
	err  error
}

// open returns the plain value of bucket/k's value v: v itself when it is not sealed, else v
// opened with its key, appended to dst.
func (o *opener) open(bucket string, k, v, dst []byte) ([]byte, error) {
	id, ok := isSealed(v)
	if !ok {
		return v, nil
	}
	o.once.Do(func() { o.keys, o.err = o.r.all() })
	if o.err != nil {
		return nil, o.err
	}
	key, ok := keyAt(o.keys, id)
	if !ok {
		return nil, errNoKey
	}
	return unseal(&key.key, bucket, k, v, dst)
}
