// Package clock is the one source of time for everything that expires: tokens, links, callback
// retries and automatic completion. The mock runs on a Virtual clock that follows real time until
// tests or QA move, set or freeze it; timers armed on it fire when the clock reaches their deadline,
// whether real time got there or the clock was moved. A Queue runs tasks (retries, automatic
// completions) when the clock reaches their time.
package clock

import (
	"errors"
	"sync"
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

	mu     sync.Mutex
	base   time.Time // virtual time at real instant anchor
	anchor time.Time
	frozen bool
	timers map[*vtimer]struct{}
}

var _ Clock = (*Virtual)(nil)

// NewVirtual returns a running clock equal to real time.
func NewVirtual() *Virtual { return newVirtual(time.Now) }

// NewFrozen returns a frozen clock set to t, for tests.
func NewFrozen(t time.Time) *Virtual {
	v := newVirtual(time.Now)
	v.base, v.frozen = t, true
	return v
}

func newVirtual(real func() time.Time) *Virtual {
	now := real()
	return &Virtual{real: real, base: now, anchor: now, timers: make(map[*vtimer]struct{})}
}

// Restore puts the clock on the course st describes: frozen at st.Now, or running st.Offset
// ahead of real time (what a data file kept).
func (v *Virtual) Restore(st State) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.frozen = st.Frozen
	if st.Frozen {
		v.rebaseLocked(st.Now)
	} else {
		v.rebaseLocked(v.real().Add(st.Offset))
	}
}

// Now returns the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.nowLocked()
}

func (v *Virtual) nowLocked() time.Time {
	if v.frozen {
		return v.base
	}
	return v.base.Add(v.real().Sub(v.anchor))
}

// State returns the clock's time, whether it is frozen and its offset from real time.
func (v *Virtual) State() State {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.stateLocked()
}

func (v *Virtual) stateLocked() State {
	now := v.nowLocked()
	return State{Now: now, Frozen: v.frozen, Offset: now.Sub(v.real())}
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
	v.rebaseLocked(v.nowLocked().Add(d))
	now := v.base
	v.mu.Unlock()
	return now
}

// Set moves the clock to t, forward or back, and returns the time it showed before.
func (v *Virtual) Set(t time.Time) (before time.Time) {
	v.mu.Lock()
	before = v.nowLocked()
	v.rebaseLocked(t)
	v.mu.Unlock()
	return before
}

// Freeze stops the clock at its current time.
func (v *Virtual) Freeze() {
	v.mu.Lock()
	v.rebaseLocked(v.nowLocked())
	v.frozen = true
	v.mu.Unlock()
}

// Unfreeze lets the clock run with real time again from where it stands.
func (v *Virtual) Unfreeze() {
	v.mu.Lock()
	v.rebaseLocked(v.nowLocked())
	v.frozen = false
	v.rescheduleLocked()
	v.mu.Unlock()
}

// Reset puts the clock back on real time, running.
func (v *Virtual) Reset() {
	v.mu.Lock()
	v.frozen = false
	v.rebaseLocked(v.real())
	v.mu.Unlock()
}

func (v *Virtual) rebaseLocked(t time.Time) {
	v.base, v.anchor = t, v.real()
	v.rescheduleLocked()
}

// rescheduleLocked fires due timers and re-arms the real-time wake-up of the others.
func (v *Virtual) rescheduleLocked() {
	now := v.nowLocked()
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
	if !v.frozen {
		t.wake = time.AfterFunc(t.deadline.Sub(now), func() { v.check(t) })
	}
}

func (v *Virtual) check(t *vtimer) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, live := v.timers[t]; live {
		v.armLocked(t, v.nowLocked())
	}
}

// NewTimer returns a timer that fires when the virtual clock reaches Now()+d.
func (v *Virtual) NewTimer(d time.Duration) Timer {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.nowLocked()
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
