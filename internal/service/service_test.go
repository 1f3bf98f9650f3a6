package service_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// newApp is the whole mock in process on a frozen clock, with the accountant job completing
// itself 10 minutes after each invitation.
func newApp(t *testing.T, opts func(*app.Options)) *app.App {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"clients.yaml", "traits.yaml"} {
		b, err := fs.ReadFile(assets.Fixtures(), name)
		if err != nil {
			t.Fatal(err)
		}
		if name == "clients.yaml" {
			b = []byte(strings.Replace(string(b), "        assessment_id: 73800\n", "        assessment_id: 73800\n        auto_complete_after: 10m\n", 1))
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	o := app.Options{Seed: 1, SigningKey: []byte("k"), Clock: clock.NewFrozen(testenv.T0), FixturesDir: dir}
	if opts != nil {
		opts(&o)
	}
	a, err := app.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

func invite(t *testing.T, a *app.App, job, callbackURL string) service.Application {
	t.Helper()
	app, err := a.Service.Invite(testenv.DemoID, service.Invitation{
		JobID: job, CallbackURL: callbackURL,
		Applicant: domain.Applicant{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func TestInviteRecordsTheEmailAndLink(t *testing.T) {
	a := newApp(t, nil)
	app := invite(t, a, testenv.EngineerJob, testenv.CallbackURL)
	if app.Status != domain.Invited || !strings.Contains(app.AssessmentURL, "/en/assessments/") || !app.InvitationExpiresAt.Equal(testenv.T0.Add(service.DefaultInvitationTTL)) {
		t.Fatalf("invited application = %+v", app)
	}
	mails := a.Service.Outbox(service.OutboxFilter{})
	if len(mails) != 1 || mails[0].To != "ada@example.com" || mails[0].Link != app.AssessmentURL {
		t.Fatalf("outbox = %+v", mails)
	}
	one, err := a.Service.Invite(testenv.DemoID, service.Invitation{JobID: testenv.EngineerJob, CallbackURL: testenv.CallbackURL, InvitationType: domain.InviteOneTimeLink})
	if err != nil || one.AssessmentURL == "" || len(a.Service.Outbox(service.OutboxFilter{})) != 1 {
		t.Fatalf("one-time link: %+v, %v, outbox %d", one, err, len(a.Service.Outbox(service.OutboxFilter{})))
	}
}

func TestInviteRefuses(t *testing.T) {
	a := newApp(t, func(o *app.Options) { o.Egress.AllowHosts = []string{"127.0.0.1"} })
	tests := map[string]struct {
		client string
		in     service.Invitation
		field  string
	}{
		"unknown job":       {testenv.DemoID, service.Invitation{JobID: testenv.UnknownUUID, CallbackURL: testenv.CallbackURL}, "job_id"},
		"another's job":     {testenv.DemoID, service.Invitation{JobID: testenv.OtherJob, CallbackURL: testenv.CallbackURL}, "job_id"},
		"unpublished job":   {testenv.DemoID, service.Invitation{JobID: testenv.DraftJob, CallbackURL: testenv.CallbackURL}, "job_id"},
		"host not allowed":  {testenv.DemoID, service.Invitation{JobID: testenv.EngineerJob, CallbackURL: "https://ats.invalid/cb"}, "callback_url"},
		"host allowed only": {testenv.DemoID, service.Invitation{JobID: testenv.EngineerJob, CallbackURL: "http://127.0.0.1:9/cb"}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := a.Service.Invite(tc.client, tc.in)
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *apierr.Error
			if !asAPIError(err, &ae) || ae.Code != apierr.Invalid || len(ae.Fields[tc.field]) == 0 {
				t.Fatalf("error = %v, want a 422 on %s", err, tc.field)
			}
		})
	}
}

func asAPIError(err error, target **apierr.Error) bool {
	e, ok := err.(*apierr.Error) //nolint:errorlint // the use cases return *apierr.Error unwrapped
	*target = e
	return ok
}

func TestCompleteTakesFitOrScoresNotBoth(t *testing.T) {
	a := newApp(t, nil)
	tests := map[string]struct {
		how     service.Completion
		wantErr string
		check   func(domain.Application) error
	}{
		"drawn": {check: func(app domain.Application) error {
			if len(app.Scores) == 0 {
				return fmt.Errorf("no scores")
			}
			return nil
		}},
		"fit": {how: service.Completion{Fit: "high"}, check: func(app domain.Application) error {
			if got := a.Service.Render(app, "en").Fit; got != "high" {
				return fmt.Errorf("fit %s", got)
			}
			return nil
		}},
		"scores, rest drawn": {how: service.Completion{Scores: map[string]int{"working_memory": 5}}, check: func(app domain.Application) error {
			if func() bool { v, _ := app.Scores.Get("working_memory"); return v != 5 }() || len(app.Scores) < 2 {
				return fmt.Errorf("scores %v", app.Scores)
			}
			return nil
		}},
		"both":          {how: service.Completion{Fit: "low", Scores: map[string]int{"planning": 5}}, wantErr: "fit"},
		"unknown trait": {how: service.Completion{Scores: map[string]int{"juggling": 5}}, wantErr: "scores.juggling"},
		"bad fit":       {how: service.Completion{Fit: "perfect"}, wantErr: "fit"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ref := invite(t, a, testenv.EngineerJob, testenv.CallbackURL).ReferenceID
			app, err := a.Service.Complete(ref, tc.how)
			if tc.wantErr != "" {
				var ae *apierr.Error
				if !asAPIError(err, &ae) || len(ae.Fields[tc.wantErr]) == 0 {
					t.Fatalf("error = %v, want one on %s", err, tc.wantErr)
				}
				if got, _ := a.Service.Lookup(ref); got.Status != domain.Invited {
					t.Fatalf("a refused completion moved the application to %s", got.Status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if app.Status != domain.Completed {
				t.Fatalf("status %s", app.Status)
			}
			if err := tc.check(app); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestHireAddsToTheJobsTeamWhenAsked(t *testing.T) {
	a := newApp(t, nil)
	ref := invite(t, a, testenv.EngineerJob, testenv.CallbackURL).ReferenceID
	if _, err := a.Service.Hire(testenv.DemoID, ref, service.Hiring{AddToTeam: true}); !apierr.Is(err, apierr.Conflict) {
		t.Fatalf("hiring before completion: %v, want a conflict", err)
	}
	if _, err := a.Service.Complete(ref, service.Completion{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Hire(testenv.OtherID, ref, service.Hiring{}); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("another client hired it: %v", err)
	}
	app, err := a.Service.Hire(testenv.DemoID, ref, service.Hiring{AddToTeam: true, StartDate: "2027-01-04"})
	if err != nil {
		t.Fatal(err)
	}
	if app.Status != domain.Hired || app.Hire == nil || !app.Hire.AddedToTeam || app.Hire.Team == "" || app.Hire.StartDate != "2027-01-04" {
		t.Fatalf("hired application = %+v (hire %+v)", app, app.Hire)
	}
}

func TestAutoCompletionOnTheClock(t *testing.T) {
	a := newApp(t, nil)
	ref := invite(t, a, testenv.AccountJob, testenv.CallbackURL).ReferenceID // the job says 10m
	a.Clock.Advance(9*time.Minute + 59*time.Second)
	testenv.Settle(t, a) // a wrongly early completion would have happened by now
	if app, _ := a.Service.Lookup(ref); app.Status != domain.Invited {
		t.Fatalf("status after 9m59s = %s", app.Status)
	}
	a.Clock.Advance(time.Second)
	testenv.Settle(t, a)
	if app, _ := a.Service.Lookup(ref); app.Status != domain.Completed || len(app.Scores) == 0 {
		t.Fatalf("auto-completed application = %+v", app)
	}
	if ds := a.Service.Deliveries(delivery.Filter{ReferenceID: ref}); len(ds) != 1 {
		t.Fatalf("auto-completion made %d deliveries, want 1", len(ds))
	}
}

func TestAutoCompletionForEveryJobAndNotTwice(t *testing.T) {
	a := newApp(t, func(o *app.Options) { o.Service.AutoCompleteAfter = time.Hour })
	first := invite(t, a, testenv.EngineerJob, testenv.CallbackURL).ReferenceID
	second := invite(t, a, testenv.EngineerJob, testenv.CallbackURL).ReferenceID
	if _, err := a.Service.Complete(second, service.Completion{}); err != nil {
		t.Fatal(err)
	}
	a.Clock.Advance(time.Hour)
	testenv.Settle(t, a)
	if app, _ := a.Service.Lookup(first); app.Status != domain.Completed {
		t.Fatalf("first after 1h: %s", app.Status)
	}
	if ds := a.Service.Deliveries(delivery.Filter{ReferenceID: second}); len(ds) != 1 {
		t.Fatalf("the application completed by hand got %d deliveries: auto-completion must skip it", len(ds))
	}
	a.Service.Reset()
	third := invite(t, a, testenv.EngineerJob, testenv.CallbackURL).ReferenceID
	a.Clock.Advance(59 * time.Minute)
	a.Service.Reset()
	a.Clock.Advance(time.Hour)
	testenv.Settle(t, a)
	if _, err := a.Service.Lookup(third); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("after a reset: %v", err)
	}
}

func TestAnonymizeStopsResultsLeaving(t *testing.T) {
	var calls atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(rcv.Close)
	a := newApp(t, func(o *app.Options) {
		o.Callbacks = delivery.Config{Schedule: []time.Duration{0, time.Minute}, MaxAttempts: 5}
	})
	ref := invite(t, a, testenv.EngineerJob, rcv.URL).ReferenceID
	if _, err := a.Service.Complete(ref, service.Completion{}); err != nil {
		t.Fatal(err)
	}
	testenv.Settle(t, a) // the first attempt failed; the next waits a minute
	if _, err := a.Service.Anonymize(testenv.DemoID, ref); err != nil {
		t.Fatal(err)
	}
	a.Clock.Advance(time.Hour)
	testenv.Settle(t, a)
	if n := calls.Load(); n != 1 {
		t.Fatalf("the receiver got %d attempts; after anonymizing, none may follow the first", n)
	}
	ds := a.Service.Deliveries(delivery.Filter{ReferenceID: ref})
	if len(ds) != 1 || ds[0].Status != delivery.Cancelled || ds[0].Reason != service.ReasonAnonymized || strings.Contains(string(ds[0].Payload), "trait") {
		t.Fatalf("delivery after anonymizing = %+v", ds)
	}
	if _, err := a.Service.Redeliver(ds[0].ID); !apierr.Is(err, apierr.Conflict) {
		t.Fatalf("redelivering an anonymized application's results: %v, want a conflict", err)
	}
}
