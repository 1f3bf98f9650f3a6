// Package notify lets readers wait for "something changed" without polling: a Broadcaster hands out
// a channel that is closed at the next change. The control API's ?wait= queries block on it.
package notify

import (
	"context"
	"sync"
	"time"
)

// Broadcaster signals changes to any number of waiters. The zero value is ready to use.
type Broadcaster struct {
	mu sync.Mutex
	ch chan struct{}
}

// Changed returns a channel closed at the next Notify.
func (b *Broadcaster) Changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// Notify wakes every waiter.
func (b *Broadcaster) Notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

// WaitFor calls check until it reports done, re-checking after every change, until wait (real
// time) has passed or ctx is done. It returns check's last result.
func WaitFor[T any](ctx context.Context, b *Broadcaster, wait time.Duration, check func() (T, bool)) T {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		changed := b.Changed() // taken before checking, so no change is missed in between
		v, done := check()
		if done || wait <= 0 {
			return v
		}
		select {
		case <-changed:
		case <-deadline.C:
			v, _ = check()
			return v
		case <-ctx.Done():
			return v
		}
	}
}
