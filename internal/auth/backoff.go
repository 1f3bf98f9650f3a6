package auth

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/equalture/equalture-mock/internal/clock"
)

// The defaults of a Limiter.
const (
	BackoffFree    = 5                // failures heard without waiting
	BackoffBase    = time.Second      // the wait after the first failure beyond them
	BackoffMax     = 5 * time.Minute  // the longest wait
	BackoffForget  = 15 * time.Minute // quiet time after which an address starts afresh
	BackoffEntries = 10000            // addresses remembered
)

// Limiter slows down guessing a secret (the admin token): per client address, every failed
// attempt beyond a few free ones doubles the time before the next attempt is heard (up to a cap),
// on the mock's clock, so tests move the clock instead of sleeping. The table of addresses is
// bounded: the least recently seen address goes first when it is full, and an address forgets its
// failures after a quiet while. It is safe for concurrent use.
type Limiter struct {
	clock clock.Clock

	mu      sync.Mutex
	entries map[string]*list.Element // of *entry, most recent at the front
	order   list.List
}

type entry struct {
	key   string
	fails int
	last  time.Time // the last failure
	until time.Time // no attempt is heard before
}

// NewLimiter returns a limiter timed on clk.
func NewLimiter(clk clock.Clock) *Limiter {
	return &Limiter{clock: clk, entries: make(map[string]*list.Element)}
}

// Wait returns how long key must wait before an attempt is heard (0: now).
func (l *Limiter) Wait(key string) time.Duration {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.lookup(key, now)
	if e == nil || !now.Before(e.until) {
		return 0
	}
	return e.until.Sub(now)
}

// Fail records a failed attempt of key.
func (l *Limiter) Fail(key string) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.lookup(key, now)
	if e == nil {
		e = &entry{key: key}
		l.entries[key] = l.order.PushFront(e)
		for l.order.Len() > BackoffEntries {
			old := l.order.Back()
			delete(l.entries, old.Value.(*entry).key)
			l.order.Remove(old)
		}
	}
	e.fails++
	e.last = now
	if over := e.fails - BackoffFree; over > 0 {
		wait := BackoffMax
		if over <= 20 { // beyond, the shift would pass the cap anyway
			wait = min(BackoffBase<<(over-1), BackoffMax)
		}
		e.until = now.Add(wait)
	}
}

// Succeed forgets key's failures.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.entries[key]; ok {
		delete(l.entries, key)
		l.order.Remove(el)
	}
}

// lookup returns key's entry, moved to the front, or nil when there is none or it has been quiet
// long enough to forget (or the clock moved back before its last failure).
func (l *Limiter) lookup(key string, now time.Time) *entry {
	el, ok := l.entries[key]
	if !ok {
		return nil
	}
	e := el.Value.(*entry)
	if now.Sub(e.last) > BackoffForget || now.Before(e.last) {
		delete(l.entries, key)
		l.order.Remove(el)
		return nil
	}
	l.order.MoveToFront(el)
	return e
}

// ClientAddress is the client address a request counts against: its peer's IP address, an IPv6 address by
// its /64 (one host holds a whole /64).
func ClientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
