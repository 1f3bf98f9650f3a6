package notify

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitForReturnsOnChange(t *testing.T) {
	var b Broadcaster
	var n atomic.Int32
	checked := make(chan struct{})
	var once sync.Once
	go func() {
		<-checked // WaitFor has looked once and found nothing: the change comes while it waits
		n.Store(1)
		b.Notify()
	}()
	got := WaitFor(context.Background(), &b, 5*time.Second, func() (int32, bool) {
		once.Do(func() { close(checked) })
		v := n.Load()
		return v, v == 1
	})
	if got != 1 {
		t.Fatalf("WaitFor = %d, want 1", got)
	}
}

func TestWaitForTimesOut(t *testing.T) {
	var b Broadcaster
	got := WaitFor(context.Background(), &b, 10*time.Millisecond, func() (int, bool) { return 7, false })
	if got != 7 {
		t.Fatalf("WaitFor = %d, want the last check's value 7", got)
	}
}

func TestWaitForZeroWaitChecksOnce(t *testing.T) {
	var b Broadcaster
	calls := 0
	WaitFor(context.Background(), &b, 0, func() (int, bool) { calls++; return 0, false })
	if calls != 1 {
		t.Fatalf("check called %d times, want 1", calls)
	}
}
