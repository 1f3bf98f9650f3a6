package service

import (
	"slices"
	"time"

	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/store"
)

// Moment is a step of an application's timeline: the state it entered and when, on the mock's clock.
type Moment struct {
	Status domain.Status
	At     time.Time
}

// Timeline returns the states a has been through, oldest first: invited, started, completed,
// hired, and expired (its invitation lapsed unused) or anonymized.
func Timeline(a domain.Application) []Moment {
	ms := []Moment{{domain.Invited, a.CreatedAt}}
	add := func(st domain.Status, at time.Time) {
		if !at.IsZero() {
			ms = append(ms, Moment{st, at})
		}
	}
	add(domain.Started, a.StartedAt)
	add(domain.Completed, a.CompletedAt)
	if a.Hire != nil {
		add(domain.Hired, a.Hire.HiredAt)
	}
	if a.Status == domain.Expired {
		add(domain.Expired, a.InvitationExpiresAt)
	}
	add(domain.Anonymized, a.AnonymizedAt)
	slices.SortStableFunc(ms, func(x, y Moment) int { return x.At.Compare(y.At) })
	return ms
}

// Candidate is an application as the dashboard shows it to its client: the applicant, the job,
// the timeline and, once there are any, the results.
type Candidate struct {
	Application domain.Application
	Job         fixtures.Job
	Timeline    []Moment
	// Results are nil while the application has none (not completed, anonymized); Why says why.
	Results *results.Results
	Why     error
}

// Candidate returns clientID's application ref as its dashboard shows it, in locale; another
// client's is NotFound, like an unknown one. Its results are there when the lifecycle says they
// show (ResultsVisible).
func (s *Service) Candidate(clientID, ref, locale string) (Candidate, error) {
	app, err := s.store.Get(clientID, ref)
	if err != nil {
		return Candidate{}, err
	}
	c := Candidate{Application: app, Job: s.Job(app), Timeline: Timeline(app)}
	switch {
	case s.lc.ResultsVisible(app, domain.OpResults) == nil:
		r := s.Render(app, locale)
		c.Results = &r
	case app.Status == domain.Anonymized:
		c.Why = ErrAnonymized
	default:
		c.Why = ErrNotFinished
	}
	return c, nil
}

// Candidates returns clientID's applications, newest first, as its dashboard lists them.
func (s *Service) Candidates(clientID string) []domain.Application {
	apps := s.store.List(store.Filter{ClientID: clientID})
	slices.Reverse(apps)
	return apps
}
