package mockserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/mockserver"
)

// serve runs a mock built from cfg on a real listener (in memory unless cfg.DataDir is set).
func serve(t *testing.T, cfg mockserver.Config) *running {
	t.Helper()
	mock, err := mockserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &running{t: t, mock: mock, srv: httptest.NewServer(mock)}
	t.Cleanup(r.stop)
	return r
}

// The Server's methods drive a mock that an ATS talks to over HTTP: what they do is what the
// control API does, seen by the ATS and by a real callback receiver.
func TestControlDrivesTheMock(t *testing.T) {
	var puts atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && puts.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // the first results attempt fails
		}
	}))
	t.Cleanup(rcv.Close)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r := serve(t, mockserver.Config{Seed: 1, Clock: mockserver.Clock{Start: t0, Frozen: true},
		Callbacks: mockserver.CallbackPolicy{Schedule: []time.Duration{0, time.Minute}, NoJitter: true}})
	m := r.mock
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	jobs, err := m.Jobs("demo-client")
	if err != nil || !slices.ContainsFunc(jobs, func(j mockserver.Job) bool { return j.ID == engineerJob && j.Name != "" }) {
		t.Fatalf("Jobs = %+v, %v; want the engineer job", jobs, err)
	}
	if _, err := m.Jobs("nobody"); !errors.Is(err, mockserver.ErrNotFound) {
		t.Fatalf("Jobs of an unknown client: %v", err)
	}
	if _, err := m.Token("demo-client", "wrong"); !errors.Is(err, mockserver.ErrUnauthorized) {
		t.Fatalf("Token with a wrong secret: %v", err)
	}
	tok, err := m.Token("demo-client", "demo-secret")
	if err != nil {
		t.Fatal(err)
	}
	if code := r.call(http.MethodPut, "/connect_ats/webhooks/ats", tok, map[string]string{"url": rcv.URL + "/events"}, nil); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("webhook: %d", code)
	}
	ref := r.invite(tok, rcv.URL+"/results", "email")

	// The journal holds what the ATS sent, and nothing the Server's methods did.
	if got := m.Journal(""); len(got) != 2 || got[1].OperationID != "createApplication" || got[1].Status != http.StatusCreated || got[1].ClientID != "demo-client" {
		t.Fatalf("journal = %+v, want the webhook and the creation", got)
	}
	var created struct {
		ReferenceID string `json:"reference_id"`
	}
	if err := json.Unmarshal(m.Journal("createApplication")[0].ResponseBody, &created); err != nil || created.ReferenceID != ref {
		t.Fatalf("journaled answer: %+v, %v", created, err)
	}
	app, err := m.Application(ref)
	if err != nil || app.Status != mockserver.StatusInvited || app.Applicant.Email != "ada@example.com" || !app.CreatedAt.Equal(t0) || !app.StartedAt.IsZero() {
		t.Fatalf("Application = %+v, %v", app, err)
	}
	if mails := m.Outbox("ADA@example.com"); len(mails) != 1 || mails[0].Link != app.AssessmentURL || mails[0].ReferenceID != ref {
		t.Fatalf("Outbox = %+v, want the invitation with the assessment link", mails)
	}

	if app, err = m.StartAssessment(ref); err != nil || app.Status != mockserver.StatusStarted {
		t.Fatalf("StartAssessment = %+v, %v", app, err)
	}
	started, err := m.WaitForDelivery(ctx, mockserver.DeliveryFilter{ReferenceID: ref, Kind: mockserver.DeliveryWebhook,
		EventType: mockserver.EventAssessmentStarted, Status: mockserver.DeliveryDelivered})
	if err != nil || started.Webhook != "ats" || started.URL != rcv.URL+"/events" || started.Method != http.MethodPost {
		t.Fatalf("assessment_started = %+v, %v", started, err)
	}

	if _, err := m.Complete(ref, mockserver.Completion{Fit: mockserver.FitHigh, Scores: map[string]int{"x": 1}}); !errors.Is(err, mockserver.ErrInvalid) {
		t.Fatalf("Complete with a fit and scores: %v", err)
	}
	if _, err := m.Complete("00000000-0000-4000-8000-000000000000", mockserver.Completion{}); !errors.Is(err, mockserver.ErrNotFound) {
		t.Fatalf("Complete of an unknown application: %v", err)
	}
	if app, err = m.Complete(ref, mockserver.Completion{Fit: mockserver.FitHigh}); err != nil || app.Status != mockserver.StatusCompleted || len(app.Scores) == 0 {
		t.Fatalf("Complete = %+v, %v", app, err)
	}
	if _, err := m.Complete(ref, mockserver.Completion{}); !errors.Is(err, mockserver.ErrConflict) {
		t.Fatalf("completing twice: %v", err)
	}

	// The first attempt failed; the retry is due a minute later on the mock's clock.
	if err := m.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	results := m.Deliveries(mockserver.DeliveryFilter{ReferenceID: ref, Kind: mockserver.DeliveryResults})
	if len(results) != 1 || results[0].Status != mockserver.DeliveryPending || len(results[0].Attempts) != 1 ||
		results[0].Attempts[0].StatusCode != http.StatusServiceUnavailable || !results[0].NextAttemptAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after the failed attempt: %d deliveries, the first %s, attempts %+v, next at %v", len(results), results[0].Status, results[0].Attempts, results[0].NextAttemptAt)
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := m.WaitForDelivery(short, mockserver.DeliveryFilter{ReferenceID: ref, Kind: mockserver.DeliveryResults, Status: mockserver.DeliveryDelivered}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a retry that is not due: %v", err)
	}
	if now, err := m.Advance(-time.Second); !errors.Is(err, mockserver.ErrInvalid) || !now.Equal(t0) {
		t.Fatalf("Advance back = %v, %v; want ErrInvalid and the clock where it was", now, err)
	}
	if now, err := m.Advance(time.Minute); err != nil || !now.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Advance = %v, %v", now, err)
	}
	dl, err := m.WaitForDelivery(ctx, mockserver.DeliveryFilter{ReferenceID: ref, Kind: mockserver.DeliveryResults, Status: mockserver.DeliveryDelivered})
	if err != nil || len(dl.Attempts) != 2 || dl.Attempts[1].StatusCode != http.StatusOK || !dl.Attempts[1].At.Equal(t0.Add(time.Minute)) || dl.Method != http.MethodPut {
		t.Fatalf("delivered = %+v, %v", dl, err)
	}
	var payload struct {
		Fit string `json:"fit"`
	}
	if err := json.Unmarshal(dl.Payload, &payload); err != nil || payload.Fit != string(mockserver.FitHigh) {
		t.Fatalf("payload %s: %v", dl.Payload, err)
	}
	if events := m.Deliveries(mockserver.DeliveryFilter{ReferenceID: ref, Kind: mockserver.DeliveryWebhook}); len(events) != 2 {
		t.Fatalf("%d events, want assessment_started and assessment_finished", len(events))
	}
}

func TestControlTokensClockFaultsReset(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r := serve(t, mockserver.Config{Clock: mockserver.Clock{Start: t0, Frozen: true}})
	m := r.mock
	tok, err := m.Token("demo-client", "demo-secret")
	if err != nil {
		t.Fatal(err)
	}
	jobs := func() int { return r.call(http.MethodGet, "/connect_ats/jobs", tok, nil, nil) }
	if code := jobs(); code != http.StatusOK {
		t.Fatalf("jobs: %d", code)
	}

	f, err := m.AddFault(mockserver.Fault{Method: http.MethodGet, Path: "/connect_ats/jobs", Status: http.StatusServiceUnavailable, Times: 1})
	if err != nil || f.ID == "" {
		t.Fatalf("AddFault = %+v, %v", f, err)
	}
	if code := jobs(); code != http.StatusServiceUnavailable {
		t.Fatalf("jobs under the fault: %d", code)
	}
	if fs := m.Faults(); len(fs) != 1 || fs[0].Hits != 1 {
		t.Fatalf("Faults = %+v", fs)
	}
	if err := m.RemoveFault(f.ID); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveFault(f.ID); !errors.Is(err, mockserver.ErrNotFound) {
		t.Fatalf("removing it twice: %v", err)
	}
	if _, err := m.AddFault(mockserver.Fault{Path: "/connect_ats/jobs"}); !errors.Is(err, mockserver.ErrInvalid) {
		t.Fatalf("a fault without an effect: %v", err)
	}

	if err := m.RevokeTokens("nobody"); !errors.Is(err, mockserver.ErrNotFound) {
		t.Fatalf("RevokeTokens of an unknown client: %v", err)
	}
	if err := m.ExpireTokens("demo-client"); err != nil {
		t.Fatal(err)
	}
	if code := jobs(); code != http.StatusUnauthorized {
		t.Fatalf("jobs with an expired token: %d", code)
	}
	if tok, err = m.Token("demo-client", "demo-secret"); err != nil || jobs() != http.StatusOK {
		t.Fatalf("a new token: %v", err)
	}
	if now, _ := m.Advance(15 * time.Minute); !now.Equal(t0.Add(15*time.Minute)) || jobs() != http.StatusUnauthorized {
		t.Fatalf("15 minutes on, at %v, the token still works", now)
	}

	t1 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if before, err := m.SetTime(t1); err != nil || !before.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("SetTime says the clock read %v before (%v)", before, err)
	}
	if !m.Now().Equal(t1) || r.clock().Frozen != true {
		t.Fatalf("SetTime: now %v, clock %+v", m.Now(), r.clock())
	}
	if err := m.Unfreeze(); err != nil {
		t.Fatal(err)
	}
	if c := r.clock(); c.Frozen {
		t.Fatalf("Unfreeze: %+v", c)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if c := r.clock(); !c.Frozen {
		t.Fatalf("Freeze: %+v", c)
	}

	if tok, err = m.Token("demo-client", "demo-secret"); err != nil {
		t.Fatal(err)
	}
	ref := r.invite(tok, "http://127.0.0.1:9/cb", "one_time_link")
	if len(m.Applications("demo-client")) != 1 || len(m.Applications("other-client")) != 0 {
		t.Fatalf("Applications: %+v", m.Applications(""))
	}
	if _, err := m.AddFault(mockserver.Fault{Path: "/connect_ats/jobs", Status: 500}); err != nil {
		t.Fatal(err)
	}
	if err := m.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Application(ref); !errors.Is(err, mockserver.ErrNotFound) || len(m.Journal("")) != 0 || len(m.Faults()) != 0 || len(m.Outbox("")) != 0 {
		t.Fatalf("after Reset: application %v, journal %d, faults %d", err, len(m.Journal("")), len(m.Faults()))
	}
	if d := time.Since(m.Now()).Abs(); d > time.Minute || r.clock().Frozen {
		t.Fatalf("after Reset the clock reads %v, %+v", m.Now(), r.clock())
	}
}
