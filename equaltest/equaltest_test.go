package equaltest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/equaltest"
	"github.com/equalture/equalture-mock/mockserver"
)

// fatalRecorder is a test whose Fatalf is recorded instead of ending it, to read what the
// Server's failures say.
type fatalRecorder struct {
	*testing.T
	fatal []string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.fatal = append(r.fatal, fmt.Sprintf(format, args...))
}

// last returns the last failure, and fails t when there was none.
func (r *fatalRecorder) last(t *testing.T, what string) string {
	t.Helper()
	if len(r.fatal) == 0 {
		t.Fatalf("%s did not fail the test", what)
	}
	return r.fatal[len(r.fatal)-1]
}

// send makes the requests an ATS would, with the mock's client's credentials.
func send(t *testing.T, mock *equaltest.Server, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, mock.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if path == "/connect_ats/access_token" {
		req.SetBasicAuth(mock.ClientID, mock.ClientSecret)
	} else {
		req.Header.Set("Authorization", "Bearer "+mock.Token())
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&b)
	return resp.StatusCode, b
}

// invite creates an application as the ATS would and returns its reference id.
func invite(t *testing.T, mock *equaltest.Server, callbackURL string) string {
	t.Helper()
	code, b := send(t, mock, http.MethodPost, "/connect_ats/applications", `{"job_id":"`+mock.JobIDs[0]+`","callback_url":"`+callbackURL+
		`","applicant_details":{"first_name":"A","last_name":"B","email":"a@example.com"}}`)
	var created struct {
		ReferenceID string `json:"reference_id"`
	}
	if err := json.Unmarshal(b, &created); code != http.StatusCreated || err != nil {
		t.Fatalf("create: %d %s", code, b)
	}
	return created.ReferenceID
}

func TestStartClosesWithTheTest(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		mock := equaltest.Start(t, equaltest.WithClient("other-client", "other-secret"))
		url = mock.URL
		if len(mock.JobIDs) == 0 || mock.ClientID != "other-client" || !strings.HasSuffix(mock.ControlURL, "/_mock") {
			t.Fatalf("server = %+v", mock)
		}
	})
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("the mock still answers after its test ended")
	}
}

func TestNewServerReportsBadSettings(t *testing.T) {
	tests := map[string]struct {
		opts []equaltest.Option
		is   error
	}{
		"unknown client":   {[]equaltest.Option{equaltest.WithClient("nobody", "x")}, mockserver.ErrUnauthorized},
		"wrong secret":     {[]equaltest.Option{equaltest.WithClient("demo-client", "x")}, mockserver.ErrUnauthorized},
		"bad mock setting": {[]equaltest.Option{equaltest.WithConfig(mockserver.Config{TokenTTL: -time.Second})}, nil},
		"no fixtures":      {[]equaltest.Option{equaltest.WithConfig(mockserver.Config{FixturesDir: t.TempDir()})}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := equaltest.NewServer(tc.opts...)
			if err == nil {
				s.Close()
				t.Fatal("NewServer started a mock it cannot run")
			}
			var ce *mockserver.ConfigError
			if tc.is != nil && !errors.Is(err, tc.is) || name == "bad mock setting" && !errors.As(err, &ce) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// The journal holds what the code under test sent: Start and the Server's methods add nothing,
// so "the ATS authenticated twice" counts two.
func TestJournalHoldsOnlyWhatTheCodeUnderTestSent(t *testing.T) {
	mock := equaltest.Start(t)
	if got := mock.Journal(""); len(got) != 0 {
		t.Fatalf("a fresh mock's journal holds %d requests", len(got))
	}
	for range 2 {
		if code, _ := send(t, mock, http.MethodPost, "/connect_ats/access_token", ""); code != http.StatusOK {
			t.Fatalf("token: %d", code)
		}
	}
	ref := invite(t, mock, "http://127.0.0.1:9/cb")
	mock.Application(ref)
	mock.StartAssessment(ref)
	mock.Advance(time.Minute)
	mock.Outbox("")
	if got := mock.Journal("createAccessToken"); len(got) != 2 || got[0].Status != http.StatusOK {
		t.Fatalf("the ATS authenticated twice; the journal says %d", len(got))
	}
	if got := mock.Journal(""); len(got) != 3 || got[2].OperationID != "createApplication" {
		t.Fatalf("journal = %+v, want the two tokens and the creation", got)
	}
}

// A failing method fails the test with what the mock saw.
func TestFailuresSayWhatTheMockSaw(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(down.Close)
	rec := &fatalRecorder{T: t}
	mock := equaltest.Start(rec)
	mock.Wait = 100 * time.Millisecond

	mock.WaitForCallback("00000000-0000-4000-8000-000000000000")
	if msg := rec.last(t, "waiting for an unknown application"); !strings.Contains(msg, "has it been completed") || !strings.Contains(msg, "holds no application") {
		t.Fatalf("waiting for an unknown application: %s", msg)
	}
	mock.Complete("00000000-0000-4000-8000-000000000000")
	if msg := rec.last(t, "completing an unknown application"); !strings.Contains(msg, "not found") || !strings.Contains(msg, "nor any other") {
		t.Fatalf("completing an unknown application: %s", msg)
	}

	ref := invite(t, mock, down.URL+"/results")
	mock.Complete(ref)
	n := len(rec.fatal)
	mock.WaitForCallback(ref)
	if msg := rec.last(t, "waiting for a callback the receiver refuses"); len(rec.fatal) != n+1 || !strings.Contains(msg, "last answered 503") ||
		!strings.Contains(msg, "application "+ref+": completed") || !strings.Contains(msg, "next attempt at") {
		t.Fatalf("waiting for a callback the receiver refuses: %s", msg)
	}
	mock.CompleteWithFit(ref, equaltest.FitHigh)
	if msg := rec.last(t, "completing twice"); !strings.Contains(msg, "conflict") || !strings.Contains(msg, ": completed") {
		t.Fatalf("completing twice: %s", msg)
	}
	mock.Advance(-time.Second)
	if msg := rec.last(t, "advancing backwards"); !strings.Contains(msg, "Advance(-1s)") || !strings.Contains(msg, "only advances") {
		t.Fatalf("advancing backwards: %s", msg)
	}
	mock.WaitForEvent(ref, equaltest.EventAssessmentStarted)
	if msg := rec.last(t, "waiting for an event"); !strings.Contains(msg, "has its client a webhook") {
		t.Fatalf("waiting for an event no webhook gets: %s", msg)
	}
	if app := mock.Application(ref); app.Status != equaltest.StatusCompleted || len(app.Scores) == 0 {
		t.Fatalf("application = %+v", app)
	}
	// The same operation through Mock returns its error, for a test that asserts on it.
	if _, err := mock.Mock.Complete(ref, mockserver.Completion{}); !errors.Is(err, mockserver.ErrConflict) {
		t.Fatalf("Mock.Complete of a completed application: %v", err)
	}
}

// A Server from NewServer has no test to fail: its failures panic.
func TestNewServerPanicsOnFailure(t *testing.T) {
	mock, err := equaltest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Close()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "not found") {
			t.Fatalf("recovered %v", r)
		}
	}()
	mock.Complete("00000000-0000-4000-8000-000000000000")
	t.Fatal("no panic")
}

func TestClocks(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	frozen := equaltest.Start(t, equaltest.WithFrozenClock(t0))
	if now := frozen.Now(); !now.Equal(t0) {
		t.Fatalf("frozen clock: %v", now)
	}
	if now := frozen.Advance(time.Hour); !now.Equal(t0.Add(time.Hour)) {
		t.Fatalf("advanced: %v", now)
	}
	running := equaltest.Start(t, equaltest.WithRunningClock())
	first := running.Now()
	time.Sleep(time.Millisecond) // real time must pass for a running clock to show it
	if later := running.Now(); !later.After(first) || later.Sub(time.Now()).Abs() > time.Minute {
		t.Fatalf("running clock read %v then %v (now %v)", first, later, time.Now())
	}
	byDefault := equaltest.Start(t)
	if now := byDefault.Now(); time.Since(now).Abs() > time.Minute || !byDefault.Now().Equal(now) {
		t.Fatalf("the default clock is not frozen at the start: %v", now)
	}
}

// Results and events are told apart: a webhook's events are neither callbacks nor the other way.
func TestCallbacksAndEventsApart(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(rcv.Close)
	mock := equaltest.Start(t)
	if code, _ := send(t, mock, http.MethodPut, "/connect_ats/webhooks/ats", `{"url":"`+rcv.URL+`/events"}`); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("webhook: %d", code)
	}
	ref := invite(t, mock, rcv.URL+"/results")
	mock.Complete(ref)
	dl := mock.WaitForCallback(ref)
	if dl.Kind != mockserver.DeliveryResults || dl.URL != rcv.URL+"/results" {
		t.Fatalf("WaitForCallback = %+v", dl)
	}
	ev := mock.WaitForEvent(ref, equaltest.EventAssessmentFinished)
	if ev.Kind != mockserver.DeliveryWebhook || ev.EventType != equaltest.EventAssessmentFinished || ev.EventID == "" {
		t.Fatalf("WaitForEvent = %+v", ev)
	}
	mock.Settle()
	if results, events := mock.Deliveries(ref), mock.Events(ref); len(results) != 1 || len(events) != 2 {
		t.Fatalf("%d results deliveries and %d events, want 1 and 2 (started and finished)", len(results), len(events))
	}
}
