package service

import (
	"slices"
	"time"

	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/store"
)

// Moment is a step of an application's timeline: the state it entered and when, on the mock's clock.
type Moment struct {
	Status store.Status
	At     time.Time
}

// Timeline returns the states a has been through, oldest first: invited, started, completed,
// hired, and expired (its invitation lapsed unused) or anonymized.
func Timeline(a store.Application) []Moment {
	ms := []Moment{{store.Invited, a.CreatedAt}}
	add := func(st store.Status, at time.Time) {
		if !at.IsZero() {
			ms = append(ms, Moment{st, at})
		}
	}
	add(store.Started, a.StartedAt)
	add(store.Completed, a.CompletedAt)
	if a.Hire != nil {
		add(store.Hired, a.Hire.HiredAt)
	}
	if a.Status == store.Expired {
		add(store.Expired, a.InvitationExpiresAt)
	}
	add(store.Anonymized, a.AnonymizedAt)
	slices.SortStableFunc(ms, func(x, y Moment) int { return x.At.Compare(y.At) })
	return ms
}

// Candidate is an application as the dashboard shows it to its client: the applicant, the job,
// the timeline and, once there are any, the results.
type Candidate struct {
	Application store.Application
	Job         fixtures.Job
	Timeline    []Moment
	// Results are nil while the application has none (not completed, anonymized); Why says why.
	Results *results.Results
	Why     error
}

// Candidate returns clientID's application ref as its dashboard shows it, in locale; another
// client's is NotFound, like an unknown one.
func (s *Service) Candidate(clientID, ref, locale string) (Candidate, error) {
	app, err := s.deps.Store.Get(clientID, ref)
	if err != nil {
		return Candidate{}, err
	}
	c := Candidate{Application: app, Job: s.job(app), Timeline: Timeline(app)}
	switch app.Status {
	case store.Completed, store.Hired:
		r := s.Render(app, locale)
		c.Results = &r
	case store.Anonymized:
		c.Why = ErrAnonymized
	default:
		c.Why = ErrNotFinished
	}
	return c, nil
}

// Candidates returns clientID's applications, newest first, as its dashboard lists them.
func (s *Service) Candidates(clientID string) []store.Application {
	apps := s.deps.Store.List(clientID)
	slices.Reverse(apps)
	return apps
}

// Job returns the job of application a.
func (s *Service) Job(a store.Application) fixtures.Job { return s.job(a) }
