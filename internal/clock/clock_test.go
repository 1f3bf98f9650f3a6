package clock

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeReal is a controllable stand-in for the wall clock under a Virtual clock.
type fakeReal struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeReal) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeReal) add(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

var epoch = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestVirtualFollowsRealTimeWithOffset(t *testing.T) {
	r := &fakeReal{t: epoch}
	v := newVirtual(r.now)
	r.add(time.Second)
	if got, want := v.Now(), epoch.Add(time.Second); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
	v.Advance(time.Hour)
	r.add(time.Second)
	if got, want := v.Now(), epoch.Add(time.Hour+2*time.Second); !got.Equal(want) {
		t.Fatalf("after Advance, Now() = %v, want %v", got, want)
	}
	if got, want := v.State().Offset, time.Hour; got != want {
		t.Fatalf("offset = %v, want %v", got, want)
	}
}

func TestVirtualFreeze(t *testing.T) {
	r := &fakeReal{t: epoch}
	v := newVirtual(r.now)
	v.Freeze()
	r.add(time.Minute)
	if got := v.Now(); !got.Equal(epoch) {
		t.Fatalf("frozen Now() = %v, want %v", got, epoch)
	}
	v.Unfreeze()
	r.add(time.Minute)
	if got, want := v.Now(), epoch.Add(time.Minute); !got.Equal(want) {
		t.Fatalf("unfrozen Now() = %v, want %v", got, want)
	}
	v.Set(epoch.Add(-time.Hour))
	if got, want := v.Now(), epoch.Add(-time.Hour); !got.Equal(want) {
		t.Fatalf("after Set, Now() = %v, want %v", got, want)
	}
	v.Reset()
	if got, want := v.Now(), r.now(); !got.Equal(want) {
		t.Fatalf("after Reset, Now() = %v, want %v", got, want)
	}
}

func TestVirtualTimerFiresWhenAdvanced(t *testing.T) {
	v := NewFrozen(epoch)
	tm := v.NewTimer(5 * time.Minute)
	v.Advance(4 * time.Minute)
	select {
	case <-tm.C():
		t.Fatal("timer fired before its deadline")
	default:
	}
	v.Advance(time.Minute)
	select {
	case got := <-tm.C():
		if want := epoch.Add(5 * time.Minute); !got.Equal(want) {
			t.Fatalf("fired at %v, want %v", got, want)
		}
	default:
		t.Fatal("timer did not fire at its deadline")
	}
	if got := len(v.timers); got != 0 {
		t.Fatalf("pending timers = %d, want 0", got)
	}
}

func TestVirtualTimerFiresWithRealTime(t *testing.T) {
	v := NewVirtual()
	tm := v.NewTimer(10 * time.Millisecond)
	select {
	case <-tm.C():
	case <-time.After(5 * time.Second):
		t.Fatal("a running virtual clock's timer never fired")
	}
}

func TestVirtualTimerStop(t *testing.T) {
	v := NewFrozen(epoch)
	tm := v.NewTimer(time.Minute)
	if !tm.Stop() {
		t.Fatal("Stop() = false on a pending timer")
	}
	if tm.Stop() {
		t.Fatal("second Stop() = true")
	}
	v.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
}

func TestZeroDurationTimerFiresAtOnce(t *testing.T) {
	v := NewFrozen(epoch)
	select {
	case <-v.NewTimer(0).C():
	default:
		t.Fatal("zero-duration timer did not fire at once")
	}
}

func TestRestore(t *testing.T) {
	tests := map[string]struct {
		st      State
		later   time.Duration // real time passing after the restore
		want    time.Time
		wantOff time.Duration
	}{
		"frozen stays where it was": {State{Now: epoch.Add(-48 * time.Hour), Frozen: true}, time.Hour, epoch.Add(-48 * time.Hour), -49 * time.Hour},
		"running keeps its offset":  {State{Now: epoch, Offset: 2 * time.Hour}, time.Hour, epoch.Add(3 * time.Hour), 2 * time.Hour},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := &fakeReal{t: epoch}
			v := newVirtual(r.now)
			fired := v.NewTimer(time.Hour + time.Minute)
			v.Restore(tc.st)
			r.add(tc.later)
			if got := v.Now(); !got.Equal(tc.want) {
				t.Fatalf("Now() = %v, want %v", got, tc.want)
			}
			if got := v.State(); got.Frozen != tc.st.Frozen || got.Offset != tc.wantOff {
				t.Fatalf("state = %+v", got)
			}
			select {
			case <-fired.C():
				if tc.st.Frozen {
					t.Fatal("a timer fired on a clock restored frozen in the past")
				}
			default:
				if !tc.st.Frozen {
					t.Fatal("a timer due before the restored time did not fire")
				}
			}
		})
	}
}

// Forward refuses to move back; Set moves either way and tells the time it replaced.
func TestForwardOnlyAndSetTellsWhatItReplaced(t *testing.T) {
	v := NewFrozen(epoch)
	if _, err := v.Forward(-time.Nanosecond); !errors.Is(err, ErrBackwards) {
		t.Fatalf("Forward(-1ns) = %v, want ErrBackwards", err)
	}
	if got := v.Now(); !got.Equal(epoch) {
		t.Fatalf("a refused Forward moved the clock to %v", got)
	}
	if now, err := v.Forward(time.Minute); err != nil || !now.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("Forward(1m) = %v, %v", now, err)
	}
	if before := v.Set(epoch); !before.Equal(epoch.Add(time.Minute)) || !v.Now().Equal(epoch) {
		t.Fatalf("Set(epoch) replaced %v, now %v", before, v.Now())
	}
}
