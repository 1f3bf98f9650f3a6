package delivery

import (
	"container/heap"
	"net/http"
	"time"

	"github.com/equalture/equalture-mock/internal/clock"
)

// schedule moves due items out of the heap: attempts to the workers, tasks run here in order
// (auto-completion only enqueues). It sleeps on the clock until the earliest item is due, so
// moving the clock fast-forwards retries.
func (d *Dispatcher) schedule() {
	defer d.sched.Done()
	for {
		d.mu.Lock()
		if d.closing {
			d.mu.Unlock()
			return
		}
		now := d.deps.Clock.Now()
		var tasks []func()
		for d.due.Len() > 0 && !d.due[0].at.After(now) {
			it := heap.Pop(&d.due).(item)
			switch {
			case it.task != nil:
				tasks = append(tasks, it.task)
			case d.all[it.id] != nil && d.all[it.id].Status == Pending:
				d.readyLocked(it.id)
			}
		}
		if len(tasks) > 0 {
			d.mu.Unlock()
			for _, t := range tasks {
				t()
			}
			continue // tasks may have queued more; look again before arming a timer
		}
		var timer clock.Timer
		if d.due.Len() > 0 {
			timer = d.deps.Clock.NewTimer(d.due[0].at.Sub(now))
		}
		d.mu.Unlock()
		var fired <-chan time.Time
		if timer != nil {
			fired = timer.C()
		}
		select {
		case <-fired:
		case <-d.wake:
		case <-d.ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func (d *Dispatcher) worker() {
	defer d.workers.Done()
	for {
		d.mu.Lock()
		for len(d.ready) == 0 && !d.closing {
			d.work.Wait()
		}
		if d.closing {
			d.mu.Unlock()
			return
		}
		id := d.ready[0]
		d.ready = d.ready[1:]
		dl := d.all[id]
		if dl == nil || dl.Status != Pending { // reset, or already taken
			d.mu.Unlock()
			continue
		}
		dl.Status, dl.NextAttemptAt = Delivering, nil
		dl.series++
		n := len(dl.Attempts) + 1
		snap := dl.clone()
		d.inFlight++
		d.mu.Unlock()
		d.changed.Notify()

		at := d.deps.Clock.Now()
		code, latency, err := d.send(snap, n, at)
		d.finish(id, Attempt{N: n, At: at, StatusCode: code, Error: errText(err), LatencyMS: float64(latency.Microseconds()) / 1000})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// finish records an attempt and decides what follows it.
func (d *Dispatcher) finish(id string, a Attempt) {
	d.mu.Lock()
	d.inFlight--
	dl := d.all[id]
	if dl == nil { // reset while in flight
		d.mu.Unlock()
		d.changed.Notify()
		return
	}
	dl.Attempts = append(dl.Attempts, a)
	switch {
	case a.Error == "" && d.success(a.StatusCode):
		dl.Status, dl.Reason = Delivered, ""
	case a.StatusCode == http.StatusGone:
		dl.Status, dl.Reason = Failed, ReasonGone
	default:
		d.planLocked(dl, d.deps.Clock.Now())
	}
	d.mu.Unlock()
	d.changed.Notify()
	d.deps.Logger.Info("callback attempt", "delivery", id, "attempt", a.N, "status", a.StatusCode, "error", a.Error, "outcome", string(dl.Status))
}

func (d *Dispatcher) success(code int) bool {
	if d.cfg.Success == "2xx" {
		return code >= 200 && code < 300
	}
	return code == http.StatusOK
}

// item is a future attempt (id) or task (auto-completion), due at a time on the clock.
type item struct {
	at   time.Time
	id   string
	task func()
}

type dueHeap []item

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(item)) }
func (h *dueHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
