package mockserver

// The control API as Go calls: each method does what its /_mock operation does, through the same
// use cases, without HTTP. This file and options (mockserver.go) are the adapter between the
// public types and the internal parts: when the internals change, only they do.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/duration"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/notify"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/store"
)

// Token issues an access token to the client these credentials are of, as POST
// /connect_ats/access_token does (without a journal entry): ErrUnauthorized when no client of the
// fixtures has them.
func (s *Server) Token(clientID, secret string) (string, error) {
	if _, ok := auth.CheckSecret(s.app.Fixtures, clientID, secret); !ok {
		return "", fmt.Errorf("mockserver: client %q with this secret: %w", clientID, ErrUnauthorized)
	}
	tok, err := s.app.Auth.Issue(clientID)
	return tok, wrap(err)
}

// Jobs returns the published jobs of client clientID, as GET /connect_ats/jobs lists them:
// ErrNotFound for a client the fixtures lack.
func (s *Server) Jobs(clientID string) ([]Job, error) {
	c, ok := s.app.Fixtures.Client(clientID)
	if !ok {
		return nil, fmt.Errorf("mockserver: client %q: %w", clientID, ErrNotFound)
	}
	jobs := []Job{}
	for _, j := range c.PublishedJobs() {
		jobs = append(jobs, Job{ID: j.ID, Name: j.Name, Team: j.Team})
	}
	return jobs, nil
}

// Application returns application ref, of any client.
func (s *Server) Application(ref string) (Application, error) {
	return s.application(s.app.Service.Lookup(ref))
}

// Applications returns the applications of client clientID (of every client when ""), oldest
// first.
func (s *Server) Applications(clientID string) []Application {
	all := s.app.Service.Applications(store.Filter{ClientID: clientID})
	out := make([]Application, len(all))
	for i, a := range all {
		out[i] = s.publicApplication(a)
	}
	return out
}

// StartAssessment marks ref's assessment started, as the applicant opening the link does; its
// client's webhooks hear assessment_started.
func (s *Server) StartAssessment(ref string) (Application, error) {
	return s.application(s.app.Service.Start(ref))
}

// Complete completes ref's assessment as how says, which PUTs the results to the application's
// callback URL and sends assessment_finished to its client's webhooks.
func (s *Server) Complete(ref string, how Completion) (Application, error) {
	return s.application(s.app.Service.Complete(ref, service.Completion{
		Fit: string(how.Fit), Scores: maps.Clone(how.Scores), Answers: maps.Clone(how.Answers),
	}))
}

// ExpireInvitation makes ref's unused invitation lapse now.
func (s *Server) ExpireInvitation(ref string) (Application, error) {
	return s.application(s.app.Service.ExpireInvitation(ref))
}

// ExpireTokens makes every access token issued so far to client clientID (to every client when
// "") expired, as time passing would; ErrNotFound for a client the fixtures lack.
func (s *Server) ExpireTokens(clientID string) error { return s.invalidate(auth.Expired, clientID) }

// RevokeTokens makes every access token issued so far to client clientID (to every client when
// "") revoked; ErrNotFound for a client the fixtures lack.
func (s *Server) RevokeTokens(clientID string) error { return s.invalidate(auth.Revoked, clientID) }

func (s *Server) invalidate(reason, clientID string) error {
	if _, ok := s.app.Fixtures.Client(clientID); clientID != "" && !ok {
		return fmt.Errorf("mockserver: client %q: %w", clientID, ErrNotFound)
	}
	_, err := s.app.Service.InvalidateTokens(reason, clientID)
	return wrap(err)
}

// Now returns the time on the mock's clock.
func (s *Server) Now() time.Time { return s.app.Clock.Now().UTC() }

// Advance moves the mock's clock forward by d and returns the new time: tokens and links expire,
// callback retries and automatic completions come due. A negative d is ErrInvalid: moving back
// brings expired tokens and links back to life, which only SetTime does.
func (s *Server) Advance(d time.Duration) (time.Time, error) {
	if err := s.app.Service.AdvanceClock(d); err != nil {
		if errors.Is(err, clock.ErrBackwards) {
			return s.Now(), fmt.Errorf("mockserver: advance by %v: %w: %w", d, ErrInvalid, err)
		}
		return s.Now(), wrap(err)
	}
	return s.Now(), nil
}

// SetTime moves the mock's clock to t, forward or back, and returns the time it showed before.
// With Config.DataDir the error is a failed write of the clock's new course.
func (s *Server) SetTime(t time.Time) (before time.Time, err error) {
	before, err = s.app.Service.SetClock(t)
	return before.UTC(), wrap(err)
}

// Freeze stops the mock's clock where it stands: time then moves only when it is moved.
func (s *Server) Freeze() error { return wrap(s.app.Service.FreezeClock()) }

// Unfreeze lets the mock's clock run with real time again, from where it stands.
func (s *Server) Unfreeze() error { return wrap(s.app.Service.UnfreezeClock()) }

// Deliveries returns the deliveries f matches, oldest first.
func (s *Server) Deliveries(f DeliveryFilter) []Delivery {
	return publicDeliveries(s.app.Service.Deliveries(deliveryFilter(f)))
}

// WaitForDelivery waits until a delivery f matches exists — with f.Status set, one that has
// reached that status — and returns the oldest, or returns ctx's error when ctx is done first.
// Retries wait on the mock's clock: when a receiver failed first, advance it.
func (s *Server) WaitForDelivery(ctx context.Context, f DeliveryFilter) (Delivery, error) {
	inner := deliveryFilter(f)
	ds := notify.WaitFor(ctx, s.app.Service.DeliveriesChanged(), math.MaxInt64, func() ([]delivery.Delivery, bool) {
		ds := s.app.Service.Deliveries(inner)
		return ds, len(ds) > 0
	})
	if len(ds) == 0 {
		return Delivery{}, ctx.Err()
	}
	return publicDelivery(ds[0]), nil
}

// Journal returns the requests the vendor API received for operationID (every operation when
// ""), oldest first: what the code under test sent. The journal keeps the newest
// Config.JournalSize requests (and Config.JournalMaxBytes).
func (s *Server) Journal(operationID string) []Request {
	out := []Request{}
	for after := int64(0); ; {
		page := s.app.Journal.Find(journal.Filter{OperationID: operationID}, after, journal.MaxPage)
		for _, e := range page.Entries {
			out = append(out, Request{
				ID: e.ID, Time: e.Time.UTC(), Method: e.Method, Path: e.Path, Query: e.Query,
				ClientID: e.ClientID, OperationID: e.OperationID, Status: e.Status,
				RequestBody: bytes.Clone(e.RequestBody), ResponseBody: bytes.Clone(e.ResponseBody), Fault: e.Fault,
			})
		}
		if page.Next == 0 {
			return out
		}
		after = page.Next
	}
}

// Outbox returns the invitation emails the mock sent to the address to, in any case (every one
// when ""), oldest first.
func (s *Server) Outbox(to string) []Email {
	out := []Email{}
	for _, m := range s.app.Service.Outbox(service.OutboxFilter{To: to}) {
		out = append(out, Email{
			ClientID: m.ClientID, ReferenceID: m.ReferenceID, To: m.To, Subject: m.Subject,
			Body: m.Body, Link: m.Link, SentAt: m.SentAt.UTC(),
		})
	}
	return out
}

// AddFault adds a fault rule and returns it with its ID; ErrInvalid says what is wrong with one
// the mock cannot apply.
func (s *Server) AddFault(f Fault) (Fault, error) {
	r, err := s.app.Service.AddFault(fault.Rule{
		Method: f.Method, Path: f.Path, ClientID: f.ClientID, Nth: f.Nth, Times: f.Times,
		Probability: f.Probability, Status: f.Status, Headers: maps.Clone(f.Headers),
		Body: append([]byte(nil), f.Body...), Latency: duration.Duration(f.Latency),
		LatencyMax: duration.Duration(f.LatencyMax), Break: string(f.Break),
	})
	if err != nil {
		return Fault{}, wrap(err)
	}
	return publicFault(r), nil
}

// Faults returns the fault rules, in the order they apply, with how often each matched and hit.
func (s *Server) Faults() []Fault {
	rules := s.app.Service.Faults()
	out := make([]Fault, len(rules))
	for i, r := range rules {
		out[i] = publicFault(r)
	}
	return out
}

// RemoveFault removes fault rule id; ErrNotFound when there is none.
func (s *Server) RemoveFault(id string) error {
	if err := s.app.Service.RemoveFault(id); err != nil {
		return fmt.Errorf("mockserver: fault rule %q: %w", id, ErrNotFound)
	}
	return nil
}

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() { s.app.Service.ClearFaults() }

// Settle returns once everything due at the clock's time has happened — automatic completions,
// and the callback attempts they and earlier completions started — or ctx's error when ctx is
// done first. A test that moved the clock settles before it asserts what did not happen.
func (s *Server) Settle(ctx context.Context) error { return s.app.Service.Settled(ctx) }

// Reset puts the mock back as New left it, as POST /_mock/reset does: applications, the outbox,
// tokens, webhooks, deliveries, the journal and fault rules are gone, and the clock runs with
// real time from now.
func (s *Server) Reset() error { return wrap(s.app.Service.Reset()) }

// wrap turns the mock's errors into errors that match the package's sentinels.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	e := apierr.From(err) // an API error, or a state the domain refused (a conflict)
	if e == nil {
		return fmt.Errorf("mockserver: %w", err)
	}
	var kind error
	switch e.Code {
	case apierr.NotFound:
		kind = ErrNotFound
	case apierr.Conflict, apierr.Gone:
		kind = ErrConflict
	case apierr.Invalid, apierr.BadRequest:
		kind = ErrInvalid
	case apierr.Unauthorized:
		kind = ErrUnauthorized
	default:
		return fmt.Errorf("mockserver: %w", err)
	}
	return &opError{kind: kind, msg: e.Summary()}
}

type opError struct {
	kind error
	msg  string
}

func (e *opError) Error() string { return "mockserver: " + e.kind.Error() + ": " + e.msg }
func (e *opError) Unwrap() error { return e.kind }

func (s *Server) application(a domain.Application, err error) (Application, error) {
	if err != nil {
		return Application{}, wrap(err)
	}
	return s.publicApplication(a), nil
}

func (s *Server) publicApplication(d domain.Application) Application {
	a := s.app.Service.View(d) // with its assessment link
	out := Application{
		ReferenceID: a.ReferenceID, ClientID: a.ClientID, JobID: a.JobID, CallbackURL: a.CallbackURL,
		InvitationType: a.InvitationType, Status: Status(a.Status), AssessmentURL: a.AssessmentURL,
		Applicant:           Applicant{FirstName: a.Applicant.FirstName, LastName: a.Applicant.LastName, Email: a.Applicant.Email},
		CreatedAt:           utc(a.CreatedAt),
		InvitationExpiresAt: utc(a.InvitationExpiresAt),
		StartedAt:           utc(a.StartedAt),
		CompletedAt:         utc(a.CompletedAt),
		AnonymizedAt:        utc(a.AnonymizedAt),
		Scores:              a.Scores.Map(),
	}
	if h := a.Hire; h != nil {
		out.Hire = &Hire{AddToTeam: h.AddToTeam, AddedToTeam: h.AddedToTeam, Team: h.Team, StartDate: h.StartDate, HiredAt: utc(h.HiredAt)}
	}
	return out
}

// utc is t in UTC, the zero time left zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func deliveryFilter(f DeliveryFilter) delivery.Filter {
	return delivery.Filter{
		ReferenceID: f.ReferenceID, ClientID: f.ClientID, Status: delivery.Status(f.Status),
		Kind: delivery.Kind(f.Kind), EventType: string(f.EventType), EventID: f.EventID,
	}
}

func publicDeliveries(ds []delivery.Delivery) []Delivery {
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		out[i] = publicDelivery(d)
	}
	return out
}

func publicDelivery(d delivery.Delivery) Delivery {
	out := Delivery{
		ID: d.ID, ReferenceID: d.ReferenceID, ClientID: d.ClientID, Kind: DeliveryKind(d.Kind),
		Method: d.Method, EventType: EventType(d.EventType), EventID: d.EventID, Webhook: d.Webhook,
		URL: d.URL, Status: DeliveryStatus(d.Status), Reason: d.Reason, CreatedAt: utc(d.CreatedAt),
		Attempts: make([]Attempt, len(d.Attempts)),
		Payload:  append([]byte(nil), d.Payload...),
	}
	for i, a := range d.Attempts {
		out.Attempts[i] = Attempt{
			N: a.N, At: utc(a.At), StatusCode: a.StatusCode, Error: a.Error,
			Latency: time.Duration(a.LatencyMS * float64(time.Millisecond)),
		}
	}
	if d.NextAttemptAt != nil {
		out.NextAttemptAt = d.NextAttemptAt.UTC()
	}
	return out
}

func publicFault(r fault.Rule) Fault {
	return Fault{
		ID: r.ID, Method: r.Method, Path: r.Path, ClientID: r.ClientID, Nth: r.Nth, Times: r.Times,
		Probability: r.Probability, Status: r.Status, Headers: maps.Clone(r.Headers),
		Body: append([]byte(nil), r.Body...), Latency: time.Duration(r.Latency),
		LatencyMax: time.Duration(r.LatencyMax), Break: Break(r.Break), Matched: r.Matched, Hits: r.Hits,
	}
}
