package auth_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/clock"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// The free failures wait for nothing; each one beyond doubles the wait, up to the cap; the wait
// passes when the clock moves, not before.
func TestWaitsDouble(t *testing.T) {
	clk := clock.NewFrozen(t0)
	l := auth.NewLimiter(clk)
	for i := range auth.BackoffFree {
		l.Fail("a")
		if w := l.Wait("a"); w != 0 {
			t.Fatalf("after %d failures: wait %v, want none", i+1, w)
		}
	}
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		l.Fail("a")
		if got := l.Wait("a"); got != want {
			t.Fatalf("wait %v, want %v", got, want)
		}
		if l.Wait("b") != 0 {
			t.Fatal("another address waits too")
		}
		clk.Advance(want - time.Millisecond)
		if l.Wait("a") == 0 {
			t.Fatal("the wait ended early")
		}
		clk.Advance(time.Millisecond)
		if got := l.Wait("a"); got != 0 {
			t.Fatalf("the wait did not end: %v left", got)
		}
	}
	for range 100 {
		l.Fail("a")
	}
	if got := l.Wait("a"); got != auth.BackoffMax {
		t.Fatalf("after many failures: wait %v, want the cap %v", got, auth.BackoffMax)
	}
	l.Succeed("a")
	if got := l.Wait("a"); got != 0 {
		t.Fatalf("after a success: wait %v", got)
	}
}

// A quiet address starts afresh; so does one when the clock is set back before its failures.
func TestForgets(t *testing.T) {
	clk := clock.NewFrozen(t0)
	l := auth.NewLimiter(clk)
	for range auth.BackoffFree + 3 {
		l.Fail("a")
	}
	clk.Advance(auth.BackoffForget + time.Second)
	l.Fail("a")
	if w := l.Wait("a"); w != 0 {
		t.Fatalf("a failure after a quiet while waits %v", w)
	}
	for range auth.BackoffFree + 3 {
		l.Fail("a")
	}
	clk.Set(t0.Add(-time.Hour))
	if w := l.Wait("a"); w != 0 {
		t.Fatalf("after the clock moved back: wait %v", w)
	}
}

// The table keeps the most recently seen addresses: a flood of new ones pushes out the oldest,
// never grows without bound.
func TestBounded(t *testing.T) {
	clk := clock.NewFrozen(t0)
	l := auth.NewLimiter(clk)
	for range auth.BackoffFree + 1 {
		l.Fail("first")
	}
	for i := range auth.BackoffEntries {
		l.Fail(fmt.Sprint("flood-", i))
	}
	if w := l.Wait("first"); w != 0 {
		t.Fatalf("the oldest address was kept beyond the bound (wait %v)", w)
	}
	for range auth.BackoffFree + 1 {
		l.Fail("last")
	}
	if l.Wait("last") == 0 {
		t.Fatal("a recent address was forgotten")
	}
}

func TestKey(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.7:5555":              "192.0.2.7",
		"[::ffff:192.0.2.7]:5555":     "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:5555": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443":  "2001:db8:1:2::/64",
		"not an address":              "not an address",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if got := auth.ClientAddress(r); got != want {
			t.Errorf("Key(%q) = %q, want %q", remote, got, want)
		}
	}
}
