package auth

import (
	"sync"
	"sync/atomic"
)

// cache remembers what was learnt of recently seen tokens (their verified claims, what they
// carry), so a client reusing its token for 15 minutes pays for the signature and the decoding
// once. Reads take no lock: every authenticated request does one. It is emptied whole when it
// reaches limit entries (the tokens still in use are learnt again, once each), so it holds at most
// limit entries plus the few being added at the moment it empties.
type cache[V any] struct {
	limit int64
	m     sync.Map // token → V
	n     atomic.Int64
}

func newCache[V any](limit int64) *cache[V] { return &cache[V]{limit: limit} }

func (c *cache[V]) get(token string) (V, bool) {
	v, ok := c.m.Load(token)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (c *cache[V]) put(token string, v V) {
	if c.n.Add(1) > c.limit {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(token, v)
}
