// Package clock is the one source of time for everything that expires: tokens, links, callback
// retries and automatic completion. The mock runs on a Virtual clock that follows real time until
// tests or QA move, set or freeze it; timers armed on it fire when the clock reaches their deadline,
// whether real time got there or the clock was moved. A Queue runs tasks (retries, automatic
// completions) when the clock reaches their time.
package clock

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells the time and arms timers on it.
type Clock interface {
	// Now returns the clock's current time.
	Now() time.Time
	// NewTimer returns a timer that fires once the clock reaches Now()+d.
	NewTimer(d time.Duration) Timer
}

// Timer fires once, on C, when its clock reaches the deadline.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it stopped it.
	Stop() bool
}

// State describes a Virtual clock for the control API.
type State struct {
	Now    time.Time     `json:"now"`
	Frozen bool          `json:"frozen"`
	Offset time.Duration `json:"offset_ns"`
}

// Virtual is a movable clock: it runs with real time from an offset, and can be advanced, set,
// frozen and reset. Its zero value is not usable; call NewVirtual.
type Virtual struct {
	real func() time.Time

	// course is the clock's current course, read without a lock (Now is on every request's
	// path); it is replaced, never modified, under mu.
	course atomic.Pointer[course]

	mu     sync.Mutex // serialises changes of course and the timers
	timers map[*vtimer]struct{}
}

// course is where a Virtual clock stands: frozen at base, or running from base at real instant
// anchor.
type course struct {
	base, anchor time.Time
	frozen       bool
}

// at is the time the course shows at real instant now.
func (c *course) at(now time.Time) time.Time {
	if c.frozen {
		return c.base
	}
	return c.base.Add(now.Sub(c.anchor))
}

var _ Clock = (*Virtual)(nil)

// NewVirtual returns a running clock equal to real time.
func NewVirtual() *Virtual { return newVirtual(time.Now) }

// NewFrozen returns a frozen clock set to t, for tests.
func NewFrozen(t time.Time) *Virtual {
	v := newVirtual(time.Now)
	v.course.Store(&course{base: t, anchor: v.real(), frozen: true})
	return v
}

func newVirtual(real func() time.Time) *Virtual {
	now := real()
	v := &Virtual{real: real, timers: make(map[*vtimer]struct{})}
	v.course.Store(&course{base: now, anchor: now})
	return v
}

// Restore puts the clock on the course st describes: frozen at st.Now, or running st.Offset
// ahead of real time (what a data file kept).
func (v *Virtual) Restore(st State) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if st.Frozen {
		v.rebaseLocked(st.Now, true)
	} else {
		v.rebaseLocked(v.real().Add(st.Offset), false)
	}
}

// Now returns the virtual time.
func (v *Virtual) Now() time.Time { return v.course.Load().at(v.real()) }

func (v *Virtual) frozenLocked() bool { return v.course.Load().frozen }

// State returns the clock's time, whether it is frozen and its offset from real time.
func (v *Virtual) State() State {
	c, r := v.course.Load(), v.real()
	now := c.at(r)
	return State{Now: now, Frozen: c.frozen, Offset: now.Sub(r)}
}

// ErrBackwards is why Forward refuses a negative duration.
var ErrBackwards = errors.New("the clock only advances: a negative duration would move it back (set it to a time instead)")

// Forward moves the clock forward by d, which must not be negative: what the control API and the
// console offer as "advance". Moving back brings expired links and tokens back to life, so it is
// only done by setting the clock to a time, which says so.
func (v *Virtual) Forward(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, ErrBackwards
	}
	return v.Advance(d), nil
}

// Advance moves the clock by d (negative d moves it back: tests use it; operators get Forward).
func (v *Virtual) Advance(d time.Duration) time.Time {
	v.mu.Lock()
	now := v.Now().Add(d)
	v.rebaseLocked(now, v.frozenLocked())
	v.mu.Unlock()
	return now
}

// Set moves the clock to t, forward or back, and returns the time it showed before.
func (v *Virtual) Set(t time.Time) (before time.Time) {
	v.mu.Lock()
	before = v.Now()
	v.rebaseLocked(t, v.frozenLocked())
	v.mu.Unlock()
	return before
}

// Freeze stops the clock at its current time.
func (v *Virtual) Freeze() {
	v.mu.Lock()
	v.rebaseLocked(v.Now(), true)
	v.mu.Unlock()
}

// Unfreeze lets the clock run with real time again from where it stands.
func (v *Virtual) Unfreeze() {
	v.mu.Lock()
	v.rebaseLocked(v.Now(), false)
	v.mu.Unlock()
}

// Reset puts the clock back on real time, running.
func (v *Virtual) Reset() {
	v.mu.Lock()
	v.rebaseLocked(v.real(), false)
	v.mu.Unlock()
}

// rebaseLocked sets the clock to t, frozen or running from now on, and re-arms the timers.
func (v *Virtual) rebaseLocked(t time.Time, frozen bool) {
	v.course.Store(&course{base: t, anchor: v.real(), frozen: frozen})
	v.rescheduleLocked()
}

// rescheduleLocked fires due timers and re-arms the real-time wake-up of the others.
func (v *Virtual) rescheduleLocked() {
	now := v.Now()
	for t := range v.timers {
		v.armLocked(t, now)
	}
}

func (v *Virtual) armLocked(t *vtimer, now time.Time) {
	if t.wake != nil {
		t.wake.Stop()
		t.wake = nil
	}
	if !now.Before(t.deadline) {
		delete(v.timers, t)
		t.ch <- now // buffered, sent once: the timer leaves the set as it fires
		return
	}
	if !v.frozenLocked() {
		t.wake = time.AfterFunc(t.deadline.Sub(now), func() { v.check(t) })
	}
}

func (v *Virtual) check(t *vtimer) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, live := v.timers[t]; live {
		v.armLocked(t, v.Now())
	}
}

// NewTimer returns a timer that fires when the virtual clock reaches Now()+d.
func (v *Virtual) NewTimer(d time.Duration) Timer {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.Now()
	t := &vtimer{clock: v, deadline: now.Add(d), ch: make(chan time.Time, 1)}
	v.timers[t] = struct{}{}
	v.armLocked(t, now)
	return t
}

type vtimer struct {
	clock    *Virtual
	deadline time.Time
	ch       chan time.Time
	wake     *time.Timer
}

func (t *vtimer) C() <-chan time.Time { return t.ch }

func (t *vtimer) Stop() bool {
	v := t.clock
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, live := v.timers[t]; !live {
		return false
	}
	delete(v.timers, t)
	if t.wake != nil {
		t.wake.Stop()
	}
	return true
}
