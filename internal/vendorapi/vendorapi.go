// Package vendorapi serves the Equalture Open Assessment API as the mock: every route, validation and
// security check comes from openapi.yaml through the dispatcher, every use case from the
// service; the handlers here only decode, call and encode. Fault rules and `Prefer: code=` act on
// it as middleware, and the journal and the request log observe it.
package vendorapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/coverage"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/spec"
)

// Prefix is where the vendor API lives.
const Prefix = "/connect_ats/"

// DefaultMaxBodyBytes limits request bodies when Deps.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// journalCapture is how much of each answer the journal keeps.
const journalCapture = 64 << 10

// Deps are the API's collaborators, built once and shared with the rest of the mock.
type Deps struct {
	Spec     *spec.Spec // openapi.yaml
	Service  *service.Service
	Auth     *auth.Authenticator
	Fixtures *fixtures.Set
	Clock    clock.Clock
	// Journal records every request (optional).
	Journal *journal.Journal
	// Faults are the control API's fault rules (optional).
	Faults *fault.Set
	// Coverage counts what the traffic met of the contract (optional).
	Coverage *coverage.Recorder
	// MaxBodyBytes limits request bodies (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	Logger       *slog.Logger
}

// API is the vendor API's http.Handler.
type API struct {
	*dispatch.Dispatcher
	deps Deps
	jobs map[string][]byte // client id → its GET /connect_ats/jobs answer (fixtures never change)
}

// New binds a handler to every operation of the contract and builds the pipeline once.
func New(deps Deps) (*API, error) {
	if deps.Spec == nil || deps.Service == nil || deps.Auth == nil || deps.Fixtures == nil || deps.Clock == nil {
		return nil, errors.New("vendor: missing dependency")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.MaxBodyBytes <= 0 {
		deps.MaxBodyBytes = DefaultMaxBodyBytes
	}
	a := &API{deps: deps, jobs: make(map[string][]byte, len(deps.Fixtures.Clients))}
	for _, c := range deps.Fixtures.Clients {
		jobs := []jobView{}
		for _, j := range c.PublishedJobs() {
			jobs = append(jobs, jobView{ID: j.ID, Name: j.Name})
		}
		b, err := apierr.MarshalJSON(jobs)
		if err != nil {
			return nil, fmt.Errorf("vendor: jobs of %s: %w", c.ID, err)
		}
		a.jobs[c.ID] = b
	}
	schemes := deps.Spec.SecuritySchemes()
	challenge := func(op string) string { return auth.Challenge(schemes[op]) }
	opts := dispatch.Options{
		Spec: deps.Spec,
		Handlers: map[string]dispatch.Handler{
			"createAccessToken":    a.handleCreateAccessToken,
			"getAccessTokenLegacy": a.handleCreateAccessToken,
			"listJobs":             a.handleListJobs,
			"createApplication":    a.handleCreateApplication,
			"hireApplicant":        a.handleHireApplicant,
			"anonymizeApplication": a.handleAnonymizeApplication,
			"getPublicLink":        a.handleGetPublicLink,
			"getResults":           a.handleGetResults,
			"getStatus":            a.handleGetStatus,
			"registerWebhook":      a.handleRegisterWebhook,
			"listWebhooks":         a.handleListWebhooks,
			"deleteWebhooks":       a.handleDeleteWebhooks,
			"deleteWebhook":        a.handleDeleteWebhooks,
		},
		Checks:       map[string]dispatch.Check{"createApplication": a.checkCreateApplication},
		MaxBodyBytes: deps.MaxBodyBytes,
		Authenticate: func(r *http.Request, scheme string) (string, error) {
			client, err := deps.Auth.Authenticate(r, scheme)
			return client.ID, err
		},
		Identify:  auth.Identify,
		Observers: []dispatch.Observer{dispatch.LogRequests(deps.Logger)},
		Logger:    deps.Logger,
	}
	if deps.Faults != nil {
		opts.Middleware = append(opts.Middleware, deps.Faults.Middleware(challenge))
	}
	opts.Middleware = append(opts.Middleware, dispatch.Prefer(deps.Spec, challenge), Lenient)
	if deps.Coverage != nil {
		opts.Observers = append(opts.Observers, func(c *dispatch.Call, res dispatch.Result) {
			deps.Coverage.Exchange(c.Op, res.Status, coverage.Reasons(c.Err)...)
		})
	}
	if deps.Journal != nil {
		opts.Observers = append(opts.Observers, deps.Journal.Observer(deps.Clock))
		opts.CaptureBytes = journalCapture
	}
	d, err := dispatch.New(opts)
	if err != nil {
		return nil, err
	}
	a.Dispatcher = d
	return a, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) { apierr.WriteJSON(w, status, v) }

// decode unmarshals a validated body into v.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return ae
		}
		return apierr.New(apierr.BadRequest, "Malformed JSON: %v", err)
	}
	return nil
}

func (a *API) handleCreateAccessToken(w http.ResponseWriter, c *dispatch.Call) error {
	tok, err := a.deps.Auth.Issue(c.Principal)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"access_token": tok})
	return nil
}

type jobView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// handleListJobs answers the client's published jobs, encoded once at start-up.
func (a *API) handleListJobs(w http.ResponseWriter, c *dispatch.Call) error {
	apierr.WriteRawJSON(w, http.StatusOK, a.jobs[c.Principal])
	return nil
}

type createApplicationRequest struct {
	JobID            string           `json:"job_id"`
	CallbackURL      string           `json:"callback_url"`
	InvitationType   string           `json:"invitation_type"`
	ApplicantDetails domain.Applicant `json:"applicant_details"`
}

type createApplicationResponse struct {
	ReferenceID   string `json:"reference_id"`
	AssessmentURL string `json:"assessment_url,omitempty"`
}

// checkCreateApplication judges what the contract cannot: the job must be one of the client's
// published jobs, the callback host one the mock allows. The dispatcher joins its 422 to the
// contract's, so a request with a blank email and an unknown job hears of both at once.
func (a *API) checkCreateApplication(c *dispatch.Call) error {
	var req struct {
		JobID       any `json:"job_id"`
		CallbackURL any `json:"callback_url"`
	}
	if json.Unmarshal(c.Body, &req) != nil {
		return nil // not an object: the contract's validation said so
	}
	// A field that is no string the contract's validation named already; it wins in the join.
	jobID, _ := req.JobID.(string)
	callbackURL, _ := req.CallbackURL.(string)
	return a.deps.Service.CheckInvitation(c.Principal, service.Invitation{JobID: jobID, CallbackURL: callbackURL})
}

func (a *API) handleCreateApplication(w http.ResponseWriter, c *dispatch.Call) error {
	var req createApplicationRequest
	if err := decode(c.Body, &req); err != nil {
		return err
	}
	app, err := a.deps.Service.Invite(c.Principal, service.Invitation{
		JobID:          req.JobID,
		CallbackURL:    req.CallbackURL,
		InvitationType: req.InvitationType,
		Applicant:      req.ApplicantDetails,
	})
	if err != nil {
		return err
	}
	resp := createApplicationResponse{ReferenceID: app.ReferenceID}
	if app.InvitationType == domain.InviteOneTimeLink {
		resp.AssessmentURL = app.AssessmentURL
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

type hireRequest struct {
	AddToTeam addToTeam `json:"add_to_team"`
	StartDate string    `json:"start_date"`
}

// addToTeam is add_to_team as the service reads it: the boolean, or its string (addToTeamStrings).
type addToTeam bool

func (a *addToTeam) UnmarshalJSON(b []byte) error {
	if v, ok := addToTeamStrings[string(b)]; ok {
		b = v
	}
	return json.Unmarshal(b, (*bool)(a))
}

// addToTeamStrings are what the service takes for add_to_team besides the boolean the contract
// declares: the seed's example sends the string "true".
var addToTeamStrings = map[string]json.RawMessage{`"true"`: json.RawMessage("true"), `"false"`: json.RawMessage("false")}

// asHireBody returns a hire_applicant body with add_to_team given as the string "true" or
// "false" turned into the JSON boolean the contract declares, and whether it turned it. It is the
// server's one leniency about the contract, documented in hireApplicant's description: clients
// that send the seed's string are served, generated clients see the boolean type.
func asHireBody(body []byte) ([]byte, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return body, false
	}
	b, ok := addToTeamStrings[string(fields["add_to_team"])]
	if !ok {
		return body, false
	}
	fields["add_to_team"] = b
	out, err := json.Marshal(fields)
	if err != nil {
		return body, false
	}
	return out, true
}

// Lenient is the service's leniency about its contract as middleware: the contract's validation
// sees a hire body as asHireBody turns it, while the call keeps the body as sent (for the journal,
// and for the validating proxy, which forwards it unchanged and judges with the same leniency).
func Lenient(next dispatch.Handler) dispatch.Handler {
	return func(w http.ResponseWriter, c *dispatch.Call) error {
		if c.Op == "hireApplicant" {
			if b, turned := asHireBody(c.Body); turned {
				c.Request.Body, c.Request.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			}
		}
		return next(w, c)
	}
}

type hireResponse struct {
	Message     string `json:"message"`
	ReferenceID string `json:"reference_id"`
}

func (a *API) handleHireApplicant(w http.ResponseWriter, c *dispatch.Call) error {
	var req hireRequest
	if err := decode(c.Body, &req); err != nil {
		return err
	}
	app, err := a.deps.Service.Hire(c.Principal, c.Params["reference_id"], service.Hiring{AddToTeam: bool(req.AddToTeam), StartDate: req.StartDate})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hireResponse{
		Message:     "Applicant has been successfully hired and added to team if configured",
		ReferenceID: app.ReferenceID,
	})
	return nil
}

func (a *API) handleAnonymizeApplication(w http.ResponseWriter, c *dispatch.Call) error {
	app, err := a.deps.Service.Anonymize(c.Principal, c.Params["reference_id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"reference_id": app.ReferenceID})
	return nil
}

func (a *API) handleGetStatus(w http.ResponseWriter, c *dispatch.Call) error {
	app, err := a.deps.Service.Get(c.Principal, c.Params["reference_id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]domain.Status{"status": app.Status})
	return nil
}

func (a *API) handleGetResults(w http.ResponseWriter, c *dispatch.Call) error {
	res, err := a.deps.Service.Results(c.Principal, c.Params["reference_id"], c.Request.URL.Query().Get("locale"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

type publicLinkResponse struct {
	URL      string `json:"url"`
	TTL      string `json:"ttl"`
	TTLUnits string `json:"ttl_units"`
}

func (a *API) handleGetPublicLink(w http.ResponseWriter, c *dispatch.Call) error {
	link, err := a.deps.Service.PublicLink(c.Principal, c.Params["reference_id"], c.Request.URL.Query().Get("locale"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, publicLinkResponse{
		URL:      link.URL,
		TTL:      strconv.Itoa(int(link.TTL.Minutes())),
		TTLUnits: "minutes",
	})
	return nil
}
