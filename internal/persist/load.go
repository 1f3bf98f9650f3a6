package persist

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Load reads bucket back at start-up: alloc is told how many records it holds, then decode is
// called for the i-th record in key order, on every core (decoding is most of a start-up), with
// its value as it was put (a sealed one opened). Key and value are valid only during the call. A
// decode error, or a sealed value that does not open, is returned naming the file and the record.
func (db *DB) Load(bucket string, alloc func(n int), decode func(i int, key, value []byte) error) error {
	if db == nil {
		alloc(0)
		return nil
	}
	keys := &opener{r: db.keys}
	err := guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte(bucket))
			if b == nil {
				return fmt.Errorf("bucket %q is missing", bucket)
			}
			var recs []record
			_ = b.ForEach(func(k, v []byte) error {
				recs = append(recs, record{k, v})
				return nil
			})
			alloc(len(recs))
			return decodeAll(len(recs), func(scratch *[]byte, i int) error {
				v, err := keys.open(bucket, recs[i].key, recs[i].value, (*scratch)[:0])
				if err == nil {
					if _, sealed := isSealed(recs[i].value); sealed {
						*scratch = v // the next record opens into the same memory
					}
					err = decode(i, recs[i].key, v)
				}
				if err != nil {
					return fmt.Errorf("record %s/%q: %w", bucket, recs[i].key, err)
				}
				return nil
			})
		})
	})
	if err != nil {
		return fmt.Errorf("data file %s is damaged: %w", db.path, err)
	}
	return nil
}

// Get reads one record of bucket (nil when there is none; a sealed one opened), for the few
// single values of State.
func (db *DB) Get(bucket, key string) ([]byte, error) {
	if db == nil {
		return nil, nil
	}
	var out []byte
	err := guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			if b := tx.Bucket([]byte(bucket)); b != nil {
				if v := b.Get([]byte(key)); v != nil {
					var err error
					if out, err = (&opener{r: db.keys}).open(bucket, []byte(key), v, nil); err != nil {
						return fmt.Errorf("record %s/%q: %w", bucket, key, err)
					}
					out = bytes.Clone(out)
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("data file %s is damaged: %w", db.path, err)
	}
	return out, nil
}

// GetJSON decodes the JSON record of bucket at key into v and reports whether there was one: the
// few single values of State (a counter, the clock, the signing key). A record that does not
// decode is a damaged data file.
func (db *DB) GetJSON(bucket, key string, v any) (found bool, err error) {
	b, err := db.Get(bucket, key)
	if err != nil || b == nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("data file %s is damaged: record %s/%s: %w", db.path, bucket, key, err)
	}
	return true, nil
}

// record is a key and value as bbolt holds them: valid while its transaction is open.
type record struct{ key, value []byte }

// decodeAll runs decode(scratch, i) for every i in [0, n) on every core, each worker guarded like
// the reads of its caller and with memory of its own to reuse (scratch), and returns the first
// error.
func decodeAll(n int, decode func(scratch *[]byte, i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			errs[w] = guard(func() error {
				var scratch []byte
				for i := w; i < n; i += workers {
					if err := decode(&scratch, i); err != nil {
						return err
					}
				}
				return nil
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
