package auth

import (
	"strconv"
	"sync"
	"testing"
)

// The cache forgets everything when full and stays bounded under concurrent use (its limit, plus
// at most one entry per writer racing with the moment it empties).
func TestCacheIsBounded(t *testing.T) {
	c := newCache[int](4)
	for i := range 4 {
		c.put(strconv.Itoa(i), i)
	}
	for i := range 4 {
		if v, ok := c.get(strconv.Itoa(i)); !ok || v != i {
			t.Fatalf("get(%d) = %d, %v; want %d, true", i, v, ok, i)
		}
	}
	c.put("4", 4)
	if _, ok := c.get("0"); ok {
		t.Fatal("a full cache kept its old entries")
	}
	if v, ok := c.get("4"); !ok || v != 4 {
		t.Fatalf(`get("4") = %d, %v after the cache was emptied`, v, ok)
	}

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				k := strconv.Itoa(g*1000 + i)
				c.put(k, i)
				c.get(k)
			}
		})
	}
	wg.Wait()
	n := 0
	c.m.Range(func(any, any) bool { n++; return true })
	if n > 4+4 {
		t.Fatalf("the cache holds %d entries, more than its limit 4 and one per writer", n)
	}
}
