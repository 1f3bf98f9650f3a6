package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/phxtoken"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/store"
)

// The links the mock hands out point at its own public base URL, in the real service's shapes:
//
//	assessment:     {public}/en/assessments/{assessment_id}/token/{token}     (1 week)
//	public results: {public}/{locale}/candidate_results/{ref}/summary?token=… (120 minutes)
//	dashboard:      {public}/dashboard/{locale}/candidates/{ref}              (login needed)
//
// Link tokens are Phoenix.Tokens like access tokens, with a purpose, so one cannot stand for another.

// linkData is what link tokens carry.
type linkData struct {
	ReferenceID string `json:"reference_id"`
	Purpose     string `json:"purpose"`
}

const (
	purposeAssessment = "assessment"
	purposePublic     = "public_results"
)

func (s *Service) signLink(ref, purpose string, ttl time.Duration) (string, error) {
	return s.deps.Links.Sign(linkData{ReferenceID: ref, Purpose: purpose}, s.deps.Clock.Now(), ttl)
}

func (s *Service) assessmentURL(job fixtures.Job, ref string) (string, error) {
	tok, err := s.signLink(ref, purposeAssessment, s.cfg.InvitationTTL)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/en/assessments/%d/token/%s", s.cfg.PublicURL, job.AssessmentID, tok), nil
}

func (s *Service) publicResultsURL(app store.Application, locale string) (string, error) {
	tok, err := s.signLink(app.ReferenceID, purposePublic, s.cfg.PublicLinkTTL)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/%s/candidate_results/%s/summary?token=%s",
		s.cfg.PublicURL, locale, url.PathEscape(app.ReferenceID), url.QueryEscape(tok)), nil
}

func (s *Service) dashboardURL(locale, ref string) string {
	return fmt.Sprintf("%s/dashboard/%s/candidates/%s", s.cfg.PublicURL, locale, url.PathEscape(ref))
}

// verifyLink checks a link token for purpose on the clock and returns the application it names:
// 404 for a token that is not ours, 410 for an expired link.
func (s *Service) verifyLink(tok, purpose string) (store.Application, error) {
	claims, err := s.deps.Links.Verify(tok, s.deps.Clock.Now())
	switch {
	case errors.Is(err, phxtoken.ErrExpired):
		return store.Application{}, apierr.New(apierr.Gone, "This link has expired")
	case err != nil:
		return store.Application{}, apierr.New(apierr.NotFound, "This link is not valid: %v", err)
	}
	var d linkData
	if err := json.Unmarshal(claims.Data, &d); err != nil || d.Purpose != purpose {
		return store.Application{}, apierr.New(apierr.NotFound, "This link is not valid")
	}
	return s.deps.Store.Lookup(d.ReferenceID)
}

// Assessment is an opened assessment link: the application and its job.
type Assessment struct {
	Application store.Application
	Job         fixtures.Job
}

// OpenAssessment is the applicant opening the invitation link tok: it starts the assessment of an
// invited application. A lapsed invitation is 410, a link that is not ours 404.
func (s *Service) OpenAssessment(tok string) (Assessment, error) {
	app, err := s.verifyLink(tok, purposeAssessment)
	if err == nil && app.Status == store.Expired {
		err = apierr.New(apierr.Gone, "This invitation has expired")
	}
	if err == nil && app.Status == store.Invited {
		app, err = s.deps.Store.Start(app.ReferenceID)
	}
	if err != nil {
		return Assessment{}, err
	}
	return Assessment{Application: app, Job: s.job(app)}, nil
}

// SubmitAssessment is the applicant finishing the assessment behind link tok: it completes the
// application with drawn scores, which sends the results callback.
func (s *Service) SubmitAssessment(tok string) (Assessment, error) {
	app, err := s.verifyLink(tok, purposeAssessment)
	if err == nil {
		app, err = s.Complete(app.ReferenceID, Completion{})
	}
	if err != nil {
		return Assessment{}, err
	}
	return Assessment{Application: app, Job: s.job(app)}, nil
}

// PublicResults is someone opening the public results link of ref with token tok: the results in
// locale while the link lasts (410 after) and the application still shows results (410 once it
// does not, 404 for a link that is not ours or not ref's).
func (s *Service) PublicResults(ref, tok, locale string) (results.Results, error) {
	app, err := s.verifyLink(tok, purposePublic)
	if err == nil && app.ReferenceID != ref {
		err = apierr.New(apierr.NotFound, "This link is not valid")
	}
	if err == nil {
		err = store.ResultsAvailable(app, "Results")
	}
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) && ae.Code == apierr.Conflict {
			err = apierr.New(apierr.Gone, "%s", ae.Detail)
		}
		return results.Results{}, err
	}
	return s.Render(app, locale), nil
}
