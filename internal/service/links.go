package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/results"
)

// The links the mock hands out point at its own public base URL, in the real service's shapes:
//
//	assessment:     {public}/en/assessments/{assessment_id}/token/{token}     (1 week)
//	public results: {public}/{locale}/candidate_results/{ref}/summary?token=… (120 minutes)
//	dashboard:      {public}/dashboard/{locale}/candidates/{ref}              (login needed)
//
// Link tokens are Phoenix.Tokens like access tokens, with a purpose, so one cannot stand for another.
// An assessment link is not kept: it is signed again, the same, from the application (its
// reference id and creation time, the invitation lifetime), wherever it is shown.

// linkData is what link tokens carry.
type linkData struct {
	ReferenceID string `json:"reference_id"`
	Purpose     string `json:"purpose"`
}

const (
	purposeAssessment = "assessment"
	purposePublic     = "public_results"
)

func (s *Service) signLink(ref, purpose string, at time.Time, ttl time.Duration) (string, error) {
	return s.deps.Links.Sign(linkData{ReferenceID: ref, Purpose: purpose}, at, ttl)
}

// AssessmentURL is app's invitation link: signed at its creation, valid for the invitation's
// lifetime ("" when it cannot be signed, which a string and a time always can).
func (s *Service) AssessmentURL(app domain.Application) string {
	tok, err := s.signLink(app.ReferenceID, purposeAssessment, app.CreatedAt, s.cfg.InvitationTTL)
	if err != nil {
		s.deps.Logger.Error("sign an assessment link", "reference_id", app.ReferenceID, "err", err)
		return ""
	}
	return fmt.Sprintf("%s/en/assessments/%d/token/%s", s.cfg.PublicURL, s.Job(app).AssessmentID, tok)
}

func (s *Service) publicResultsURL(app domain.Application, locale string) (string, error) {
	tok, err := s.signLink(app.ReferenceID, purposePublic, s.deps.Clock.Now(), s.cfg.PublicLinkTTL)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/%s/candidate_results/%s/summary?token=%s",
		s.cfg.PublicURL, locale, url.PathEscape(app.ReferenceID), url.QueryEscape(tok)), nil
}

func (s *Service) dashboardURL(locale, ref string) string {
	return fmt.Sprintf("%s/dashboard/%s/candidates/%s", s.cfg.PublicURL, locale, url.PathEscape(ref))
}

// Why a link cannot be used, beneath the apierr codes (404, 409, 410) the use cases return: pages
// say it in the reader's language (errors.Is).
var (
	ErrLinkInvalid = errors.New("the link is not valid")                         // not ours, forged, another application's: 404
	ErrLinkExpired = errors.New("the link has expired")                          // 410
	ErrLinkUsed    = errors.New("the assessment has already been completed")     // 410 to open, 409 to submit again
	ErrAnonymized  = errors.New("the application was anonymized")                // 410
	ErrNotFinished = errors.New("the application has no results: not completed") // 409 (dashboard)
)

func reason(code apierr.Code, why error, format string, args ...any) error {
	e := apierr.New(code, format, args...)
	e.Err = why
	return e
}

// verifyLink checks a link token for purpose on the clock and returns the application it names:
// 404 for a token that is not ours, 410 for an expired link.
func (s *Service) verifyLink(tok, purpose string) (domain.Application, error) {
	claims, err := s.deps.Links.Verify(tok, s.deps.Clock.Now())
	switch {
	case errors.Is(err, auth.ErrExpired):
		return domain.Application{}, reason(apierr.Gone, ErrLinkExpired, "This link has expired")
	case err != nil:
		return domain.Application{}, reason(apierr.NotFound, ErrLinkInvalid, "This link is not valid: %v", err)
	}
	var d linkData
	if err := json.Unmarshal(claims.Data, &d); err != nil || d.Purpose != purpose {
		return domain.Application{}, reason(apierr.NotFound, ErrLinkInvalid, "This link is not valid")
	}
	app, err := s.store.Lookup(d.ReferenceID)
	if err != nil {
		return app, reason(apierr.NotFound, ErrLinkInvalid, "This link is not valid: no such application")
	}
	return app, nil
}

// Assessment is an opened assessment link: the application, its job and the mock assessment.
type Assessment struct {
	Application domain.Application
	Job         fixtures.Job
}

// assessable says why app's assessment link cannot be used to take the assessment any more: it
// can while the lifecycle lets the application complete. A lapsed invitation or an anonymized
// application is gone (410); a used link (completed, hired) is gone to open and a conflict to
// submit again (used says which code).
func (s *Service) assessable(app domain.Application, used apierr.Code) error {
	switch {
	case s.lc.Can(app.Status, domain.ActComplete):
		return nil
	case app.Status == domain.Expired:
		return reason(apierr.Gone, ErrLinkExpired, "This invitation has expired")
	case app.Status == domain.Anonymized:
		return reason(apierr.Gone, ErrAnonymized, "This application was anonymized: the applicant's data has been removed")
	default:
		return reason(used, ErrLinkUsed, "The assessment cannot be taken again: the application is %s", app.Status)
	}
}

// OpenAssessment is the applicant opening the invitation link tok: it starts the assessment of an
// application the lifecycle lets start (invited). A lapsed invitation, a used link and an anonymized application are 410, a
// link that is not ours 404.
func (s *Service) OpenAssessment(tok string) (Assessment, error) {
	a, err := s.PeekAssessment(tok)
	if err == nil && s.lc.Can(a.Application.Status, domain.ActStart) {
		a.Application, err = s.Start(a.Application.ReferenceID)
	}
	if err != nil {
		return Assessment{}, err
	}
	return a, nil
}

// PeekAssessment is OpenAssessment without starting anything: what a link checker or a chat
// app's preview asking for the link (HEAD) learns — whether it can be taken, and its errors.
func (s *Service) PeekAssessment(tok string) (Assessment, error) {
	app, err := s.verifyLink(tok, purposeAssessment)
	if err == nil {
		err = s.assessable(app, apierr.Gone)
	}
	if err != nil {
		return Assessment{}, err
	}
	return Assessment{Application: app, Job: s.Job(app)}, nil
}

// FinishedAssessment returns the application behind assessment link tok once its assessment is
// done (the link used: completed or hired): what the thank-you page shows again, in another
// language, instead of saying the link was used. An unfinished one is a 409 (ErrNotFinished), an
// expired or anonymized one 410.
func (s *Service) FinishedAssessment(tok string) (Assessment, error) {
	app, err := s.verifyLink(tok, purposeAssessment)
	if err != nil {
		return Assessment{}, err
	}
	switch err := s.assessable(app, apierr.Gone); {
	case err == nil:
		return Assessment{}, reason(apierr.Conflict, ErrNotFinished, "The assessment has not been completed yet")
	case errors.Is(err, ErrLinkUsed):
		return Assessment{Application: app, Job: s.Job(app)}, nil
	default:
		return Assessment{}, err
	}
}

// SubmitAssessment is the applicant finishing the assessment behind link tok with answers (trait
// code → one answer per statement): it completes the application with the scores the answers
// give, which sends the results callback. No answers at all completes it with drawn scores (what
// scripts that only POST to the link get). Submitting twice is a 409; an expired or anonymized
// application is 410; answers that do not cover the questionnaire are a 422 naming each trait.
func (s *Service) SubmitAssessment(tok string, answers map[string][]int) (Assessment, error) {
	app, err := s.verifyLink(tok, purposeAssessment)
	if err == nil {
		err = s.assessable(app, apierr.Conflict)
	}
	if err == nil {
		app, err = s.Complete(app.ReferenceID, Completion{Answers: answers})
	}
	if err != nil {
		return Assessment{}, err
	}
	return Assessment{Application: app, Job: s.Job(app)}, nil
}

// PublicResults is someone opening the public results link of ref with token tok: the results in
// locale while the link lasts (410 after) and the application still shows results (410 once it
// does not, 404 for a link that is not ours or not ref's).
func (s *Service) PublicResults(ref, tok, locale string) (results.Results, error) {
	app, err := s.verifyLink(tok, purposePublic)
	if err == nil && app.ReferenceID != ref {
		err = reason(apierr.NotFound, ErrLinkInvalid, "This link is not valid")
	}
	if err == nil {
		if se := s.lc.ResultsVisible(app, domain.OpResults); se != nil {
			// A public link is only handed out once results exist: they can only have gone since.
			err = reason(apierr.Gone, ErrAnonymized, "%s", se.Error())
		}
	}
	if err != nil {
		return results.Results{}, err
	}
	return s.Render(app, locale), nil
}
