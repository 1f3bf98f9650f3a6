package store_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/persist"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/store"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const week = 7 * 24 * time.Hour

// publisher records what the store publishes, and appends the writes as the delivery sender does.
type publisher struct {
	db     *persist.DB
	mu     sync.Mutex
	events []domain.Event
	writes int
}

func (p *publisher) Publish(events []domain.Event, writes []persist.Write) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, events...)
	p.writes += len(writes)
	return p.db.Append(writes...)
}

func (p *publisher) types() []domain.EventType {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []domain.EventType
	for _, e := range p.events {
		out = append(out, e.Type)
	}
	return out
}

// lc is the lifecycle the embedded contracts state.
var lc = func() *domain.Lifecycle {
	l, err := spec.EmbeddedLifecycle()
	if err != nil {
		panic(err)
	}
	return l
}()

func open(t *testing.T, c clock.Clock, db *persist.DB, pub store.Publisher) *store.Store {
	t.Helper()
	deps := store.Deps{Clock: c, Lifecycle: lc, DB: db, Seed: 1}
	if pub != nil {
		deps.Publisher = pub
	}
	s, err := store.Open(deps)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newStore(t *testing.T) (*store.Store, *clock.Virtual, *publisher) {
	c := clock.NewFrozen(t0)
	p := &publisher{}
	return open(t, c, nil, p), c, p
}

func create(t *testing.T, s *store.Store, client string) domain.Application {
	t.Helper()
	a, err := s.Create(domain.Application{ClientID: client, Applicant: domain.Applicant{Email: "a@example.com"}}, week)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCreateInvites(t *testing.T) {
	s, c, _ := newStore(t)
	a := create(t, s, "c")
	if a.Status != domain.Invited || !a.CreatedAt.Equal(t0) || !a.InvitationExpiresAt.Equal(t0.Add(week)) || len(a.ReferenceID) != 36 {
		t.Fatalf("created %+v", a)
	}
	c.Advance(week)
	if got, _ := s.Get("c", a.ReferenceID); got.Status != domain.Expired {
		t.Fatalf("read a week later: %s, want the invitation lapsed", got.Status)
	}
}

// The store reads statuses through the lifecycle it is given: with rules under which only an
// unopened invitation lapses, a started assessment past the expiry stays started, in reads and
// in filters.
func TestStatusesFollowTheLifecycleGiven(t *testing.T) {
	r := lc.Rules()
	r.Lapse = []domain.Status{domain.Invited}
	r.Moves[domain.ActExpire] = domain.Move{From: []domain.Status{domain.Invited, domain.Expired}, To: domain.Expired}
	only, err := domain.NewLifecycle(r)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		lc   *domain.Lifecycle
		want domain.Status
	}{"the contracts'": {lc, domain.Expired}, "only invitations lapse": {only, domain.Started}} {
		t.Run(name, func(t *testing.T) {
			c := clock.NewFrozen(t0)
			s, err := store.Open(store.Deps{Clock: c, Lifecycle: tc.lc, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			a := create(t, s, "c")
			if _, err := s.Update("", a.ReferenceID, tc.lc.Start); err != nil {
				t.Fatal(err)
			}
			c.Advance(2 * week)
			if got, _ := s.Get("c", a.ReferenceID); got.Status != tc.want {
				t.Fatalf("read: %s, want %s", got.Status, tc.want)
			}
			if got := s.List(store.Filter{Status: tc.want}); len(got) != 1 || got[0].Status != tc.want {
				t.Fatalf("filtered by %s: %+v", tc.want, got)
			}
		})
	}
}

func TestUpdateRunsATransitionUnderTheLock(t *testing.T) {
	s, c, p := newStore(t)
	a := create(t, s, "c")
	c.Advance(time.Minute)
	got, err := s.Update("c", a.ReferenceID, lc.Start)
	if err != nil || got.Status != domain.Started || !got.StartedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Update = %+v, %v", got, err)
	}
	// A transition the state refuses changes nothing and says why.
	_, err = s.Update("", a.ReferenceID, func(a *domain.Application, now time.Time) ([]domain.Event, error) {
		a.Applicant.FirstName = "changed before refusing"
		return lc.Hire(a, now, domain.Hire{})
	})
	var se *domain.StateError
	if !errors.As(err, &se) || se.Status != domain.Started || !apierr.Is(err, apierr.Conflict) {
		t.Fatalf("a refused hire = %v", err)
	}
	if got, _ := s.Lookup(a.ReferenceID); got.Applicant.FirstName != "" {
		t.Fatal("a refused change was kept")
	}
	if fmt.Sprint(p.types()) != "[application_created assessment_started]" {
		t.Fatalf("events %v", p.types())
	}
}

func TestTenantIsolationAndCopies(t *testing.T) {
	s, _, _ := newStore(t)
	a := create(t, s, "c")
	if _, err := s.Get("other", a.ReferenceID); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("another client's Get = %v", err)
	}
	if _, err := s.Update("other", a.ReferenceID, lc.Start); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("another client's Update = %v", err)
	}
	got, _ := s.Update("", a.ReferenceID, func(a *domain.Application, now time.Time) ([]domain.Event, error) {
		return lc.Complete(a, now, domain.Scores{{Trait: "x", Value: 3}})
	})
	got.Applicant.Email = "changed@example.com" // a copy: the store must not change
	if b, _ := s.Get("c", a.ReferenceID); b.Applicant.Email != "a@example.com" {
		t.Fatal("a caller changed the store through a returned value")
	}
}

// Events are numbered under the store's lock in the order the changes were made, and carry the
// application as the change left it.
func TestEventsAreNumberedInOrder(t *testing.T) {
	s, _, p := newStore(t)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			a := create(t, s, "c")
			_, _ = s.Update("", a.ReferenceID, func(a *domain.Application, now time.Time) ([]domain.Event, error) {
				return lc.Complete(a, now, nil)
			})
			_, _ = s.Update("", a.ReferenceID, lc.Anonymize)
			_, _ = s.Update("", a.ReferenceID, lc.Anonymize) // nothing changes: no event
		})
	}
	wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.events) != 50*4 {
		t.Fatalf("%d events, want 200", len(p.events))
	}
	last := map[string]domain.EventType{}
	for i, e := range p.events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has number %d: published out of order", i, e.Seq)
		}
		ref := e.Application.ReferenceID
		want := map[domain.EventType]domain.EventType{
			domain.EventCreated: "", domain.EventStarted: domain.EventCreated,
			domain.EventFinished: domain.EventStarted, domain.EventAnonymized: domain.EventFinished,
		}[e.Type]
		if last[ref] != want {
			t.Fatalf("%s of %s came after %q", e.Type, ref, last[ref])
		}
		last[ref] = e.Type
		if e.Type == domain.EventFinished && e.Application.Status != domain.Completed {
			t.Fatalf("assessment_finished carries the application %s", e.Application.Status)
		}
	}
}

func TestListAndCount(t *testing.T) {
	s, c, _ := newStore(t)
	var refs []string
	for i := range 5 {
		client := "c"
		if i == 3 {
			client = "d"
		}
		refs = append(refs, create(t, s, client).ReferenceID)
	}
	_, _ = s.Update("", refs[1], lc.Start)
	c.Advance(week)
	_, _ = s.Update("", refs[2], func(a *domain.Application, now time.Time) ([]domain.Event, error) { return nil, nil })
	tests := map[string]struct {
		f    store.Filter
		want []string
	}{
		"all, in creation order": {store.Filter{}, refs},
		"one client":             {store.Filter{ClientID: "d"}, refs[3:4]},
		"one application":        {store.Filter{ReferenceID: refs[4]}, refs[4:]},
		"by status as seen now":  {store.Filter{Status: domain.Expired}, refs},
		"by email, any case":     {store.Filter{Email: "A@Example.com", ClientID: "d"}, refs[3:4]},
		"nothing":                {store.Filter{ReferenceID: "nope"}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, a := range s.List(tc.f) {
				got = append(got, a.ReferenceID)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if s.Count() != 5 {
		t.Fatalf("count %d", s.Count())
	}
}

func TestTokenGenerationsAndReset(t *testing.T) {
	s, _, _ := newStore(t)
	if err := s.InvalidateTokens("revoked", "a"); err != nil {
		t.Fatal(err)
	}
	if g := s.TokenGeneration("a"); g.Gen != 1 || g.Reason != "revoked" {
		t.Fatalf("generation = %+v", g)
	}
	if g := s.TokenGeneration("b"); g.Gen != 0 {
		t.Fatalf("b's generation moved: %+v", g)
	}
	before := create(t, s, "a")
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if s.Count() != 0 || s.TokenGeneration("a").Gen != 0 {
		t.Fatal("reset left state behind")
	}
	if after := create(t, s, "a"); after.ReferenceID == before.ReferenceID {
		t.Fatal("a reference id was given again after a reset")
	}
}

func openDB(t *testing.T, dir string) *persist.DB {
	t.Helper()
	db, err := persist.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// The store reads back what it wrote: the applications in creation order, as the last change
// left them, the token generations, and how many reference ids were given (none comes again).
func TestRestoredAfterARestart(t *testing.T) {
	dir := t.TempDir()
	c := clock.NewFrozen(t0)
	db := openDB(t, dir)
	s := open(t, c, db, nil)
	var wg sync.WaitGroup
	for range 8 { // together: their writes share commits
		wg.Go(func() {
			for range 1100 / 8 {
				create(t, s, "c")
			}
		})
	}
	wg.Wait()
	var refs []string // more than a block of the store's, in creation order
	for _, a := range s.List(store.Filter{}) {
		refs = append(refs, a.ReferenceID)
	}
	if _, err := s.Update("", refs[7], func(a *domain.Application, now time.Time) ([]domain.Event, error) {
		return lc.Complete(a, now, domain.NewScores(map[string]int{"x": 2}))
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.InvalidateTokens("revoked", "c"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, dir)
	t.Cleanup(func() { _ = db.Close() })
	s = open(t, c, db, nil)
	var got []string
	for _, a := range s.List(store.Filter{}) {
		got = append(got, a.ReferenceID)
	}
	if !slices.Equal(got, refs) {
		t.Fatal("the restored applications are not the ones created, in creation order")
	}
	if a, _ := s.Lookup(refs[7]); a.Status != domain.Completed || fmt.Sprint(a.Scores) != "[{x 2}]" {
		t.Fatalf("restored %+v", a)
	}
	if g := s.TokenGeneration("c"); g.Gen != 1 || g.Reason != "revoked" {
		t.Fatalf("generation = %+v", g)
	}
	next := create(t, s, "c").ReferenceID
	if slices.Contains(refs, next) {
		t.Fatal("a reference id given before the restart was given again")
	}
	// The same seed in memory: the restarted store went on with the seed's sequence.
	fresh := open(t, clock.NewFrozen(t0), nil, nil)
	for range len(refs) {
		create(t, fresh, "c")
	}
	if want := create(t, fresh, "c").ReferenceID; next != want {
		t.Fatalf("after the restart: %s, want the seed's next id %s", next, want)
	}
	c.Advance(week)
	if a, _ := s.Lookup(refs[0]); a.Status != domain.Expired {
		t.Fatalf("a restored invitation lapses on the clock: %s", a.Status)
	}
}

// A write the data file refuses is returned; it stops the file, so no later change reaches the
// disk without it.
func TestFailedWriteIsReturned(t *testing.T) {
	db := openDB(t, t.TempDir())
	t.Cleanup(func() { _ = db.Close() })
	s := open(t, clock.NewFrozen(t0), db, nil)
	a := create(t, s, "c")
	huge := strings.Repeat("x", 40<<10) // over bbolt's key size
	if err := s.InvalidateTokens("revoked", huge); err == nil || !strings.Contains(err.Error(), "key too large") {
		t.Fatalf("InvalidateTokens = %v", err)
	}
	if _, err := s.Update("", a.ReferenceID, lc.Start); err == nil {
		t.Fatal("a change after the failure was acknowledged")
	}
	if _, err := s.Update("", "nope", lc.Start); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("a refused change = %v", err) // nothing written: the store's own error
	}
}

func TestRecordsAreJSON(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	s := open(t, clock.NewFrozen(t0), db, nil)
	a := create(t, s, "c")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir)
	defer db.Close()
	v, err := db.Get(persist.Applications, a.ReferenceID)
	if err != nil {
		t.Fatal(err)
	}
	var back domain.Application
	if err := json.Unmarshal(v, &back); err != nil || back.ReferenceID != a.ReferenceID || strings.Contains(string(v), "assessment_url") {
		t.Fatalf("record %s: %v", v, err)
	}
}

// Event numbers go on after a restart (an event's id is drawn from its number).
func TestEventNumbersGoOnAfterARestart(t *testing.T) {
	dir := t.TempDir()
	for want := uint64(1); want <= 2; want++ {
		db := openDB(t, dir)
		p := &publisher{db: db}
		create(t, open(t, clock.NewFrozen(t0), db, p), "c")
		if got := p.events[0].Seq; got != want {
			t.Fatalf("start %d: the creation is event %d, want %d", want, got, want)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
