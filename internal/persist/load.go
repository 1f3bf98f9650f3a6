package persist

import (
	"fmt"
	"runtime"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Load reads bucket back at start-up: alloc is told how many records it holds, then decode is
// called for the i-th record in key order, on every core (decoding is most of a start-up). Key and
// value are valid only during the call. A decode error is returned naming the file and the record.
func (db *DB) Load(bucket string, alloc func(n int), decode func(i int, key, value []byte) error) error {
	if db == nil {
		alloc(0)
		return nil
	}
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
			return decodeAll(len(recs), func(i int) error {
				if err := decode(i, recs[i].key, recs[i].value); err != nil {
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

// Get reads one record of bucket (nil when there is none), for the few single values of State.
func (db *DB) Get(bucket, key string) ([]byte, error) {
	if db == nil {
		return nil, nil
	}
	var out []byte
	err := guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			if b := tx.Bucket([]byte(bucket)); b != nil {
				if v := b.Get([]byte(key)); v != nil {
					out = append([]byte(nil), v...)
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

// record is a key and value as bbolt holds them: valid while its transaction is open.
type record struct{ key, value []byte }

// decodeAll runs decode(i) for every i in [0, n) on every core, each worker guarded like the
// reads of its caller, and returns the first error.
func decodeAll(n int, decode func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			errs[w] = guard(func() error {
				for i := w; i < n; i += workers {
					if err := decode(i); err != nil {
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
