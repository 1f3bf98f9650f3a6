package mockserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/phxtoken"
	"github.com/equalture/equalture-mock/internal/store"
)

// The links the mock hands out point at its own public base URL, in the real service's shapes:
//
//	assessment:     {public}/en/assessments/{assessment_id}/token/{token}     (1 week)
//	public results: {public}/{locale}/candidate_results/{ref}/summary?token=… (120 minutes)
//	dashboard:      {public}/dashboard/{locale}/candidates/{ref}              (login needed)

// linkData is what link tokens carry.
type linkData struct {
	ReferenceID string `json:"reference_id"`
	Purpose     string `json:"purpose"`
}

const (
	purposeAssessment = "assessment"
	purposePublic     = "public_results"
)

func (s *Server) signLink(ref, purpose string, ttl time.Duration) (string, error) {
	return s.Tokens.Sign(linkData{ReferenceID: ref, Purpose: purpose}, s.Clock.Now(), ttl)
}

func (s *Server) assessmentURL(job fixtures.Job, ref string) (string, error) {
	tok, err := s.signLink(ref, purposeAssessment, s.cfg.InvitationTTL)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/en/assessments/%d/token/%s", s.cfg.PublicURL, job.AssessmentID, tok), nil
}

func (s *Server) publicResultsURL(app store.Application, locale string) (string, error) {
	tok, err := s.signLink(app.ReferenceID, purposePublic, s.cfg.PublicLinkTTL)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/%s/candidate_results/%s/summary?token=%s",
		s.cfg.PublicURL, locale, url.PathEscape(app.ReferenceID), url.QueryEscape(tok)), nil
}

func (s *Server) dashboardURL(locale, ref string) string {
	return fmt.Sprintf("%s/dashboard/%s/candidates/%s", s.cfg.PublicURL, locale, url.PathEscape(ref))
}

// verifyLink checks a link token for purpose on the clock and returns the application it names:
// 404 for a token that is not ours, 410 for an expired link.
func (s *Server) verifyLink(tok, purpose string) (store.Application, error) {
	claims, err := s.Tokens.Verify(tok, s.Clock.Now())
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
	return s.Store.Lookup(d.ReferenceID)
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Locale}}"><head><meta charset="utf-8"><title>{{.Title}} · equalture-mock</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
.note{color:#666;font-size:.9rem}</style></head><body>
<h1>{{.Title}}</h1>
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .Action}}<form method="post" action="{{.Action}}"><button type="submit">Complete the assessment</button></form>{{end}}
{{with .Results}}<p>Fit: <strong>{{.Fit}}</strong></p>
<table><tr><th>Trait</th><th>Score</th><th>Priority</th><th>Accepted range</th></tr>
{{range .DetailedScores}}<tr><td>{{.TraitName}}</td><td>{{.TraitBucketDescription}}</td><td>{{.CompetencyProfile.Priority}}</td><td>{{.CompetencyProfile.Range}}</td></tr>{{end}}
</table>{{end}}
<p class="note">Served by equalture-mock, a mock of the Equalture Open Assessment API.</p>
</body></html>`))

type page struct {
	Locale, Title, Message string
	Action                 string // where the "complete" button posts, when it shows
	Results                any
}

func (s *Server) writePage(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pageTmpl.Execute(w, p); err != nil {
		s.Logger.Error("render page", "err", err)
	}
}

func (s *Server) writePageError(w http.ResponseWriter, locale string, err error) {
	var ae *apierr.Error
	msg := "Something went wrong."
	if errors.As(err, &ae) {
		msg = ae.Detail
	}
	status := apierr.Status(apierr.CodeOf(err))
	s.writePage(w, status, page{Locale: locale, Title: http.StatusText(status), Message: msg})
}

// handleAssessmentPage is where an invitation link leads: opening it starts the assessment.
func (s *Server) handleAssessmentPage(w http.ResponseWriter, r *http.Request) {
	loc := fixtures.Locale(r.PathValue("locale"))
	app, err := s.verifyLink(r.PathValue("token"), purposeAssessment)
	if err == nil && app.Status == store.Expired {
		err = apierr.New(apierr.Gone, "This invitation has expired")
	}
	if err == nil && app.Status == store.Invited {
		app, err = s.Store.Start(app.ReferenceID)
	}
	if err != nil {
		s.writePageError(w, loc, err)
		return
	}
	s.writeAssessmentPage(w, r, loc, app)
}

func (s *Server) writeAssessmentPage(w http.ResponseWriter, r *http.Request, loc string, app store.Application) {
	job, _ := s.Fixtures.Job(app.ClientID, app.JobID)
	p := page{Locale: loc, Title: "Assessment: " + job.Name,
		Message: fmt.Sprintf("Welcome %s. Your assessment for %s is %s.", app.Applicant.FirstName, job.Name, app.Status)}
	if app.Status == store.Started {
		p.Action = r.URL.Path
		p.Message += " (This mock has no games: the button completes it with drawn scores and sends the results callback.)"
	}
	s.writePage(w, http.StatusOK, p)
}

// handleAssessmentSubmit completes the assessment from its page, as finishing the games would.
func (s *Server) handleAssessmentSubmit(w http.ResponseWriter, r *http.Request) {
	loc := fixtures.Locale(r.PathValue("locale"))
	app, err := s.verifyLink(r.PathValue("token"), purposeAssessment)
	if err == nil {
		job, _ := s.Fixtures.Job(app.ClientID, app.JobID)
		app, err = s.Store.Complete(app.ReferenceID, s.Deps.Results.Draw(app.ReferenceID, job))
	}
	if err != nil {
		s.writePageError(w, loc, err)
		return
	}
	s.writeAssessmentPage(w, r, loc, app)
}

// handlePublicResultsPage is where a public link leads: the results, for 120 minutes, while the
// application still shows results.
func (s *Server) handlePublicResultsPage(w http.ResponseWriter, r *http.Request) {
	loc := fixtures.Locale(r.PathValue("locale"))
	app, err := s.verifyLink(r.URL.Query().Get("token"), purposePublic)
	if err == nil && app.ReferenceID != r.PathValue("ref") {
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
		s.writePageError(w, loc, err)
		return
	}
	res := s.Results(app, loc)
	s.writePage(w, http.StatusOK, page{Locale: loc, Title: "Candidate results", Results: res,
		Message: "Fit with the job's competency profile, by trait. Link valid for " + strconv.Itoa(int(s.cfg.PublicLinkTTL.Minutes())) + " minutes."})
}
