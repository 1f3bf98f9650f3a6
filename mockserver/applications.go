package mockserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/store"
)

type jobView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (s *Server) handleListJobs(w http.ResponseWriter, _ *http.Request, c call) error {
	jobs := make([]jobView, 0, len(c.client.Jobs))
	for _, j := range c.client.Jobs {
		if j.IsPublished() {
			jobs = append(jobs, jobView{ID: j.ID, Name: j.Name})
		}
	}
	s.writeJSON(w, http.StatusOK, jobs)
	return nil
}

type createApplicationRequest struct {
	JobID            string          `json:"job_id"`
	CallbackURL      string          `json:"callback_url"`
	InvitationType   string          `json:"invitation_type"`
	ApplicantDetails store.Applicant `json:"applicant_details"`
}

type createApplicationResponse struct {
	ReferenceID   string `json:"reference_id"`
	AssessmentURL string `json:"assessment_url,omitempty"`
}

func (s *Server) handleCreateApplication(w http.ResponseWriter, _ *http.Request, c call) error {
	var req createApplicationRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		return apierr.New(apierr.BadRequest, "Malformed JSON: %v", err)
	}
	job, err := s.applicableJob(c.client.ID, req.JobID)
	if err != nil {
		return err
	}
	if err := delivery.CheckHost(s.cfg.CallbackAllowHosts, req.CallbackURL); err != nil {
		return apierr.Field("callback_url", err.Error())
	}
	if req.InvitationType == "" {
		req.InvitationType = store.InviteEmail
	}
	ref := s.newReferenceID()
	link, err := s.assessmentURL(job, ref)
	if err != nil {
		return err
	}
	app := store.Application{
		ReferenceID:    ref,
		ClientID:       c.client.ID,
		JobID:          job.ID,
		CallbackURL:    req.CallbackURL,
		InvitationType: req.InvitationType,
		Applicant:      req.ApplicantDetails,
		AssessmentURL:  link,
	}
	var mail *store.Email
	resp := createApplicationResponse{ReferenceID: ref}
	if req.InvitationType == store.InviteOneTimeLink {
		resp.AssessmentURL = link
	} else {
		mail = invitationEmail(c.client, job, app, s.cfg.InvitationTTL.Hours()/24)
	}
	s.Store.Create(app, s.cfg.InvitationTTL, mail)
	s.writeJSON(w, http.StatusCreated, resp)
	return nil
}

// applicableJob returns clientID's published job jobID, or a 422 on job_id.
func (s *Server) applicableJob(clientID, jobID string) (fixtures.Job, error) {
	job, ok := s.Fixtures.Job(clientID, jobID)
	if !ok {
		return fixtures.Job{}, apierr.Field("job_id", "does not exist")
	}
	if !job.IsPublished() {
		return fixtures.Job{}, apierr.Field("job_id", "is not published")
	}
	return job, nil
}

func invitationEmail(client fixtures.Client, job fixtures.Job, a store.Application, days float64) *store.Email {
	return &store.Email{
		ClientID:    client.ID,
		ReferenceID: a.ReferenceID,
		To:          a.Applicant.Email,
		Subject:     fmt.Sprintf("Your assessment for %s", job.Name),
		Body: fmt.Sprintf("Dear %s,\n\nYou are invited to take the assessment for %s. "+
			"Open this link within %g days to start:\n\n%s\n\nGood luck!\n%s",
			a.Applicant.FirstName, job.Name, days, a.AssessmentURL, client.Name),
		Link: a.AssessmentURL,
	}
}

type hireRequest struct {
	AddToTeam flexBool `json:"add_to_team"`
	StartDate string   `json:"start_date"`
}

// flexBool accepts a JSON boolean or the strings "true"/"false" (the seed's example sends a string).
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case bool:
		*b = flexBool(x)
	case string:
		p, err := strconv.ParseBool(x)
		if err != nil || (x != "true" && x != "false") {
			return apierr.Field("add_to_team", `is invalid: must be true or false`)
		}
		*b = flexBool(p)
	default:
		return apierr.Field("add_to_team", `is invalid: must be true or false`)
	}
	return nil
}

type hireResponse struct {
	Message     string `json:"message"`
	ReferenceID string `json:"reference_id"`
}

func (s *Server) handleHireApplicant(w http.ResponseWriter, _ *http.Request, c call) error {
	var req hireRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return ae
		}
		return apierr.New(apierr.BadRequest, "Malformed JSON: %v", err)
	}
	ref := c.params["reference_id"]
	app, err := s.Store.Get(c.client.ID, ref)
	if err != nil {
		return err
	}
	job, _ := s.Fixtures.Job(app.ClientID, app.JobID)
	h := store.Hire{AddToTeam: bool(req.AddToTeam), StartDate: req.StartDate}
	if h.AddToTeam && job.Team != "" {
		h.AddedToTeam, h.Team = true, job.Team
	}
	if _, err := s.Store.Hire(c.client.ID, ref, h); err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, hireResponse{
		Message:     "Applicant has been successfully hired and added to team if configured",
		ReferenceID: ref,
	})
	return nil
}

func (s *Server) handleAnonymizeApplication(w http.ResponseWriter, _ *http.Request, c call) error {
	app, err := s.Store.Anonymize(c.client.ID, c.params["reference_id"])
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"reference_id": app.ReferenceID})
	return nil
}

func (s *Server) handleGetStatus(w http.ResponseWriter, _ *http.Request, c call) error {
	app, err := s.Store.Get(c.client.ID, c.params["reference_id"])
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]store.Status{"status": app.Status})
	return nil
}

// completedApplication returns clientID's application ref if its results may be shown, else 404/409.
func (s *Server) completedApplication(clientID, ref, what string) (store.Application, error) {
	app, err := s.Store.Get(clientID, ref)
	if err != nil {
		return app, err
	}
	return app, store.ResultsAvailable(app, what)
}

func (s *Server) handleGetResults(w http.ResponseWriter, r *http.Request, c call) error {
	app, err := s.completedApplication(c.client.ID, c.params["reference_id"], "Results")
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, s.Results(app, r.URL.Query().Get("locale")))
	return nil
}

// Results renders app's results in locale; the callback dispatcher sends the same.
func (s *Server) Results(app store.Application, locale string) results.Results {
	job, _ := s.Fixtures.Job(app.ClientID, app.JobID)
	loc := fixtures.Locale(locale)
	return s.Deps.Results.Render(job, app.Scores, loc, s.dashboardURL(loc, app.ReferenceID))
}

type publicLinkResponse struct {
	URL      string `json:"url"`
	TTL      string `json:"ttl"`
	TTLUnits string `json:"ttl_units"`
}

func (s *Server) handleGetPublicLink(w http.ResponseWriter, r *http.Request, c call) error {
	app, err := s.completedApplication(c.client.ID, c.params["reference_id"], "Public links")
	if err != nil {
		return err
	}
	url, err := s.publicResultsURL(app, fixtures.Locale(r.URL.Query().Get("locale")))
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, publicLinkResponse{
		URL:      url,
		TTL:      strconv.Itoa(int(s.cfg.PublicLinkTTL.Minutes())),
		TTLUnits: "minutes",
	})
	return nil
}
