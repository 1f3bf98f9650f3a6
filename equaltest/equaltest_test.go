package equaltest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/equaltest"
	"github.com/equalture/equalture-mock/mockserver"
)

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
	tests := map[string][]equaltest.Option{
		"unknown client":   {equaltest.WithClient("nobody", "x")},
		"bad mock setting": {equaltest.WithMockOptions(mockserver.WithTokenTTL(-time.Second))},
		"no fixtures":      {equaltest.WithMockOptions(mockserver.WithFixturesDir(t.TempDir()))},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			if s, err := equaltest.NewServer(opts...); err == nil {
				s.Close()
				t.Fatal("NewServer started a mock it cannot run")
			}
		})
	}
}

func TestWaitForCallbackSaysWhatHappened(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(down.Close)
	mock := equaltest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := mock.WaitForCallback(ctx, "00000000-0000-4000-8000-000000000000"); err == nil || !strings.Contains(err.Error(), "has it been completed") {
		t.Fatalf("waiting for an unknown application: %v", err)
	}

	tok, err := mock.Token()
	if err != nil {
		t.Fatal(err)
	}
	body := `{"job_id":"` + mock.JobIDs[0] + `","callback_url":"` + down.URL + `","applicant_details":{"first_name":"A","last_name":"B","email":"a@example.com"}}`
	req, _ := http.NewRequest(http.MethodPost, mock.URL+"/connect_ats/applications", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	apps, err := mock.Journal("createApplication")
	if err != nil || len(apps) != 1 {
		t.Fatalf("journal: %v %v", apps, err)
	}
	ref := strings.Split(string(apps[0].ResponseBody), `"`)[3]
	if _, err := mock.Complete(ref); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = mock.WaitForCallback(ctx, ref)
	if err == nil || !strings.Contains(err.Error(), "last answered 503") {
		t.Fatalf("waiting for a callback the receiver refuses: %v", err)
	}
	app, err := mock.Application(ref)
	if err != nil || app.Status != "completed" || len(app.Scores) == 0 {
		t.Fatalf("application = %+v, %v", app, err)
	}
}

func TestClocks(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	frozen := equaltest.Start(t, equaltest.WithFrozenClock(t0))
	if now, err := frozen.Now(); err != nil || !now.Equal(t0) {
		t.Fatalf("frozen clock: %v %v", now, err)
	}
	if now, err := frozen.Advance(time.Hour); err != nil || !now.Equal(t0.Add(time.Hour)) {
		t.Fatalf("advanced: %v %v", now, err)
	}
	running := equaltest.Start(t, equaltest.WithRunningClock())
	first, err := running.Now()
	if err != nil {
		t.Fatal(err)
	}
	later, err := running.Now()
	if err != nil || !later.After(first) || later.Sub(time.Now()).Abs() > time.Minute {
		t.Fatalf("running clock read %v then %v (now %v)", first, later, time.Now())
	}
}

// Results and events are told apart: a webhook's events are neither callbacks nor the other way.
func TestCallbacksAndEventsApart(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(rcv.Close)
	mock := equaltest.Start(t)
	tok, err := mock.Token()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ method, path, body string }{
		{http.MethodPut, "/connect_ats/webhooks/ats", `{"url":"` + rcv.URL + `/events"}`},
		{http.MethodPost, "/connect_ats/applications", `{"job_id":"` + mock.JobIDs[0] + `","callback_url":"` + rcv.URL + `/results","applicant_details":{"first_name":"A","last_name":"B","email":"a@example.com"}}`},
	} {
		req, _ := http.NewRequest(r.method, mock.URL+r.path, strings.NewReader(r.body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	apps, err := mock.Journal("createApplication")
	if err != nil || len(apps) != 1 {
		t.Fatalf("journal: %v, %v", apps, err)
	}
	var created struct {
		ReferenceID string `json:"reference_id"`
	}
	if err := json.Unmarshal(apps[0].ResponseBody, &created); err != nil {
		t.Fatal(err)
	}
	ref := created.ReferenceID
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := mock.WaitForEvent(ctx, ref, "assessment_started"); err == nil || !strings.Contains(err.Error(), "has the applicant started") {
		t.Fatalf("waiting for an event that did not happen: %v", err)
	}
	if _, err := mock.Complete(ref); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dl, err := mock.WaitForCallback(ctx, ref)
	if err != nil || dl.Kind != "results" || dl.URL != rcv.URL+"/results" {
		t.Fatalf("WaitForCallback = %+v, %v", dl, err)
	}
	ev, err := mock.WaitForEvent(ctx, ref, "assessment_finished")
	if err != nil || ev.Kind != "webhook" || ev.EventType != "assessment_finished" || ev.EventID == "" {
		t.Fatalf("WaitForEvent = %+v, %v", ev, err)
	}
	results, _ := mock.Deliveries(ref)
	events, _ := mock.Events(ref)
	if len(results) != 1 || len(events) != 2 {
		t.Fatalf("%d results deliveries and %d events, want 1 and 2 (started and finished)", len(results), len(events))
	}
}
