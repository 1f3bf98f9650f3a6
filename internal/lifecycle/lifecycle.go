// Package lifecycle owns the use cases: invite (create, with its link and email), start, complete,
// expire the invitation, hire, anonymize, complete automatically after a while on the mock's
// clock, and register, list and delete a client's webhooks (and send one of their events again).
// Every entry point calls it — the vendor API, the control API, the pages behind the links, the
// scenario runner and the tests — so each rule has one home; the HTTP layers only decode, call a
// use case and encode. State lives in the store, time on the clock; results are drawn and
// rendered by the results generator, events sent by the callback dispatcher.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/brianvoe/gofakeit/v6"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/egress"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/phxtoken"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/schedule"
	"github.com/equalture/equalture-mock/internal/store"
)

// Config holds the lifecycle's settings.
type Config struct {
	// PublicURL is the base of the links the mock hands out (assessment, public results, dashboard).
	PublicURL string
	// InvitationTTL is how long an invitation link is valid (1 week).
	InvitationTTL time.Duration
	// PublicLinkTTL is how long a public results link is valid (120 minutes).
	PublicLinkTTL time.Duration
	// Seed makes reference ids reproducible (scores are seeded by the results generator).
	Seed int64
	// AutoCompleteAfter completes applications this long after creation unless their job says
	// otherwise (0: never).
	AutoCompleteAfter time.Duration
}

// Defaults for Config's zero fields.
const (
	DefaultInvitationTTL = 7 * 24 * time.Hour
	DefaultPublicLinkTTL = 120 * time.Minute
	DefaultPublicURL     = "http://localhost:8080"
)

func (c *Config) setDefaults() {
	if c.PublicURL == "" {
		c.PublicURL = DefaultPublicURL
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.InvitationTTL <= 0 {
		c.InvitationTTL = DefaultInvitationTTL
	}
	if c.PublicLinkTTL <= 0 {
		c.PublicLinkTTL = DefaultPublicLinkTTL
	}
}

// Deliveries is what the use cases need of the callback dispatcher: no results or events leave
// the mock for an anonymized applicant any more, deliveries follow their webhook when it is
// updated or deleted, and an event can be sent again. Each error is a failed write-through.
type Deliveries interface {
	// Cancel stops every pending delivery of the application and erases the payloads kept of it.
	Cancel(referenceID, reason string) error
	// CancelWebhook stops the unfinished deliveries to clientID's webhook label.
	CancelWebhook(clientID, label, reason string) error
	// RetargetWebhook points the unfinished deliveries to a webhook at its URL and secret now.
	RetargetWebhook(store.Webhook) error
	// Raise sends event typ about app to its client's webhooks and returns the event's id ("" when
	// there are none).
	Raise(app store.Application, typ string) (string, error)
}

// Journal is what anonymizing needs of the request journal: the bodies it kept of the
// application's requests go, and of every request that carried the applicant's data.
type Journal interface {
	// Erase replaces the bodies of every entry about the subject and marks them erased.
	Erase(s journal.Subject, reason string)
}

// IDReservations keeps, across restarts, how many reference ids may have been drawn from the
// seeded generator, so that a restarted mock with the same seed never issues one of them again.
type IDReservations interface {
	// ReserveIDs durably records that up to n ids may have been drawn.
	ReserveIDs(n uint64) error
}

// IDBlock is how many reference ids are reserved at a time: one durable write per block, and a
// restart skips at most this many ids that were never issued.
const IDBlock = 1024

// Deps are the service's collaborators, built once and shared with the rest of the mock.
type Deps struct {
	Store    *store.Store
	Clock    clock.Clock
	Fixtures *fixtures.Set
	Results  *results.Generator
	// Links signs the links handed out (the same Phoenix.Token signer as access tokens).
	Links *phxtoken.Signer
	// Egress says where callback_url and webhook urls may point (every host but the public URL's
	// when nil).
	Egress *egress.Policy
	// Deliveries and Journal are told about anonymizations (optional).
	Deliveries Deliveries
	Journal    Journal
	Logger     *slog.Logger
	// IDs, when set, reserves reference ids ahead of their draws; IDsReserved is what it held at
	// start-up: that many draws of the seeded generator are skipped.
	IDs         IDReservations
	IDsReserved uint64
}

// Service runs the use cases.
type Service struct {
	cfg   Config
	deps  Deps
	queue *schedule.Queue // automatic completions

	idMu     sync.Mutex
	ids      *gofakeit.Faker
	drawn    uint64 // reference ids drawn from ids, including those skipped at start-up
	reserved uint64 // how many deps.IDs allows to draw before it is told of more
}

// New returns the service; Close stops its automatic completions.
func New(cfg Config, deps Deps) (*Service, error) {
	if deps.Store == nil || deps.Clock == nil || deps.Fixtures == nil || deps.Results == nil || deps.Links == nil {
		return nil, errors.New("lifecycle: missing dependency")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	if deps.Egress == nil {
		p, err := egress.New(egress.Config{PublicURL: cfg.PublicURL})
		if err != nil {
			return nil, fmt.Errorf("lifecycle: %w", err)
		}
		deps.Egress = p
	}
	s := &Service{cfg: cfg, deps: deps, queue: schedule.New(deps.Clock), ids: gofakeit.New(cfg.Seed)}
	for range deps.IDsReserved {
		s.ids.UUID()
	}
	s.drawn, s.reserved = deps.IDsReserved, deps.IDsReserved
	return s, nil
}

// Resume schedules the automatic completions of the applications a durable store restored (those
// due already run at once), with the settings in force now. Call it once the mock is assembled:
// completing sends callbacks.
func (s *Service) Resume() {
	n := 0
	for _, app := range s.deps.Store.List("") {
		if app.Status != store.Invited && app.Status != store.Started {
			continue
		}
		job, ok := s.deps.Fixtures.Job(app.ClientID, app.JobID)
		if !ok {
			continue // the fixtures changed since: nothing to complete it with
		}
		if after := s.autoCompleteAfter(job); after > 0 {
			ref := app.ReferenceID
			s.queue.At(app.CreatedAt.Add(after), func() { s.autoComplete(ref) })
			n++
		}
	}
	if n > 0 {
		s.deps.Logger.Info("automatic completions resumed after a restart", "applications", n)
	}
}

// Config returns the settings in force (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// Close stops automatic completions.
func (s *Service) Close() { s.queue.Close() }

// Reset forgets every application, email and token generation, and every automatic completion
// still to come. The error is a failed write-through of a durable store.
func (s *Service) Reset() error {
	s.queue.Reset()
	return s.deps.Store.Reset()
}

// Settled returns once every automatic completion due at the clock's time has run (or ctx is done).
func (s *Service) Settled(ctx context.Context) error { return s.queue.Settled(ctx) }

// Invitation is what an ATS sends to invite an applicant.
type Invitation struct {
	JobID          string
	CallbackURL    string
	InvitationType string // store.InviteEmail (default) or store.InviteOneTimeLink
	Applicant      store.Applicant
}

// Invite creates clientID's application for a published job of theirs: an invitation link on the
// clock, an email in the outbox for email invitations, and an automatic completion when the mock
// or the job asks for one. The application's AssessmentURL is the link.
func (s *Service) Invite(clientID string, in Invitation) (store.Application, error) {
	client, ok := s.deps.Fixtures.Client(clientID)
	if !ok {
		return store.Application{}, apierr.New(apierr.NotFound, "No client %q", clientID)
	}
	job, err := s.checkInvitation(clientID, in)
	if err != nil {
		return store.Application{}, err
	}
	if in.InvitationType == "" {
		in.InvitationType = store.InviteEmail
	}
	ref, err := s.newReferenceID()
	if err != nil {
		return store.Application{}, err
	}
	link, err := s.assessmentURL(job, ref)
	if err != nil {
		return store.Application{}, err
	}
	app := store.Application{
		ReferenceID:    ref,
		ClientID:       clientID,
		JobID:          job.ID,
		CallbackURL:    in.CallbackURL,
		InvitationType: in.InvitationType,
		Applicant:      in.Applicant,
		AssessmentURL:  link,
	}
	var mail *store.Email
	if in.InvitationType == store.InviteEmail {
		mail = s.invitationEmail(client, job, app)
	}
	app, err = s.deps.Store.Create(app, s.cfg.InvitationTTL, mail)
	if err != nil {
		return store.Application{}, err
	}
	if after := s.autoCompleteAfter(job); after > 0 {
		s.queue.At(app.CreatedAt.Add(after), func() { s.autoComplete(ref) })
	}
	return app, nil
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
	if err := s.deps.Egress.CheckURL(in.CallbackURL); err != nil {
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

// newReferenceID draws the next application id from the seeded faker, reserving a block of ids
// first when the reservation is used up.
func (s *Service) newReferenceID() (string, error) {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	if s.deps.IDs != nil && s.drawn >= s.reserved {
		if err := s.deps.IDs.ReserveIDs(s.drawn + IDBlock); err != nil {
			return "", fmt.Errorf("lifecycle: reserving reference ids: %w", err)
		}
		s.reserved = s.drawn + IDBlock
	}
	s.drawn++
	return s.ids.UUID(), nil
}

func (s *Service) invitationEmail(client fixtures.Client, job fixtures.Job, a store.Application) *store.Email {
	return &store.Email{
		ClientID:    client.ID,
		ReferenceID: a.ReferenceID,
		To:          a.Applicant.Email,
		Subject:     fmt.Sprintf("Your assessment for %s", job.Name),
		Body: fmt.Sprintf("Dear %s,\n\nYou are invited to take the assessment for %s. "+
			"Open this link within %g days to start:\n\n%s\n\nGood luck!\n%s",
			a.Applicant.FirstName, job.Name, s.cfg.InvitationTTL.Hours()/24, a.AssessmentURL, client.Name),
		Link: a.AssessmentURL,
	}
}

// autoComplete completes ref as if the applicant had finished, unless something else moved it on.
func (s *Service) autoComplete(ref string) {
	_, err := s.Complete(ref, Completion{})
	if err != nil && !apierr.Is(err, apierr.Conflict) && !apierr.Is(err, apierr.NotFound) {
		s.deps.Logger.Warn("auto-completion failed", "reference_id", ref, "err", err)
	}
}

// Get returns clientID's application ref (another client's is NotFound, like an unknown one).
func (s *Service) Get(clientID, ref string) (store.Application, error) {
	return s.deps.Store.Get(clientID, ref)
}

// Lookup returns application ref of any client (for the control API and pages).
func (s *Service) Lookup(ref string) (store.Application, error) { return s.deps.Store.Lookup(ref) }

// Start marks the applicant as having opened the assessment.
func (s *Service) Start(ref string) (store.Application, error) { return s.deps.Store.Start(ref) }

// ExpireInvitation makes an unused invitation lapse now.
func (s *Service) ExpireInvitation(ref string) (store.Application, error) {
	return s.deps.Store.ExpireInvitation(ref)
}

// Completion says how an assessment ends: with scores reaching a fit, with chosen scores (traits
// left out are drawn), with the scores the answers to the mock assessment give (every trait
// answered), or, when all are empty, with drawn scores. Fit, scores and answers exclude each other.
type Completion struct {
	Fit     string
	Scores  map[string]int
	Answers map[string][]int // trait code → one answer (1..5) per statement of the questionnaire
}

// Complete completes the assessment of ref; the store's completion event sends the results callback.
func (s *Service) Complete(ref string, how Completion) (store.Application, error) {
	switch {
	case how.Fit != "" && len(how.Scores) > 0:
		return store.Application{}, apierr.Field("fit", "give either fit or scores, not both")
	case len(how.Answers) > 0 && (how.Fit != "" || len(how.Scores) > 0):
		return store.Application{}, apierr.Field("answers", "give either answers or fit or scores")
	}
	app, err := s.deps.Store.Lookup(ref)
	if err != nil {
		return app, err
	}
	job := s.job(app)
	var scores map[string]int
	switch {
	case len(how.Answers) > 0:
		if scores, err = s.deps.Results.ScoreAnswers(job, how.Answers); err != nil {
			return store.Application{}, err
		}
	case how.Fit != "":
		if scores, err = s.deps.Results.DrawForFit(ref, job, how.Fit); err != nil {
			return store.Application{}, err
		}
	default:
		if err := results.CheckScores(job, how.Scores); err != nil {
			return store.Application{}, err
		}
		scores = s.deps.Results.Draw(ref, job)
		for trait, v := range how.Scores {
			scores[trait] = v
		}
	}
	return s.deps.Store.Complete(ref, scores)
}

// Hiring is what an ATS sends when it hires an applicant.
type Hiring struct {
	AddToTeam bool
	StartDate string
}

// Hire hires clientID's completed application ref, adding the applicant to the job's team when
// asked and the job has one.
func (s *Service) Hire(clientID, ref string, h Hiring) (store.Application, error) {
	app, err := s.deps.Store.Get(clientID, ref)
	if err != nil {
		return app, err
	}
	hire := store.Hire{AddToTeam: h.AddToTeam, StartDate: h.StartDate}
	if job := s.job(app); h.AddToTeam && job.Team != "" {
		hire.AddedToTeam, hire.Team = true, job.Team
	}
	return s.deps.Store.Hire(clientID, ref, hire)
}

// Anonymize erases clientID's application ref's personal details and scores, from any state and
// idempotently, everywhere the mock kept them: the application, its invitation email, the request
// journal's bodies, the callbacks' payloads. Its results stop leaving the mock: pending callbacks
// are cancelled, and none can be redelivered.
func (s *Service) Anonymize(clientID, ref string) (store.Application, error) {
	before, err := s.deps.Store.Get(clientID, ref) // the applicant as created, to find in the journal
	if err != nil {
		return before, err
	}
	app, err := s.deps.Store.Anonymize(clientID, ref)
	if err != nil {
		return app, err
	}
	if s.deps.Deliveries != nil {
		if err := s.deps.Deliveries.Cancel(ref, ReasonAnonymized); err != nil {
			return app, err
		}
	}
	if s.deps.Journal != nil {
		who := journal.Subject{ReferenceID: ref, ClientID: clientID}
		if p := before.Applicant; before.Status != store.Anonymized { // else only placeholders are left
			who.Email, who.FirstName, who.LastName = p.Email, p.FirstName, p.LastName
		}
		s.deps.Journal.Erase(who, ReasonAnonymized)
	}
	return app, nil
}

// ReasonAnonymized is why deliveries of an anonymized application were cancelled.
const ReasonAnonymized = "anonymized"

// job returns the application's job (fixtures.Load and Invite guarantee it exists).
func (s *Service) job(a store.Application) fixtures.Job {
	job, _ := s.deps.Fixtures.Job(a.ClientID, a.JobID)
	return job
}

// Results returns clientID's application ref's results in locale, or why they cannot be shown.
func (s *Service) Results(clientID, ref, locale string) (results.Results, error) {
	app, err := s.completed(clientID, ref, "Results")
	if err != nil {
		return results.Results{}, err
	}
	return s.Render(app, locale), nil
}

// Render renders app's results in locale, with the dashboard link: what results answers and the
// callback PUTs.
func (s *Service) Render(app store.Application, locale string) results.Results {
	loc := fixtures.Locale(locale)
	return s.deps.Results.Render(s.job(app), app.Scores, loc, s.dashboardURL(loc, app.ReferenceID))
}

// completed returns clientID's application ref if its results may be shown, else 404 or 409.
func (s *Service) completed(clientID, ref, what string) (store.Application, error) {
	app, err := s.deps.Store.Get(clientID, ref)
	if err != nil {
		return app, err
	}
	return app, store.ResultsAvailable(app, what)
}

// PublicLink is a link anyone can open to see an applicant's results, for a while.
type PublicLink struct {
	URL string
	TTL time.Duration
}

// PublicLink returns a public results link to clientID's completed application ref in locale.
func (s *Service) PublicLink(clientID, ref, locale string) (PublicLink, error) {
	app, err := s.completed(clientID, ref, "Public links")
	if err != nil {
		return PublicLink{}, err
	}
	u, err := s.publicResultsURL(app, fixtures.Locale(locale))
	if err != nil {
		return PublicLink{}, err
	}
	return PublicLink{URL: u, TTL: s.cfg.PublicLinkTTL}, nil
}
