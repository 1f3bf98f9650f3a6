package store_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/store"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const week = 7 * 24 * time.Hour

func newStore() (*store.Store, *clock.Virtual) {
	c := clock.NewFrozen(t0)
	return store.New(c), c
}

func create(s *store.Store, ref, client string) store.Application {
	a, err := s.Create(store.Application{ReferenceID: ref, ClientID: client, Applicant: store.Applicant{Email: "a@example.com"}}, week,
		&store.Email{ClientID: client, ReferenceID: ref, To: "a@example.com"})
	if err != nil {
		panic(err) // an in-memory store never fails a write
	}
	return a
}

func TestTransitions(t *testing.T) {
	tests := map[string]struct {
		steps []string // a step ending in "!" must fail with 409
		want  store.Status
	}{
		"invited → started → completed → hired": {[]string{"start", "complete", "hire"}, store.Hired},
		"complete straight from invited":        {[]string{"complete"}, store.Completed},
		"hire before completion":                {[]string{"start", "hire!"}, store.Started},
		"hire twice":                            {[]string{"complete", "hire", "hire!"}, store.Hired},
		"anonymize from invited":                {[]string{"anonymize"}, store.Anonymized},
		"anonymize from hired":                  {[]string{"complete", "hire", "anonymize"}, store.Anonymized},
		"anonymize twice is fine":               {[]string{"anonymize", "anonymize"}, store.Anonymized},
		"complete after anonymize":              {[]string{"anonymize", "complete!"}, store.Anonymized},
		"start twice is fine":                   {[]string{"start", "start"}, store.Started},
		"start after completion":                {[]string{"complete", "start!"}, store.Completed},
		"expired invitation cannot start":       {[]string{"expire", "start!"}, store.Expired},
		"expired invitation cannot complete":    {[]string{"expire", "complete!"}, store.Expired},
		"expire after completion":               {[]string{"complete", "expire!"}, store.Completed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, _ := newStore()
			create(s, "r", "c")
			for _, st := range tc.steps {
				st, mustFail := strings.CutSuffix(st, "!")
				var err error
				switch st {
				case "start":
					_, err = s.Start("r")
				case "complete":
					_, err = s.Complete("r", map[string]int{"x": 3})
				case "hire":
					_, err = s.Hire("c", "r", store.Hire{AddToTeam: true})
				case "anonymize":
					_, err = s.Anonymize("c", "r")
				case "expire":
					_, err = s.ExpireInvitation("r")
				}
				if mustFail {
					if !apierr.Is(err, apierr.Conflict) {
						t.Fatalf("%s: error %v, want a 409", st, err)
					}
				} else if err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			a, _ := s.Get("c", "r")
			if a.Status != tc.want {
				t.Fatalf("status = %s, want %s", a.Status, tc.want)
			}
		})
	}
}

func TestInvitationExpiresOnTheClock(t *testing.T) {
	s, c := newStore()
	create(s, "r", "c")
	c.Advance(week - time.Second)
	if a, _ := s.Get("c", "r"); a.Status != store.Invited {
		t.Fatalf("status a second before a week = %s", a.Status)
	}
	c.Advance(time.Second)
	if a, _ := s.Get("c", "r"); a.Status != store.Expired {
		t.Fatalf("status at a week = %s", a.Status)
	}
}

func TestTenantIsolationAndCopies(t *testing.T) {
	s, _ := newStore()
	create(s, "r", "c")
	if _, err := s.Get("other", "r"); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("another client's Get = %v", err)
	}
	if _, err := s.Hire("other", "r", store.Hire{}); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("another client's Hire = %v", err)
	}
	s.Complete("r", map[string]int{"x": 3})
	a, _ := s.Get("c", "r")
	a.Scores["x"] = 5 // a copy: the store must not change
	if b, _ := s.Get("c", "r"); b.Scores["x"] != 3 {
		t.Fatal("a caller changed the store through a returned value")
	}
}

func TestEventsAfterEachTransition(t *testing.T) {
	s, _ := newStore()
	var got []store.EventType
	s.Subscribe(func(e store.Event) { got = append(got, e.Type) })
	create(s, "r", "c")
	s.Start("r")
	s.Start("r") // no event: nothing changed
	s.Complete("r", nil)
	s.Hire("c", "r", store.Hire{})
	s.Anonymize("c", "r")
	s.Anonymize("c", "r")
	want := []store.EventType{store.EventCreated, store.EventStarted, store.EventCompleted, store.EventHired, store.EventAnonymized}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
}

func TestConcurrentUse(t *testing.T) {
	s, _ := newStore()
	var events sync.Map
	s.Subscribe(func(e store.Event) { events.Store(string(e.Type)+e.Application.ReferenceID, true) })
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ref := fmt.Sprintf("r%d", i)
			create(s, ref, "c")
			s.Complete(ref, map[string]int{"x": 1})
			s.Get("c", ref)
			s.List("")
			s.Outbox("c")
		}(i)
	}
	wg.Wait()
	if got := s.Count(); got != 50 {
		t.Fatalf("count = %d, want 50", got)
	}
	if got := len(s.List("c")); got != 50 {
		t.Fatalf("listed %d", got)
	}
	for i := 0; i < 50; i++ {
		if _, ok := events.Load(fmt.Sprintf("%sr%d", store.EventCompleted, i)); !ok {
			t.Fatalf("no completion event for r%d", i)
		}
	}
}

func TestTokenGenerationsAndReset(t *testing.T) {
	s, _ := newStore()
	s.InvalidateTokens("revoked", "a")
	if g := s.TokenGeneration("a"); g.Gen != 1 || g.Reason != "revoked" {
		t.Fatalf("generation = %+v", g)
	}
	if g := s.TokenGeneration("b"); g.Gen != 0 {
		t.Fatalf("b's generation moved: %+v", g)
	}
	create(s, "r", "a")
	s.Reset()
	if s.Count() != 0 || len(s.Outbox("")) != 0 || s.TokenGeneration("a").Gen != 0 {
		t.Fatal("reset left state behind")
	}
}

// recorder is a Persistence keeping every change, failing when told to.
type recorder struct {
	mu      sync.Mutex
	changes []store.Change
	fail    error
}

func (r *recorder) WriteStore(c store.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.changes = append(r.changes, c)
	return nil
}

func (r *recorder) last() store.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changes[len(r.changes)-1]
}

func TestWriteThrough(t *testing.T) {
	tests := map[string]struct {
		do    func(s *store.Store) error
		check func(t *testing.T, c store.Change)
	}{
		"create writes the application and its email": {
			func(s *store.Store) error { create(s, "r2", "c"); return nil },
			func(t *testing.T, c store.Change) {
				if !c.Created || c.Application.ReferenceID != "r2" || c.Application.Status != store.Invited || c.Email == nil || !c.Email.SentAt.Equal(t0) {
					t.Fatalf("change = %+v", c)
				}
			},
		},
		"a transition writes the application as stored": {
			func(s *store.Store) error { _, err := s.Complete("r", map[string]int{"x": 4}); return err },
			func(t *testing.T, c store.Change) {
				if c.Created || c.Email != nil || c.Application.Status != store.Completed || c.Application.Scores["x"] != 4 {
					t.Fatalf("change = %+v", c)
				}
			},
		},
		"expiring an invitation is a change without an event": {
			func(s *store.Store) error { _, err := s.ExpireInvitation("r"); return err },
			func(t *testing.T, c store.Change) {
				// Stored as invited with its link lapsed now: the clock makes it expired when read.
				if c.Application.Status != store.Invited || !c.Application.InvitationExpiresAt.Equal(t0) {
					t.Fatalf("change = %+v", c)
				}
			},
		},
		"token generations": {
			func(s *store.Store) error { return s.InvalidateTokens("revoked", "c", "d") },
			func(t *testing.T, c store.Change) {
				if c.Application != nil || c.Tokens["c"] != (store.TokenGeneration{Gen: 1, Reason: "revoked"}) || c.Tokens["d"].Gen != 1 {
					t.Fatalf("change = %+v", c)
				}
			},
		},
		"reset": {
			func(s *store.Store) error { return s.Reset() },
			func(t *testing.T, c store.Change) {
				if !c.Reset || c.Application != nil {
					t.Fatalf("change = %+v", c)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			s := store.Open(clock.NewFrozen(t0), rec, store.Snapshot{Rev: 10})
			create(s, "r", "c")
			if err := tc.do(s); err != nil {
				t.Fatal(err)
			}
			if got := len(rec.changes); got != 2 {
				t.Fatalf("%d changes written, want 2", got)
			}
			if got, want := rec.changes[0].Rev, uint64(11); got != want {
				t.Fatalf("first change after a snapshot at revision 10 has revision %d", got)
			}
			c := rec.last()
			if c.Rev != 12 {
				t.Fatalf("second change has revision %d, want 12", c.Rev)
			}
			tc.check(t, c)
		})
	}
}

func TestFailedWriteIsReturned(t *testing.T) {
	rec := &recorder{fail: fmt.Errorf("disk full")}
	s := store.Open(clock.NewFrozen(t0), rec, store.Snapshot{})
	var events int
	s.Subscribe(func(store.Event) { events++ })
	if _, err := s.Create(store.Application{ReferenceID: "r", ClientID: "c"}, week, nil); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Create = %v", err)
	}
	if _, err := s.Complete("r", nil); err == nil {
		t.Fatal("Complete hid a failed write")
	}
	if err := s.InvalidateTokens("expired", "c"); err == nil {
		t.Fatal("InvalidateTokens hid a failed write")
	}
	if err := s.Reset(); err == nil {
		t.Fatal("Reset hid a failed write")
	}
	if events != 2 {
		t.Fatalf("%d events; the changes stay in memory, so their events still go out", events)
	}
	if _, err := s.Start("nope"); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("a refused transition = %v", err) // nothing written, the store's own error
	}
}

func TestOpenRestoresASnapshot(t *testing.T) {
	c := clock.NewFrozen(t0)
	snap := store.Snapshot{
		Applications: []store.Application{
			{ReferenceID: "b", ClientID: "c", Status: store.Completed, Scores: map[string]int{"x": 2}, InvitationExpiresAt: t0.Add(week)},
			{ReferenceID: "a", ClientID: "c", Status: store.Invited, InvitationExpiresAt: t0.Add(time.Hour)},
		},
		Outbox: []store.Email{{ClientID: "c", ReferenceID: "a", To: "a@example.com"}},
		Tokens: map[string]store.TokenGeneration{"c": {Gen: 3, Reason: "revoked"}},
		Rev:    5,
	}
	s := store.Open(c, &recorder{}, snap)
	snap.Applications[0].Scores["x"] = 5 // the store holds its own copies
	var refs []string
	for _, a := range s.List("") {
		refs = append(refs, a.ReferenceID)
	}
	if got, want := strings.Join(refs, ","), "b,a"; got != want {
		t.Fatalf("order = %s, want %s (creation order)", got, want)
	}
	if a, _ := s.Get("c", "b"); a.Scores["x"] != 2 {
		t.Fatalf("restored scores = %v", a.Scores)
	}
	if g := s.TokenGeneration("c"); g.Gen != 3 || g.Reason != "revoked" {
		t.Fatalf("generation = %+v", g)
	}
	if len(s.Outbox("c")) != 1 {
		t.Fatal("outbox not restored")
	}
	c.Advance(time.Hour)
	if a, _ := s.Get("c", "a"); a.Status != store.Expired {
		t.Fatalf("a restored invitation lapses on the clock: %s", a.Status)
	}
}
