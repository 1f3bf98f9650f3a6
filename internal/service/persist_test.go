package service_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/persist"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/store"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// running is the service alone, seed 3, on a data dir ("" in memory); stop ends it as a restart
// does.
type running struct {
	*service.Service
	db *persist.DB
}

func newService(t *testing.T, dir string, clk *clock.Virtual, cfg service.Config) *running {
	t.Helper()
	fx, err := fixtures.Load(assets.Fixtures())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := auth.NewSigner([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	r := &running{}
	if dir != "" {
		if r.db, err = persist.Open(dir); err != nil {
			t.Fatal(err)
		}
	}
	lc, err := spec.EmbeddedLifecycle()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed = 3
	r.Service, err = service.New(cfg, service.Deps{
		Clock: clk, Lifecycle: lc, Fixtures: fx, Links: signer, DB: r.db,
		Journal: journal.New(0, 0), Faults: fault.NewSet(3),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	if r.Service == nil {
		return
	}
	_ = r.Close(context.Background())
	_ = r.db.Close()
	r.Service = nil
}

func (r *running) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Settled(ctx); err != nil {
		t.Fatal(err)
	}
}

func inviteN(t *testing.T, s *running, n int) []string {
	t.Helper()
	refs := make([]string, n)
	for i := range refs {
		app, err := s.Invite(testenv.DemoID, service.Invitation{JobID: testenv.EngineerJob, CallbackURL: testenv.CallbackURL, InvitationType: domain.InviteOneTimeLink})
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = app.ReferenceID
	}
	return refs
}

// Reference ids are the seed's sequence, and a restarted mock with the same seed goes on with it:
// none issued before the restart comes again, and none is skipped.
func TestReferenceIDsAreNeverReissued(t *testing.T) {
	sequence := inviteN(t, newService(t, "", clock.NewFrozen(testenv.T0), service.Config{}), 5)
	dir := t.TempDir()
	s := newService(t, dir, clock.NewFrozen(testenv.T0), service.Config{})
	before := inviteN(t, s, 3)
	if !slices.Equal(before, sequence[:3]) {
		t.Fatalf("on a data dir: %v, want the seed's %v", before, sequence[:3])
	}
	s.stop()
	after := inviteN(t, newService(t, dir, clock.NewFrozen(testenv.T0), service.Config{}), 2)
	if !slices.Equal(after, sequence[3:]) {
		t.Fatalf("after the restart: %v, want the seed's sequence going on, %v", after, sequence[3:])
	}
}

// Applications a restart interrupted complete themselves on the clock as they would have: those
// due during the downtime at once, the others at their time, none twice.
func TestResumeSchedulesAutomaticCompletions(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFrozen(testenv.T0)
	s := newService(t, dir, clk, service.Config{})
	refs := map[string]string{}
	invite := func(name string) {
		refs[inviteN(t, s, 1)[0]] = name
	}
	invite("overdue")
	if err := s.AdvanceClock(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	started := inviteN(t, s, 1)[0]
	refs[started] = "started"
	if _, err := s.Start(started); err != nil {
		t.Fatal(err)
	}
	if err := s.AdvanceClock(5 * time.Minute); err != nil {
		t.Fatal(err)
	}
	invite("fresh")
	done := inviteN(t, s, 1)[0]
	if _, err := s.Complete(done, service.Completion{}); err != nil {
		t.Fatal(err)
	}
	s.stop()

	s = newService(t, dir, clk, service.Config{AutoCompleteAfter: 10 * time.Minute})
	completed := func() []string {
		var names []string
		for _, a := range s.Applications(store.Filter{Status: domain.Completed}) {
			if refs[a.ReferenceID] != "" {
				names = append(names, refs[a.ReferenceID])
			}
		}
		return names
	}
	s.settle(t)
	if got := completed(); len(got) != 0 {
		t.Fatalf("%v completed before Resume", got)
	}
	s.Resume()
	for _, step := range []struct {
		advance time.Duration
		want    []string
	}{
		{0, []string{"overdue"}},
		{5*time.Minute - time.Second, []string{"overdue"}},
		{time.Second, []string{"overdue", "started"}},
		{5 * time.Minute, []string{"overdue", "started", "fresh"}},
	} {
		if err := s.AdvanceClock(step.advance); err != nil {
			t.Fatal(err)
		}
		s.settle(t)
		if got := completed(); !slices.Equal(got, step.want) {
			t.Fatalf("at %v: completed %v, want %v", clk.Now().Sub(testenv.T0), got, step.want)
		}
	}
	if n := len(s.Deliveries(delivery.Filter{ReferenceID: done, Kind: delivery.KindResults})); n != 1 {
		t.Fatalf("the application completed before the restart has %d results deliveries", n)
	}
}

// Every move of the clock is written with the move: a restart finds the clock where it was left.
func TestClockMovesAreWritten(t *testing.T) {
	dir := t.TempDir()
	moves := []struct {
		name   string
		move   func(*running) error
		frozen bool
		now    time.Time // when frozen
	}{
		{"advance", func(s *running) error { return s.AdvanceClock(time.Hour) }, true, testenv.T0.Add(time.Hour)},
		{"set", func(s *running) error { _, err := s.SetClock(testenv.T0.Add(-time.Minute)); return err }, true, testenv.T0.Add(-time.Minute)},
		{"unfreeze", func(s *running) error { return s.UnfreezeClock() }, false, time.Time{}},
		{"freeze", func(s *running) error { return s.FreezeClock() }, true, time.Time{}},
		{"reset", func(s *running) error { return s.ResetClock() }, false, time.Time{}},
	}
	s := newService(t, dir, clock.NewFrozen(testenv.T0), service.Config{})
	for _, m := range moves {
		if err := m.move(s); err != nil {
			t.Fatal(err)
		}
		want := s.Clock()
		s.stop()
		s = newService(t, dir, clock.NewVirtual(), service.Config{})
		got := s.Clock()
		if got.Frozen != m.frozen || (m.frozen && !got.Now.Equal(want.Now)) || (!m.frozen && (got.Offset-want.Offset).Abs() > time.Second) {
			t.Fatalf("after %s and a restart the clock is %+v, want %+v", m.name, got, want)
		}
		if !m.now.IsZero() && !got.Now.Equal(m.now) {
			t.Fatalf("after %s: %v, want %v", m.name, got.Now, m.now)
		}
	}
}
