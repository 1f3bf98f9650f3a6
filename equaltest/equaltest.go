// Package equaltest runs the Equalture Open Assessment API mock inside Go tests, the way
// net/http/httptest runs a handler. Start gives a mock on a loopback port — its base URL, a
// client's credentials and published jobs — whose methods move it and read it: complete an
// application, advance its clock, wait for a results callback, read what the code under test
// sent. Point the ATS code under test at URL; the mock is closed when the test ends.
//
//	func TestInvite(t *testing.T) {
//		mock := equaltest.Start(t)
//		ats := myats.New(mock.URL, mock.ClientID, mock.ClientSecret)
//		ref := ats.Invite(mock.JobIDs[0], "ada@example.com", callbackURL)
//		mock.CompleteWithFit(ref, equaltest.FitHigh)
//		dl := mock.WaitForCallback(ref)
//		...
//	}
//
// Every method fails the test itself, with what the mock saw (the application's state, the
// deliveries so far), as httptest users expect; the same operations returning their errors, for
// a test that asserts on a failure, are those of Server.Mock (package mockserver). The methods
// call the mock directly, not over HTTP, so the journal holds only what the code under test sent.
//
// The mock's seed is 1 and its clock is frozen unless the options say otherwise: reference ids
// and scores are the same on every run, and tokens, links and callback retries come due only when
// the test advances the clock.
package equaltest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/mockserver"
)

// Types of the mock, under the names a test reads them by.
type (
	// Application is an application as the mock holds it.
	Application = mockserver.Application
	// Delivery is a results callback or a webhook event, with every attempt.
	Delivery = mockserver.Delivery
	// Request is a request the vendor API received.
	Request = mockserver.Request
	// Email is an invitation email the mock would have sent.
	Email = mockserver.Email
	// Status is where an application stands.
	Status = mockserver.Status
	// Fit is how well an applicant's scores match the job.
	Fit = mockserver.Fit
	// EventType is a webhook event.
	EventType = mockserver.EventType
)

// Application statuses.
const (
	StatusInvited    = mockserver.StatusInvited
	StatusStarted    = mockserver.StatusStarted
	StatusCompleted  = mockserver.StatusCompleted
	StatusHired      = mockserver.StatusHired
	StatusAnonymized = mockserver.StatusAnonymized
	StatusExpired    = mockserver.StatusExpired
)

// Fits.
const (
	FitLow    = mockserver.FitLow
	FitMedium = mockserver.FitMedium
	FitHigh   = mockserver.FitHigh
)

// Webhook events.
const (
	EventAssessmentStarted  = mockserver.EventAssessmentStarted
	EventAssessmentFinished = mockserver.EventAssessmentFinished
)

// DefaultWait is how long the Server's waiting methods wait unless Server.Wait says otherwise.
const DefaultWait = 10 * time.Second

// Server is a mock listening on a loopback port.
type Server struct {
	// URL is the base URL of the vendor API, e.g. "http://127.0.0.1:40123": what the ATS calls.
	URL string
	// ControlURL is the mock's control API over HTTP (URL + "/_mock"); its contract is served at
	// ControlURL + "/openapi.yaml".
	ControlURL string
	// ClientID and ClientSecret are the credentials of the client the ATS plays (the fixtures'
	// first client unless WithClient says otherwise).
	ClientID, ClientSecret string
	// JobIDs are that client's published jobs, as GET /connect_ats/jobs lists them.
	JobIDs []string
	// Mock is the mock itself: the Server's operations returning their errors instead of failing
	// the test, and the rest of its controls (faults, tokens, setting and freezing the clock,
	// reset).
	Mock *mockserver.Server
	// Wait bounds, in real time, how long WaitForCallback, WaitForEvent and Settle wait before
	// they fail the test. DefaultWait when 0.
	Wait time.Duration

	t    testing.TB
	http *http.Server
	done chan struct{}
}

// Option configures a Server.
type Option func(*settings)

type settings struct {
	cfg        mockserver.Config
	seed       *int64
	clock      *mockserver.Clock
	id, secret string
}

// WithConfig builds the mock from cfg: fixtures, TTLs, callback policy, admin token... (see
// mockserver.Config). Its PublicURL is replaced by the Server's URL, which joins its ListenAddrs;
// a zero Seed is 1 and a zero Clock is frozen at the start, as without it.
func WithConfig(cfg mockserver.Config) Option { return func(s *settings) { s.cfg = cfg } }

// WithSeed makes reference ids and scores reproducible with seed (default 1); 0 draws a random
// seed.
func WithSeed(seed int64) Option { return func(s *settings) { s.seed = &seed } }

// WithFrozenClock freezes the mock's clock at t (default: frozen at the time the Server starts,
// to the second).
func WithFrozenClock(t time.Time) Option {
	return func(s *settings) { s.clock = &mockserver.Clock{Start: t, Frozen: true} }
}

// WithRunningClock lets the mock's clock run with real time (it can still be advanced).
func WithRunningClock() Option {
	return func(s *settings) { s.clock = &mockserver.Clock{Start: time.Now()} }
}

// WithClient makes the ATS play another client of the fixtures (default demo-client).
func WithClient(id, secret string) Option {
	return func(s *settings) { s.id, s.secret = id, secret }
}

// Start starts a mock for t and closes it when t ends; a mock that cannot start fails t. The
// Server's methods fail t.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := NewServer(opts...)
	if err != nil {
		t.Fatalf("equaltest: %v", err)
	}
	s.t = t
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a mock; Close stops it. Tests use Start, which closes it for them and makes
// the Server's methods fail the test; those of a Server from NewServer (shared by a package's
// tests from TestMain, or in an example) panic instead.
func NewServer(opts ...Option) (*Server, error) {
	st := settings{id: "demo-client", secret: "demo-secret"}
	for _, o := range opts {
		o(&st)
	}
	cfg := st.cfg
	switch {
	case st.seed != nil:
		cfg.Seed = *st.seed
	case cfg.Seed == 0:
		cfg.Seed = 1
	}
	switch {
	case st.clock != nil:
		cfg.Clock = *st.clock
	case cfg.Clock == mockserver.Clock{}:
		cfg.Clock = mockserver.Clock{Start: time.Now().UTC().Truncate(time.Second), Frozen: true}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	cfg.PublicURL, cfg.ListenAddrs = base, append(cfg.ListenAddrs, ln.Addr().String())
	mock, err := mockserver.New(cfg)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	s := &Server{
		URL: base, ControlURL: base + "/_mock", ClientID: st.id, ClientSecret: st.secret, Mock: mock,
		t:    panicking{},
		http: &http.Server{Handler: mock, ReadHeaderTimeout: 10 * time.Second}, done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln)
	}()
	// The client's jobs come from the mock itself: nothing reaches the journal before the code
	// under test does.
	if _, err := mock.Token(st.id, st.secret); err != nil {
		s.Close()
		return nil, err
	}
	jobs, err := mock.Jobs(st.id)
	if err != nil {
		s.Close()
		return nil, err
	}
	for _, j := range jobs {
		s.JobIDs = append(s.JobIDs, j.ID)
	}
	return s, nil
}

// panicking is the test of a Server from NewServer: a failure panics.
type panicking struct{ testing.TB }

func (panicking) Helper()                           {}
func (panicking) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// Close stops the mock: the listener, then its callback deliveries.
func (s *Server) Close() {
	_ = s.http.Close()
	<-s.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Mock.Close(ctx)
}

// Token returns a fresh access token for the Server's client, as the ATS would get one.
func (s *Server) Token() string {
	s.t.Helper()
	tok, err := s.Mock.Token(s.ClientID, s.ClientSecret)
	if err != nil {
		s.t.Fatalf("equaltest: Token: %v", err)
	}
	return tok
}

// Application returns application ref, of any client.
func (s *Server) Application(ref string) Application {
	s.t.Helper()
	return s.app("Application", ref)(s.Mock.Application(ref))
}

// StartAssessment marks ref's assessment started, as the applicant opening the link does.
func (s *Server) StartAssessment(ref string) Application {
	s.t.Helper()
	return s.app("StartAssessment", ref)(s.Mock.StartAssessment(ref))
}

// Complete completes ref's assessment with scores drawn from the seed, which PUTs the results to
// the application's callback URL.
func (s *Server) Complete(ref string) Application {
	s.t.Helper()
	return s.app("Complete", ref)(s.Mock.Complete(ref, mockserver.Completion{}))
}

// CompleteWithFit completes ref's assessment with drawn scores that give fit.
func (s *Server) CompleteWithFit(ref string, fit Fit) Application {
	s.t.Helper()
	return s.app("CompleteWithFit", ref)(s.Mock.Complete(ref, mockserver.Completion{Fit: fit}))
}

// CompleteWithScores completes ref's assessment with these bucket scores (1-5) by trait code;
// traits left out are drawn.
func (s *Server) CompleteWithScores(ref string, scores map[string]int) Application {
	s.t.Helper()
	return s.app("CompleteWithScores", ref)(s.Mock.Complete(ref, mockserver.Completion{Scores: scores}))
}

// ExpireInvitation makes ref's unused invitation lapse now.
func (s *Server) ExpireInvitation(ref string) Application {
	s.t.Helper()
	return s.app("ExpireInvitation", ref)(s.Mock.ExpireInvitation(ref))
}

// app returns the application an operation on ref gave, or fails the test with the error and
// the application as it stands.
func (s *Server) app(op, ref string) func(Application, error) Application {
	return func(a Application, err error) Application {
		if err != nil {
			s.t.Helper()
			s.t.Fatalf("equaltest: %s(%s): %v\n%s", op, ref, err, s.describeApp(ref))
		}
		return a
	}
}

// Now returns the mock's time.
func (s *Server) Now() time.Time { return s.Mock.Now() }

// Advance moves the mock's clock forward by d and returns the new time: tokens and links expire,
// callback retries and automatic completions come due. A negative d fails the test (Mock.SetTime
// moves the clock back).
func (s *Server) Advance(d time.Duration) time.Time {
	s.t.Helper()
	now, err := s.Mock.Advance(d)
	if err != nil {
		s.t.Fatalf("equaltest: Advance(%v): %v", d, err)
	}
	return now
}

// Settle waits until everything due at the mock's time has happened — automatic completions and
// the callback attempts they started — so that a test can assert what did not happen without
// sleeping; it fails the test after Wait.
func (s *Server) Settle() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), s.wait())
	defer cancel()
	if err := s.Mock.Settle(ctx); err != nil {
		s.t.Fatalf("equaltest: Settle: work due at %s still running after %v (deliveries so far: %s)",
			s.Now().Format(time.RFC3339), s.wait(), describe(s.Mock.Deliveries(mockserver.DeliveryFilter{})))
	}
}

// Deliveries returns the results callbacks of ref so far, oldest first.
func (s *Server) Deliveries(ref string) []Delivery {
	return s.Mock.Deliveries(mockserver.DeliveryFilter{ReferenceID: ref, Kind: mockserver.DeliveryResults})
}

// Events returns the webhook events about ref sent so far (assessment_started,
// assessment_finished), one delivery per event and webhook of its client, oldest first.
func (s *Server) Events(ref string) []Delivery {
	return s.Mock.Deliveries(mockserver.DeliveryFilter{ReferenceID: ref, Kind: mockserver.DeliveryWebhook})
}

// WaitForCallback waits until ref's results were delivered to its callback URL (the receiver
// answered as the mock requires) and returns that delivery; after Wait it fails the test with
// what the deliveries went through. Retries wait on the mock's clock: advance it when the
// receiver failed first.
func (s *Server) WaitForCallback(ref string) Delivery {
	s.t.Helper()
	f := mockserver.DeliveryFilter{ReferenceID: ref, Kind: mockserver.DeliveryResults, Status: mockserver.DeliveryDelivered}
	dl, err := s.waitFor(f)
	if err != nil {
		s.t.Fatalf("equaltest: WaitForCallback(%s): no delivered callback within %v\ncallbacks so far: %s\n%s",
			ref, s.wait(), describe(s.Deliveries(ref)), s.describeApp(ref))
	}
	return dl
}

// WaitForEvent waits until event typ about ref was delivered to a webhook of its client
// (registered with PUT /connect_ats/webhooks/{label}) and returns that delivery; after Wait it
// fails the test with what the events went through.
func (s *Server) WaitForEvent(ref string, typ EventType) Delivery {
	s.t.Helper()
	f := mockserver.DeliveryFilter{ReferenceID: ref, Kind: mockserver.DeliveryWebhook, EventType: typ, Status: mockserver.DeliveryDelivered}
	dl, err := s.waitFor(f)
	if err != nil {
		s.t.Fatalf("equaltest: WaitForEvent(%s, %s): none delivered within %v\nevents so far: %s\n%s",
			ref, typ, s.wait(), describe(s.Events(ref)), s.describeApp(ref))
	}
	return dl
}

func (s *Server) waitFor(f mockserver.DeliveryFilter) (Delivery, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.wait())
	defer cancel()
	return s.Mock.WaitForDelivery(ctx, f)
}

func (s *Server) wait() time.Duration {
	if s.Wait > 0 {
		return s.Wait
	}
	return DefaultWait
}

// Journal returns the requests the vendor API received for operationID (every operation when
// ""), oldest first: what the code under test sent, and nothing else (the Server's methods do
// not go through the vendor API). The journal keeps the newest 10,000 requests (and 64 MiB),
// each body up to 64 KiB.
func (s *Server) Journal(operationID string) []Request { return s.Mock.Journal(operationID) }

// Outbox returns the invitation emails sent to the address to, in any case (every one when ""),
// oldest first.
func (s *Server) Outbox(to string) []Email { return s.Mock.Outbox(to) }

// describeApp says how application ref stands, for a failure message.
func (s *Server) describeApp(ref string) string {
	a, err := s.Mock.Application(ref)
	if errors.Is(err, mockserver.ErrNotFound) {
		refs := []string{}
		for _, a := range s.Mock.Applications("") {
			refs = append(refs, a.ReferenceID+" ("+string(a.Status)+")")
		}
		if len(refs) == 0 {
			return fmt.Sprintf("the mock holds no application %s, nor any other: did the ATS create it (journal: %s)?", ref, describeJournal(s.Mock.Journal("")))
		}
		return fmt.Sprintf("the mock holds no application %s; it holds %s", ref, strings.Join(refs, ", "))
	}
	if err != nil {
		return err.Error()
	}
	b := fmt.Sprintf("application %s: %s, job %s, invited %s", a.ReferenceID, a.Status, a.JobID, a.CreatedAt.Format(time.RFC3339))
	if !a.StartedAt.IsZero() {
		b += ", started " + a.StartedAt.Format(time.RFC3339)
	}
	if !a.CompletedAt.IsZero() {
		b += ", completed " + a.CompletedAt.Format(time.RFC3339)
	}
	return b + fmt.Sprintf(", callback URL %q; the mock's clock reads %s", a.CallbackURL, s.Now().Format(time.RFC3339))
}

// describe says what deliveries went through.
func describe(ds []Delivery) string {
	if len(ds) == 0 {
		return "none: has it been completed (for events: has its client a webhook, has the applicant started)?"
	}
	var parts []string
	for _, d := range ds {
		p := fmt.Sprintf("%s %s %s after %d attempt(s)", d.ID, d.URL, d.Status, len(d.Attempts))
		if n := len(d.Attempts); n > 0 {
			a := d.Attempts[n-1]
			p += fmt.Sprintf(", last answered %d %s", a.StatusCode, a.Error)
		}
		if !d.NextAttemptAt.IsZero() {
			p += ", next attempt at " + d.NextAttemptAt.Format(time.RFC3339) + " on the mock's clock"
		}
		parts = append(parts, strings.TrimSpace(p))
	}
	return strings.Join(parts, "; ")
}

// describeJournal lists the requests the vendor API received, briefly.
func describeJournal(rs []Request) string {
	if len(rs) == 0 {
		return "no request"
	}
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s %s → %d", r.Method, r.Path, r.Status))
	}
	return strings.Join(parts, ", ")
}
