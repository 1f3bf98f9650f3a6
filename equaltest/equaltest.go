// Package equaltest runs the Equalture Open Assessment API mock inside Go tests, the way
// net/http/httptest runs a handler. Start gives a mock on a loopback port — its base URL, a
// client's credentials and published jobs — and a control client that moves it: complete an
// application, advance its clock, wait for a results callback, read the request journal. Point the
// ATS code under test at URL; the mock is closed when the test ends.
//
//	func TestInvite(t *testing.T) {
//		mock := equaltest.Start(t, equaltest.WithSeed(1))
//		ats := myats.New(mock.URL, mock.ClientID, mock.ClientSecret)
//		ref := ats.Invite(mock.JobIDs[0], "ada@example.com")
//		if _, err := mock.Complete(ref); err != nil {
//			t.Fatal(err)
//		}
//		...
//	}
//
// The mock's clock is frozen unless WithRunningClock is given: tokens, links and callback retries
// come due only when the test advances it. Every answer of the control API is checked against the
// mock's control contract.
package equaltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/apiclient"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/mockserver"
)

// Server is a mock listening on a loopback port.
type Server struct {
	// URL is the base URL of the vendor API, e.g. "http://127.0.0.1:40123": what the ATS calls.
	URL string
	// ControlURL is the mock's control API (URL + "/_mock"), for what the Server's methods do not
	// cover; its contract is served at ControlURL + "/openapi.yaml".
	ControlURL string
	// ClientID and ClientSecret are the credentials of the client the ATS plays (the fixtures'
	// first client unless WithClient says otherwise).
	ClientID, ClientSecret string
	// JobIDs are that client's published jobs, as GET /connect_ats/jobs lists them.
	JobIDs []string

	mock    *mockserver.Server
	http    *http.Server
	vendor  *apiclient.Client
	control *apiclient.Client
	done    chan struct{}
}

// Option configures a Server.
type Option func(*settings)

type settings struct {
	mock       []mockserver.Option
	clock      mockserver.Option
	id, secret string
}

// WithSeed makes reference ids and scores reproducible (default 1: tests are reproducible unless
// they ask otherwise).
func WithSeed(seed int64) Option {
	return func(s *settings) { s.mock = append(s.mock, mockserver.WithSeed(seed)) }
}

// WithFrozenClock freezes the mock's clock at t (default: frozen at the time the Server starts,
// to the second).
func WithFrozenClock(t time.Time) Option {
	return func(s *settings) { s.clock = mockserver.WithFrozenClock(t) }
}

// WithRunningClock lets the mock's clock run with real time (it can still be advanced).
func WithRunningClock() Option {
	return func(s *settings) { s.clock = mockserver.WithStartTime(time.Now()) }
}

// WithClient makes the ATS play another client of the fixtures (default demo-client).
func WithClient(id, secret string) Option {
	return func(s *settings) { s.id, s.secret = id, secret }
}

// WithMockOptions passes options to the mock itself: fixtures, TTLs, callback schedule, admin
// token... (see package mockserver).
func WithMockOptions(opts ...mockserver.Option) Option {
	return func(s *settings) { s.mock = append(s.mock, opts...) }
}

// Start starts a mock for t and closes it when t ends; a mock that cannot start fails t.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := NewServer(opts...)
	if err != nil {
		t.Fatalf("equaltest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a mock; Close stops it. Tests use Start, which closes it for them.
func NewServer(opts ...Option) (*Server, error) {
	st := settings{
		mock:  []mockserver.Option{mockserver.WithSeed(1)},
		clock: mockserver.WithFrozenClock(time.Now().UTC().Truncate(time.Second)),
		id:    "demo-client", secret: "demo-secret",
	}
	for _, o := range opts {
		o(&st)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	mopts := append([]mockserver.Option{mockserver.WithPublicURL(base), mockserver.WithListenAddrs(ln.Addr().String()), st.clock}, st.mock...)
	mock, err := mockserver.New(mopts...)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	vendor, control, err := loadContracts()
	if err != nil {
		_ = ln.Close()
		return nil, errors.Join(err, mock.Close(context.Background()))
	}
	s := &Server{
		URL: base, ControlURL: base + "/_mock", ClientID: st.id, ClientSecret: st.secret,
		mock: mock, http: &http.Server{Handler: mock, ReadHeaderTimeout: 10 * time.Second}, done: make(chan struct{}),
		vendor:  &apiclient.Client{Base: base, Contract: vendor},
		control: &apiclient.Client{Base: base + "/_mock", Prefix: "/_mock", Contract: control},
	}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln)
	}()
	if s.JobIDs, err = s.jobs(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// loadContracts returns the contracts the mock itself loaded (once per process).
func loadContracts() (vendor, control *spec.Spec, err error) {
	if vendor, err = spec.Vendor(); err != nil {
		return nil, nil, err
	}
	control, err = spec.Control()
	return vendor, control, err
}

// Close stops the mock: the listener, then its callback deliveries.
func (s *Server) Close() {
	_ = s.http.Close()
	<-s.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.mock.Close(ctx)
}

// Token returns a fresh access token for the Server's client, as the ATS would get one.
func (s *Server) Token() (string, error) {
	r, err := s.vendor.Do(context.Background(), http.MethodPost, "/connect_ats/access_token", nil, apiclient.Basic(s.ClientID, s.ClientSecret))
	if err := answer(r, err, http.StatusOK); err != nil {
		return "", err
	}
	return r.Field("access_token"), nil
}

func (s *Server) jobs() ([]string, error) {
	tok, err := s.Token()
	if err != nil {
		return nil, err
	}
	r, err := s.vendor.Do(context.Background(), http.MethodGet, "/connect_ats/jobs", nil, apiclient.Bearer(tok))
	if err := answer(r, err, http.StatusOK); err != nil {
		return nil, err
	}
	var jobs []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.Body, &jobs); err != nil {
		return nil, fmt.Errorf("equaltest: %s: %w", r.Operation, err)
	}
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return ids, nil
}

// Application is an application as the mock holds it.
type Application struct {
	ReferenceID         string         `json:"reference_id"`
	ClientID            string         `json:"client_id"`
	JobID               string         `json:"job_id"`
	CallbackURL         string         `json:"callback_url"`
	InvitationType      string         `json:"invitation_type"`
	Applicant           Applicant      `json:"applicant"`
	Status              string         `json:"status"` // invited, started, completed, hired, anonymized, expired
	AssessmentURL       string         `json:"assessment_url"`
	CreatedAt           time.Time      `json:"created_at"`
	InvitationExpiresAt time.Time      `json:"invitation_expires_at"`
	StartedAt           time.Time      `json:"started_at"`
	CompletedAt         time.Time      `json:"completed_at"`
	Scores              map[string]int `json:"scores"` // trait code → bucket score (1-5)
}

// Applicant is who was invited.
type Applicant struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
}

// Application returns application ref of any client.
func (s *Server) Application(ref string) (Application, error) {
	return call[Application](s, http.MethodGet, "/applications/"+url.PathEscape(ref), nil)
}

// StartAssessment marks ref's assessment started, as the applicant opening the link does.
func (s *Server) StartAssessment(ref string) (Application, error) {
	return call[Application](s, http.MethodPost, "/applications/"+url.PathEscape(ref)+"/start", nil)
}

// Complete completes ref's assessment with scores drawn from the seed, which PUTs the results to
// the application's callback URL.
func (s *Server) Complete(ref string) (Application, error) { return s.complete(ref, nil) }

// CompleteWithFit completes ref's assessment with drawn scores that give fit: "low", "medium" or "high".
func (s *Server) CompleteWithFit(ref, fit string) (Application, error) {
	return s.complete(ref, map[string]any{"fit": fit})
}

// CompleteWithScores completes ref's assessment with these bucket scores (1-5) by trait code;
// traits left out are drawn.
func (s *Server) CompleteWithScores(ref string, scores map[string]int) (Application, error) {
	return s.complete(ref, map[string]any{"scores": scores})
}

func (s *Server) complete(ref string, body any) (Application, error) {
	return call[Application](s, http.MethodPost, "/applications/"+url.PathEscape(ref)+"/complete", body)
}

// ExpireInvitation makes ref's unused invitation lapse now.
func (s *Server) ExpireInvitation(ref string) (Application, error) {
	return call[Application](s, http.MethodPost, "/applications/"+url.PathEscape(ref)+"/expire_invitation", nil)
}

type clockView struct {
	Now time.Time `json:"now"`
}

// Now returns the mock's time.
func (s *Server) Now() (time.Time, error) {
	c, err := call[clockView](s, http.MethodGet, "/clock", nil)
	return c.Now, err
}

// Advance moves the mock's clock forward by d and returns the new time: tokens and links expire,
// callback retries and automatic completions come due.
func (s *Server) Advance(d time.Duration) (time.Time, error) {
	c, err := call[clockView](s, http.MethodPost, "/clock/advance", map[string]string{"by": d.String()})
	return c.Now, err
}

// Delivery is a results callback — the PUT of an application's results to its callback URL — or
// a webhook event POSTed to one of the client's webhooks, with every attempt.
type Delivery struct {
	ID          string `json:"id"`
	ReferenceID string `json:"reference_id"`
	Kind        string `json:"kind"` // results or webhook
	// EventType, EventID and Webhook (its label) describe a webhook event.
	EventType string          `json:"event_type"`
	EventID   string          `json:"event_id"`
	Webhook   string          `json:"webhook"`
	URL       string          `json:"url"`
	Status    string          `json:"status"` // pending, delivering, delivered, failed, cancelled
	Reason    string          `json:"reason"`
	Attempts  []Attempt       `json:"attempts"`
	Payload   json.RawMessage `json:"payload"` // the results as PUT, or the event as POSTed
}

// Attempt is one try at delivering.
type Attempt struct {
	N          int       `json:"n"`
	At         time.Time `json:"at"` // on the mock's clock
	StatusCode int       `json:"status_code"`
	Error      string    `json:"error"`
}

type deliveries struct {
	Deliveries []Delivery `json:"deliveries"`
}

// Deliveries returns the results callbacks of ref so far.
func (s *Server) Deliveries(ref string) ([]Delivery, error) {
	d, err := call[deliveries](s, http.MethodGet, "/callbacks?kind=results&reference_id="+url.QueryEscape(ref), nil)
	return d.Deliveries, err
}

// Events returns the webhook events about ref sent so far (assessment_started,
// assessment_finished), one delivery per event and webhook of its client.
func (s *Server) Events(ref string) ([]Delivery, error) {
	d, err := call[deliveries](s, http.MethodGet, "/callbacks?kind=webhook&reference_id="+url.QueryEscape(ref), nil)
	return d.Deliveries, err
}

// WaitForCallback waits until ref's results were delivered to its callback URL (the receiver
// answered as the mock requires), or ctx is done: then the error says what the deliveries went
// through. Retries wait on the mock's clock: advance it when the receiver failed first.
func (s *Server) WaitForCallback(ctx context.Context, ref string) (Delivery, error) {
	return s.waitDelivered(ctx, "kind=results&reference_id="+url.QueryEscape(ref), func() error {
		all, _ := s.Deliveries(ref)
		return fmt.Errorf("equaltest: no delivered callback for %s before the deadline (deliveries so far: %s)", ref, describe(all))
	})
}

// WaitForEvent waits until event eventType (assessment_started or assessment_finished) about ref
// was delivered to a webhook of its client (registered with PUT /connect_ats/webhooks/{label}),
// or ctx is done: then the error says what the events went through.
func (s *Server) WaitForEvent(ctx context.Context, ref, eventType string) (Delivery, error) {
	q := "kind=webhook&event_type=" + url.QueryEscape(eventType) + "&reference_id=" + url.QueryEscape(ref)
	return s.waitDelivered(ctx, q, func() error {
		all, _ := s.Events(ref)
		return fmt.Errorf("equaltest: no %s about %s delivered before the deadline (events so far: %s)", eventType, ref, describe(all))
	})
}

// waitDelivered waits for a delivered delivery the callbacks query matches; when ctx ends first it
// returns failed's error.
func (s *Server) waitDelivered(ctx context.Context, query string, failed func() error) (Delivery, error) {
	q := "/callbacks?status=delivered&" + query + "&wait="
	const margin = 100 * time.Millisecond // for the answer to come back before ctx ends
	for {
		wait := 10 * time.Second
		if dl, ok := ctx.Deadline(); ok {
			wait = min(wait, max(time.Until(dl)-margin, 0))
		}
		d, err := call[deliveries](s, http.MethodGet, q+wait.Round(time.Millisecond).String(), nil)
		if err != nil {
			return Delivery{}, err
		}
		if len(d.Deliveries) > 0 {
			return d.Deliveries[0], nil
		}
		if wait == 0 || ctx.Err() != nil {
			return Delivery{}, failed()
		}
	}
}

func describe(ds []Delivery) string {
	if len(ds) == 0 {
		return "none: has it been completed (for events: has its client a webhook, has the applicant started)?"
	}
	var parts []string
	for _, d := range ds {
		p := fmt.Sprintf("%s %s after %d attempt(s)", d.ID, d.Status, len(d.Attempts))
		if n := len(d.Attempts); n > 0 {
			a := d.Attempts[n-1]
			p += fmt.Sprintf(", last answered %d %s", a.StatusCode, a.Error)
		}
		parts = append(parts, strings.TrimSpace(p))
	}
	return strings.Join(parts, "; ")
}

// Request is a request the vendor API received, as the journal keeps it.
type Request struct {
	ID           int64           `json:"id"`
	Time         time.Time       `json:"time"`
	Method       string          `json:"method"`
	Path         string          `json:"path"`
	Query        string          `json:"query"`
	ClientID     string          `json:"client_id"`
	OperationID  string          `json:"operation_id"`
	Status       int             `json:"status"`
	RequestBody  json.RawMessage `json:"request_body"`
	ResponseBody json.RawMessage `json:"response_body"`
}

// Journal returns the requests the vendor API received for operationID (every operation when
// ""), oldest first: what the ATS really sent. The journal keeps the newest 10,000 requests (and
// 64 MiB), each body up to 64 KiB.
func (s *Server) Journal(operationID string) ([]Request, error) {
	var all []Request
	q := "/journal?limit=1000&operation_id=" + url.QueryEscape(operationID)
	for cursor := ""; ; {
		page, err := call[struct {
			Requests   []Request `json:"requests"`
			NextCursor string    `json:"next_cursor"`
		}](s, http.MethodGet, q+cursor, nil)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Requests...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = "&cursor=" + page.NextCursor
	}
}

// Email is an invitation email the mock would have sent.
type Email struct {
	ReferenceID string    `json:"reference_id"`
	To          string    `json:"to"`
	Subject     string    `json:"subject"`
	Body        string    `json:"body"`
	Link        string    `json:"link"` // the assessment link
	SentAt      time.Time `json:"sent_at"`
}

// Outbox returns the invitation emails sent to the address to (every one when "").
func (s *Server) Outbox(to string) ([]Email, error) {
	o, err := call[struct {
		Emails []Email `json:"emails"`
	}](s, http.MethodGet, "/outbox?to="+url.QueryEscape(to), nil)
	return o.Emails, err
}

// call sends a control API request and decodes its 200 answer.
func call[T any](s *Server, method, path string, body any) (T, error) {
	var v T
	r, err := s.control.DoJSON(context.Background(), method, path, body)
	if err := answer(r, err, http.StatusOK); err != nil {
		return v, err
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return v, fmt.Errorf("equaltest: %s: %w", r.Operation, err)
	}
	return v, nil
}

// answer turns an answer other than want, or one breaking the contract, into an error.
func answer(r apiclient.Response, err error, want int) error {
	switch {
	case err != nil:
		return fmt.Errorf("equaltest: %w", err)
	case r.Status != want:
		return fmt.Errorf("equaltest: %s", r)
	case r.Violation != "":
		return fmt.Errorf("equaltest: the mock's answer breaks its contract: %s", r.Violation)
	}
	return nil
}
