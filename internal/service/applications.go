package service

import (
	"errors"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/store"
)

// Application is an application as the APIs show it: the domain's, with its assessment link
// (rebuilt from it, not kept).
type Application struct {
	domain.Application
	AssessmentURL string `json:"assessment_url"`
}

// View returns a as the APIs show it, with its assessment link.
func (s *Service) View(a domain.Application) Application {
	return Application{Application: a, AssessmentURL: s.AssessmentURL(a)}
}

// Invitation is what an ATS sends to invite an applicant.
type Invitation struct {
	JobID          string
	CallbackURL    string
	InvitationType string // domain.InviteEmail (default) or domain.InviteOneTimeLink
	Applicant      domain.Applicant
}

// Invite creates clientID's application for a published job of theirs: an invitation link on the
// clock (by email, the outbox shows it), and an automatic completion when the mock or the job asks
// for one. The answer carries the link.
func (s *Service) Invite(clientID string, in Invitation) (Application, error) {
	client, ok := s.deps.Fixtures.Client(clientID)
	if !ok {
		return Application{}, apierr.New(apierr.NotFound, "No client %q", clientID)
	}
	job, err := s.checkInvitation(clientID, in)
	if err != nil {
		return Application{}, err
	}
	invitation := domain.InviteEmail
	if in.InvitationType == domain.InviteOneTimeLink {
		invitation = domain.InviteOneTimeLink
	}
	app, err := s.store.Create(domain.Application{
		ClientID:       client.ID,
		JobID:          job.ID,
		CallbackURL:    in.CallbackURL,
		InvitationType: invitation,
		Applicant:      in.Applicant,
	}, s.cfg.InvitationTTL)
	if err != nil {
		return Application{}, err
	}
	if after := s.autoCompleteAfter(job); after > 0 {
		s.scheduleCompletion(app.ReferenceID, app.CreatedAt.Add(after))
	}
	return s.View(app), nil
}

// CheckInvitation returns the 422 Invite would answer for in's job and callback URL: a job_id
// that is none of clientID's published jobs, a callback_url the mock does not deliver to (package
// egress: the mock itself, a host the allow-list does not list); both named when both are wrong.
// The vendor API runs it beside the contract's validation, so that one answer names every problem
// of a request.
func (s *Service) CheckInvitation(clientID string, in Invitation) error {
	_, err := s.checkInvitation(clientID, in)
	return err
}

// checkInvitation is CheckInvitation, returning the job.
func (s *Service) checkInvitation(clientID string, in Invitation) (fixtures.Job, error) {
	job, jobErr := s.applicableJob(clientID, in.JobID)
	var hostErr error
	if err := s.egress.CheckURL(in.CallbackURL); err != nil {
		hostErr = apierr.Field("callback_url", err.Error())
	}
	return job, apierr.Join(jobErr, hostErr)
}

// autoCompleteAfter is how long after creation job's applications complete themselves (0: never).
func (s *Service) autoCompleteAfter(job fixtures.Job) time.Duration {
	if job.AutoCompleteAfter > 0 {
		return time.Duration(job.AutoCompleteAfter)
	}
	return s.cfg.AutoCompleteAfter
}

// scheduleCompletion completes ref at t as if the applicant had finished, unless something else
// moved it on by then.
func (s *Service) scheduleCompletion(ref string, t time.Time) {
	s.queue.At(t, func() {
		_, err := s.Complete(ref, Completion{})
		var se *domain.StateError
		if err != nil && !errors.As(err, &se) && !apierr.Is(err, apierr.NotFound) {
			s.deps.Logger.Warn("auto-completion failed", "reference_id", ref, "err", err)
		}
	})
}

// applicableJob returns clientID's published job jobID, or a 422 on job_id.
func (s *Service) applicableJob(clientID, jobID string) (fixtures.Job, error) {
	job, ok := s.deps.Fixtures.Job(clientID, jobID)
	if !ok {
		return fixtures.Job{}, apierr.Field("job_id", "does not exist")
	}
	if !job.IsPublished() {
		return fixtures.Job{}, apierr.Field("job_id", "is not published")
	}
	return job, nil
}

// Get returns clientID's application ref (another client's is NotFound, like an unknown one).
func (s *Service) Get(clientID, ref string) (domain.Application, error) {
	return s.store.Get(clientID, ref)
}

// Lookup returns application ref of any client (for the control API and pages).
func (s *Service) Lookup(ref string) (domain.Application, error) { return s.store.Lookup(ref) }

// Applications returns the applications f selects, in creation order.
func (s *Service) Applications(f store.Filter) []domain.Application { return s.store.List(f) }

// Count returns how many applications are stored.
func (s *Service) Count() int { return s.store.Count() }

// Start marks the applicant as having opened the assessment.
func (s *Service) Start(ref string) (domain.Application, error) {
	return s.store.Update("", ref, s.lc.Start)
}

// ExpireInvitation makes an unused invitation lapse now.
func (s *Service) ExpireInvitation(ref string) (domain.Application, error) {
	return s.store.Update("", ref, s.lc.ExpireInvitation)
}

// Completion says how an assessment ends: with scores reaching a fit, with chosen scores (traits
// left out are drawn), with the scores the answers to the mock assessment give (every trait
// answered), or, when all are empty, with drawn scores. Fit, scores and answers exclude each other.
type Completion struct {
	Fit     string
	Scores  map[string]int
	Answers map[string][]int // trait code → one answer (1..5) per statement of the questionnaire
}

// Complete completes the assessment of ref with the scores how gives; its events send
// assessment_started (when it was never opened), assessment_finished and the results callback.
func (s *Service) Complete(ref string, how Completion) (domain.Application, error) {
	switch {
	case how.Fit != "" && len(how.Scores) > 0:
		return domain.Application{}, apierr.Field("fit", "give either fit or scores, not both")
	case len(how.Answers) > 0 && (how.Fit != "" || len(how.Scores) > 0):
		return domain.Application{}, apierr.Field("answers", "give either answers or fit or scores")
	}
	app, err := s.store.Lookup(ref)
	if err != nil {
		return app, err
	}
	job := s.Job(app)
	var scores domain.Scores
	switch {
	case len(how.Answers) > 0:
		scores, err = s.results.ScoreAnswers(job, how.Answers)
	case how.Fit != "":
		scores, err = s.results.DrawForFit(ref, job, how.Fit)
	default:
		scores, err = s.results.DrawWith(ref, job, how.Scores)
	}
	if err != nil {
		return domain.Application{}, err
	}
	return s.store.Update("", ref, func(a *domain.Application, now time.Time) ([]domain.Event, error) {
		return s.lc.Complete(a, now, scores)
	})
}

// Hiring is what an ATS sends when it hires an applicant.
type Hiring struct {
	AddToTeam bool
	StartDate string
}

// Hire hires clientID's completed application ref, adding the applicant to the job's team when
// asked and the job has one.
func (s *Service) Hire(clientID, ref string, h Hiring) (domain.Application, error) {
	app, err := s.store.Get(clientID, ref)
	if err != nil {
		return app, err
	}
	hire := domain.Hire{AddToTeam: h.AddToTeam, StartDate: h.StartDate}
	if job := s.Job(app); h.AddToTeam && job.Team != "" {
		hire.AddedToTeam, hire.Team = true, job.Team
	}
	return s.store.Update(clientID, ref, func(a *domain.Application, now time.Time) ([]domain.Event, error) {
		return s.lc.Hire(a, now, hire)
	})
}

// Anonymize erases clientID's application ref's personal details and scores, from any state and
// idempotently, everywhere the mock kept them: the application (and so its invitation email and
// the payloads rendered from it), the request journal's entries about it or carrying the
// applicant's data. Its anonymization event cancels what is pending of it; nothing of it can be
// sent again.
func (s *Service) Anonymize(clientID, ref string) (domain.Application, error) {
	var before domain.Application // the applicant as created, to find in the journal
	app, err := s.store.Update(clientID, ref, func(a *domain.Application, now time.Time) ([]domain.Event, error) {
		before = *a
		return s.lc.Anonymize(a, now)
	})
	if err != nil {
		return app, err
	}
	who := journal.Subject{ReferenceID: ref, ClientID: clientID}
	if p := before.Applicant; before.Status != domain.Anonymized { // else only placeholders are left
		who.Email, who.FirstName, who.LastName = p.Email, p.FirstName, p.LastName
	}
	s.deps.Journal.Erase(who, ReasonAnonymized)
	return app, nil
}

// ReasonAnonymized is why what was kept of an anonymized application was erased.
const ReasonAnonymized = "anonymized"

// Job returns the job of application a (fixtures.Load and Invite guarantee it exists).
func (s *Service) Job(a domain.Application) fixtures.Job {
	job, _ := s.deps.Fixtures.Job(a.ClientID, a.JobID)
	return job
}

// Results returns clientID's application ref's results in locale, or why they cannot be shown.
func (s *Service) Results(clientID, ref, locale string) (results.Results, error) {
	app, err := s.store.Get(clientID, ref)
	if err == nil {
		err = s.lc.ResultsVisible(app, domain.OpResults)
	}
	if err != nil {
		return results.Results{}, err
	}
	return s.Render(app, locale), nil
}

// Render renders app's results in locale, with the dashboard link: what results answers and the
// callback PUTs.
func (s *Service) Render(app domain.Application, locale string) results.Results {
	loc := fixtures.Locale(locale)
	return s.results.Render(s.Job(app), app.Scores, loc, s.dashboardURL(loc, app.ReferenceID))
}

// Questionnaire returns the mock assessment of job in locale: a few statements per trait of its
// competency profile.
func (s *Service) Questionnaire(job fixtures.Job, locale string) []results.Section {
	return s.results.Questionnaire(job, locale)
}

// PublicLink is a link anyone can open to see an applicant's results, for a while.
type PublicLink struct {
	URL string
	TTL time.Duration
}

// PublicLink returns a public results link to clientID's completed application ref in locale.
func (s *Service) PublicLink(clientID, ref, locale string) (PublicLink, error) {
	app, err := s.store.Get(clientID, ref)
	if err == nil {
		err = s.lc.ResultsVisible(app, domain.OpPublicLink)
	}
	if err != nil {
		return PublicLink{}, err
	}
	u, err := s.publicResultsURL(app, fixtures.Locale(locale))
	if err != nil {
		return PublicLink{}, err
	}
	return PublicLink{URL: u, TTL: s.cfg.PublicLinkTTL}, nil
}
