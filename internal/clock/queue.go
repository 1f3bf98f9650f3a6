package clock

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/equalture/equalture-mock/internal/notify"
)

// Queue holds tasks due at times on a clock — callback retries, automatic completions — and runs
// each once its time has come, in time order, in the queue's own goroutine. It sleeps on one clock
// timer for the earliest task, so moving the clock fast-forwards everything that waits on it.
// Tasks must be quick (hand work to someone else, as the delivery sender hands attempts to its
// workers): the next task waits for the one running.
type Queue struct {
	clock   Clock
	changed notify.Broadcaster // a pass of the scheduler finished
	wake    chan struct{}      // the heap changed: re-read its earliest item
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}

	mu      sync.Mutex
	due     taskHeap
	seq     uint64 // ties keep the order tasks were added in
	running bool   // a pass is running tasks outside the lock
	closed  bool
}

// NewQueue starts a queue on c. Close stops it.
func NewQueue(c Clock) *Queue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{clock: c, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go q.loop()
	return q
}

// At runs fn once the clock reaches t (at once when t has passed). After Close it does nothing.
func (q *Queue) At(t time.Time, fn func()) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.seq++
	heap.Push(&q.due, task{at: t, seq: q.seq, fn: fn})
	q.mu.Unlock()
	q.poke()
}

// Reset drops every task not yet run.
func (q *Queue) Reset() {
	q.mu.Lock()
	q.due = nil
	q.mu.Unlock()
	q.poke()
}

// Len returns how many tasks wait.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.due)
}

// Settled waits until every task due at the clock's current time has run, or ctx is done. Tests
// and the control API use it to know that nothing more happens until the clock moves: a task
// that is not due yet is not waited for.
func (q *Queue) Settled(ctx context.Context) error {
	for {
		changed := q.changed.Changed()
		q.mu.Lock()
		settled := q.closed || !q.running && (len(q.due) == 0 || q.due[0].at.After(q.clock.Now()))
		q.mu.Unlock()
		if settled {
			return nil
		}
		q.poke() // the clock may have moved without the loop noticing yet
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops the queue; tasks not yet run are dropped. It waits for the task running, if any.
func (q *Queue) Close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.due = nil
	q.mu.Unlock()
	q.cancel()
	<-q.done
	q.changed.Notify()
}

// poke tells the loop the heap changed, without ever blocking.
func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// loop runs due tasks, then sleeps on one clock timer until the earliest is due or the heap changes.
func (q *Queue) loop() {
	defer close(q.done)
	for {
		q.mu.Lock()
		now := q.clock.Now()
		var ready []func()
		for len(q.due) > 0 && !q.due[0].at.After(now) {
			ready = append(ready, heap.Pop(&q.due).(task).fn)
		}
		q.running = len(ready) > 0
		var timer Timer
		if !q.running && len(q.due) > 0 {
			timer = q.arm(q.due[0].at, now)
		}
		q.mu.Unlock()
		if len(ready) > 0 {
			for _, fn := range ready {
				fn()
			}
			q.mu.Lock()
			q.running = false
			q.mu.Unlock()
			q.changed.Notify()
			continue // tasks may have added more: look again before sleeping
		}
		q.changed.Notify()
		var fired <-chan time.Time
		if timer != nil {
			fired = timer.C()
		}
		select {
		case <-fired:
		case <-q.wake:
		case <-q.ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if q.ctx.Err() != nil {
			return
		}
	}
}

// drift is how far the clock may move between reading it and arming a timer before the timer is
// armed again: a running clock moves on by microseconds, a moved one by what it was moved.
const drift = time.Millisecond

// arm returns a timer for t, read against now. A timer counts from the clock's time when it is
// made, which another goroutine moving the clock may have changed since now was read: it would
// fire late by the move, after t. So the clock is read again and the timer made again from there
// while the two readings differ by more than drift (a few times at most); when t is due by then,
// there is no timer, and the loop is poked to run the task.
func (q *Queue) arm(t, now time.Time) Timer {
	for range 4 {
		timer := q.clock.NewTimer(t.Sub(now))
		after := q.clock.Now()
		if !t.After(after) {
			timer.Stop()
			q.poke()
			return nil
		}
		if after.Sub(now) <= drift {
			return timer
		}
		timer.Stop()
		now = after
	}
	return q.clock.NewTimer(t.Sub(q.clock.Now()))
}

type task struct {
	at  time.Time
	seq uint64
	fn  func()
}

type taskHeap []task

func (h taskHeap) Len() int { return len(h) }
func (h taskHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h taskHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *taskHeap) Push(x any)   { *h = append(*h, x.(task)) }
func (h *taskHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
