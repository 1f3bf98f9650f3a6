package clock

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// countingClock counts the timers the queue holds: armed and not yet stopped.
type countingClock struct {
	*Virtual
	held, most atomic.Int64
}

func (c *countingClock) NewTimer(d time.Duration) Timer {
	if n := c.held.Add(1); n > c.most.Load() {
		c.most.Store(n)
	}
	return countedTimer{c.Virtual.NewTimer(d), c}
}

type countedTimer struct {
	Timer
	c *countingClock
}

func (t countedTimer) Stop() bool { t.c.held.Add(-1); return t.Timer.Stop() }

type log struct {
	mu  sync.Mutex
	ran []string
}

func (l *log) add(s string) func() {
	return func() { l.mu.Lock(); defer l.mu.Unlock(); l.ran = append(l.ran, s) }
}

func (l *log) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ran)
}

func settle(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.Settled(ctx); err != nil {
		t.Fatalf("queue never settled: %v", err)
	}
}

func TestRunsTasksWhenTheClockGetsThereInOrder(t *testing.T) {
	clk := &countingClock{Virtual: NewFrozen(t0)}
	q := NewQueue(clk)
	t.Cleanup(q.Close)
	var l log
	q.At(t0.Add(10*time.Minute), l.add("10m"))
	q.At(t0.Add(5*time.Minute), l.add("5m"))
	q.At(t0.Add(10*time.Minute), l.add("10m, added second"))
	q.At(t0.Add(-time.Minute), l.add("past"))

	tests := []struct {
		advance time.Duration
		want    []string
	}{
		{0, []string{"past"}},
		{4 * time.Minute, []string{"past"}},
		{time.Minute, []string{"past", "5m"}},
		{4*time.Minute + 59*time.Second, []string{"past", "5m"}},
		{time.Second, []string{"past", "5m", "10m", "10m, added second"}},
	}
	for _, tc := range tests {
		clk.Advance(tc.advance)
		settle(t, q)
		if got := l.get(); !slices.Equal(got, tc.want) {
			t.Fatalf("at %v ran %v, want %v", clk.Now().Sub(t0), got, tc.want)
		}
	}
	if got := clk.most.Load(); got > 1 {
		t.Fatalf("the queue held %d timers on the clock at once, want at most 1", got)
	}
	if q.Len() != 0 {
		t.Fatalf("%d tasks left", q.Len())
	}
}

func TestTasksMayScheduleMore(t *testing.T) {
	clk := NewFrozen(t0)
	q := NewQueue(clk)
	t.Cleanup(q.Close)
	var l log
	q.At(t0, func() {
		l.add("first")()
		q.At(t0, l.add("added by first"))
		q.At(t0.Add(time.Hour), l.add("an hour later"))
	})
	settle(t, q)
	if got, want := l.get(), []string{"first", "added by first"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	clk.Advance(time.Hour)
	settle(t, q)
	if got := l.get(); len(got) != 3 {
		t.Fatalf("ran %v after an hour", got)
	}
}

func TestResetAndCloseDropTasks(t *testing.T) {
	clk := NewFrozen(t0)
	q := NewQueue(clk)
	var l log
	q.At(t0.Add(time.Minute), l.add("reset"))
	q.Reset()
	clk.Advance(time.Minute)
	settle(t, q)
	q.At(t0.Add(2*time.Minute), l.add("closed"))
	q.Close()
	q.Close() // twice is fine
	clk.Advance(time.Hour)
	q.At(t0, l.add("after close"))
	if got := l.get(); len(got) != 0 {
		t.Fatalf("dropped tasks ran: %v", got)
	}
	if err := q.Settled(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestFollowsARunningClock(t *testing.T) {
	clk := NewVirtual()
	q := NewQueue(clk)
	t.Cleanup(q.Close)
	done := make(chan struct{})
	q.At(clk.Now().Add(20*time.Millisecond), func() { close(done) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a task due in 20ms of real time never ran")
	}
}

// racingClock moves itself forward while a timer is being made, as another goroutine's Advance
// may between the queue's reading of the clock and its arming: a timer counted from the clock
// after the move would fire late by it.
type racingClock struct {
	*Virtual
	move atomic.Int64 // nanoseconds to advance during the next NewTimer
}

func (c *racingClock) NewTimer(d time.Duration) Timer {
	c.Virtual.Advance(time.Duration(c.move.Swap(0)))
	return c.Virtual.NewTimer(d)
}

func TestAMoveWhileArmingDoesNotDelayATask(t *testing.T) {
	tests := map[string]struct {
		move, then time.Duration // the move while arming, then the move after
		fires      bool          // the timer has fired (or there is none: the task is due)
	}{
		"a move short of the task, then to it":     {2 * time.Minute, 3 * time.Minute, true},
		"a move short of the task, then short":     {2 * time.Minute, 3*time.Minute - time.Second, false},
		"a move past the task":                     {6 * time.Minute, 0, true},
		"no move, then to the task":                {0, 5 * time.Minute, true},
		"no move, then a second short of the task": {0, 5*time.Minute - time.Second, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clk := &racingClock{Virtual: NewFrozen(t0)}
			q := &Queue{clock: clk, wake: make(chan struct{}, 1)}
			clk.move.Store(int64(tc.move))
			timer := q.arm(t0.Add(5*time.Minute), t0) // as the loop does, having read t0
			clk.Advance(tc.then)                      // a frozen clock fires its timers as it moves
			fired := timer == nil
			if timer != nil {
				select {
				case <-timer.C():
					fired = true
				default:
				}
				timer.Stop()
			}
			if fired != tc.fires {
				t.Fatalf("at %v the timer for 5m has fired: %v, want %v", clk.Now().Sub(t0), fired, tc.fires)
			}
			if timer == nil && len(q.wake) == 0 {
				t.Fatal("a task due while arming, and the loop not poked to run it")
			}
		})
	}
}
