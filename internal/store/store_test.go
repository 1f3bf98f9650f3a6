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
	return s.Create(store.Application{ReferenceID: ref, ClientID: client, Applicant: store.Applicant{Email: "a@example.com"}}, week,
		&store.Email{ClientID: client, ReferenceID: ref, To: "a@example.com"})
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
