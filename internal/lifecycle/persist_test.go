package lifecycle_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/lifecycle"
	"github.com/equalture/equalture-mock/internal/phxtoken"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/store"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// reservations records what the service reserves, failing when told to.
type reservations struct {
	calls []uint64
	fail  error
}

func (r *reservations) ReserveIDs(n uint64) error {
	if r.fail != nil {
		return r.fail
	}
	r.calls = append(r.calls, n)
	return nil
}

// service is the lifecycle alone on st and a frozen clock, with seed 3.
func service(t *testing.T, st *store.Store, clk *clock.Virtual, cfg lifecycle.Config, ids lifecycle.IDReservations, reserved uint64) *lifecycle.Service {
	t.Helper()
	fx, err := fixtures.Load(assets.Fixtures())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := phxtoken.NewSigner([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed = 3
	s, err := lifecycle.New(cfg, lifecycle.Deps{
		Store: st, Clock: clk, Fixtures: fx, Results: results.NewGenerator(fx, 3), Links: signer,
		IDs: ids, IDsReserved: reserved,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func inviteN(t *testing.T, s *lifecycle.Service, n int) []string {
	t.Helper()
	refs := make([]string, n)
	for i := range refs {
		app, err := s.Invite(testenv.DemoID, lifecycle.Invitation{JobID: testenv.EngineerJob, CallbackURL: testenv.CallbackURL, InvitationType: store.InviteOneTimeLink})
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = app.ReferenceID
	}
	return refs
}

func TestReferenceIDsAreReservedAndNeverReissued(t *testing.T) {
	newService := func(ids lifecycle.IDReservations, reserved uint64) *lifecycle.Service {
		clk := clock.NewFrozen(testenv.T0)
		return service(t, store.New(clk), clk, lifecycle.Config{}, ids, reserved)
	}
	// The same seed without persistence: the sequence every run draws from.
	sequence := inviteN(t, newService(nil, 0), 2*lifecycle.IDBlock+2)

	first := &reservations{}
	before := inviteN(t, newService(first, 0), lifecycle.IDBlock+1)
	if got, want := first.calls, []uint64{lifecycle.IDBlock, 2 * lifecycle.IDBlock}; !slices.Equal(got, want) {
		t.Fatalf("reserved %v, want %v: a block ahead of the first draw and of the draw past it", got, want)
	}
	if !slices.Equal(before, sequence[:len(before)]) {
		t.Fatal("reserving changed the seeded sequence")
	}

	// Restarted with the same seed and what was reserved: the ids continue after the reservation.
	again := &reservations{}
	after := inviteN(t, newService(again, 2*lifecycle.IDBlock), 2)
	for _, ref := range after {
		if slices.Contains(before, ref) {
			t.Fatalf("id %s issued again after the restart", ref)
		}
	}
	if !slices.Equal(after, sequence[2*lifecycle.IDBlock:]) {
		t.Fatalf("after the restart: %v, want the seeded sequence past the %d reserved ids", after, 2*lifecycle.IDBlock)
	}
	if got, want := again.calls, []uint64{3 * lifecycle.IDBlock}; !slices.Equal(got, want) {
		t.Fatalf("reserved %v after the restart, want %v", got, want)
	}

	failing := &reservations{fail: errors.New("disk full")}
	clk := clock.NewFrozen(testenv.T0)
	st := store.New(clk)
	s := service(t, st, clk, lifecycle.Config{}, failing, 0)
	if _, err := s.Invite(testenv.DemoID, lifecycle.Invitation{JobID: testenv.EngineerJob, CallbackURL: testenv.CallbackURL}); err == nil {
		t.Fatal("an id was issued without its reservation")
	}
	if st.Count() != 0 {
		t.Fatal("an application was created without a reserved id")
	}
}

func TestResumeSchedulesAutomaticCompletions(t *testing.T) {
	clk := clock.NewFrozen(testenv.T0)
	app := func(ref string, st store.Status, created time.Duration) store.Application {
		return store.Application{
			ReferenceID: ref, ClientID: testenv.DemoID, JobID: testenv.EngineerJob, CallbackURL: testenv.CallbackURL,
			Status: st, CreatedAt: testenv.T0.Add(created), InvitationExpiresAt: testenv.T0.Add(created + lifecycle.DefaultInvitationTTL),
		}
	}
	st := store.Open(clk, nil, store.Snapshot{Applications: []store.Application{
		app("overdue", store.Invited, -15*time.Minute),
		app("started", store.Started, -5*time.Minute),
		app("fresh", store.Invited, 0),
		app("done", store.Hired, -time.Hour),
	}})
	s := service(t, st, clk, lifecycle.Config{AutoCompleteAfter: 10 * time.Minute}, nil, 0)
	settle := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Settled(ctx); err != nil {
			t.Fatal(err)
		}
	}
	completed := func() []string {
		var refs []string
		for _, a := range st.List("") {
			if a.Status == store.Completed {
				refs = append(refs, a.ReferenceID)
			}
		}
		return refs
	}
	settle()
	if got := completed(); len(got) != 0 {
		t.Fatalf("%v completed before Resume", got)
	}
	steps := []struct {
		advance time.Duration
		want    []string
	}{
		{0, []string{"overdue"}},
		{5*time.Minute - time.Second, []string{"overdue"}},
		{time.Second, []string{"overdue", "started"}},
		{5 * time.Minute, []string{"overdue", "started", "fresh"}},
	}
	s.Resume()
	for _, step := range steps {
		clk.Advance(step.advance)
		settle()
		if got := completed(); !slices.Equal(got, step.want) {
			t.Fatalf("at %v: completed %v, want %v", clk.Now().Sub(testenv.T0), got, step.want)
		}
	}
	if a, _ := st.Lookup("done"); a.Status != store.Hired {
		t.Fatalf("a hired application was touched: %s", a.Status)
	}
}
