package service_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

const ownSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // 24 bytes

func TestRegisterWebhook(t *testing.T) {
	a := newApp(t, func(o *app.Options) { o.Egress.AllowHosts = []string{"ats.example", "127.0.0.1"} })
	tests := map[string]struct {
		client string
		in     service.WebhookRegistration
		field  string // the field a 422 names; "" when it registers
	}{
		"a new one, its secret generated": {testenv.DemoID, service.WebhookRegistration{Label: "gen", URL: "https://ats.example/hooks"}, ""},
		"a new one with its own secret":   {testenv.DemoID, service.WebhookRegistration{Label: "own", URL: "http://127.0.0.1:9/h", Secret: ownSecret}, ""},
		"an ftp URL":                      {testenv.DemoID, service.WebhookRegistration{Label: "x", URL: "ftp://ats.example/h"}, "url"},
		"a relative URL":                  {testenv.DemoID, service.WebhookRegistration{Label: "x", URL: "/hooks"}, "url"},
		"a host the allow-list refuses":   {testenv.DemoID, service.WebhookRegistration{Label: "x", URL: "https://evil.example/h"}, "url"},
		"a secret without whsec_":         {testenv.DemoID, service.WebhookRegistration{Label: "x", URL: "https://ats.example/h", Secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "secret"},
		"a secret of 8 bytes":             {testenv.DemoID, service.WebhookRegistration{Label: "x", URL: "https://ats.example/h", Secret: "whsec_c2hvcnRrZXk="}, "secret"},
		"a secret that is not base64":     {testenv.DemoID, service.WebhookRegistration{Label: "x", URL: "https://ats.example/h", Secret: "whsec_not base64 at all, not at all!!"}, "secret"},
		"a label with a slash":            {testenv.DemoID, service.WebhookRegistration{Label: "a/b", URL: "https://ats.example/h"}, "label"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := a.Service.RegisterWebhook(tc.client, tc.in)
			if tc.field != "" {
				var ae *apierr.Error
				if !asAPIError(err, &ae) || ae.Code != apierr.Invalid || len(ae.Fields[tc.field]) == 0 {
					t.Fatalf("error = %v, want a 422 on %s", err, tc.field)
				}
				return
			}
			if err != nil || !got.Created || got.URL != tc.in.URL || !got.CreatedAt.Equal(testenv.T0) {
				t.Fatalf("registered %+v, %v", got, err)
			}
			if tc.in.Secret == "" {
				if got.NewSecret == "" || got.NewSecret != got.Secret || domain.CheckSecret(got.NewSecret) != nil {
					t.Fatalf("generated secret %q", got.NewSecret)
				}
			} else if got.NewSecret != "" || got.Secret != tc.in.Secret {
				t.Fatalf("a secret given is not shown back, and is the one kept: %+v", got)
			}
		})
	}
	if _, err := a.Service.RegisterWebhook("nobody", service.WebhookRegistration{Label: "x", URL: "https://ats.example/h"}); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("an unknown client = %v", err)
	}
	if n := len(a.Service.Webhooks(testenv.DemoID)); n != 2 {
		t.Fatalf("%d webhooks registered, want 2", n)
	}
}

// Updating a webhook keeps its secret unless one is sent, and never shows it again.
func TestUpdateWebhook(t *testing.T) {
	a := newApp(t, nil)
	first, err := a.Service.RegisterWebhook(testenv.DemoID, service.WebhookRegistration{Label: "ats", URL: "https://a.example/h"})
	if err != nil {
		t.Fatal(err)
	}
	a.Clock.Advance(time.Minute)
	moved, err := a.Service.RegisterWebhook(testenv.DemoID, service.WebhookRegistration{Label: "ats", URL: "https://b.example/h"})
	if err != nil || moved.Created || moved.NewSecret != "" || moved.Secret != first.Secret || !moved.CreatedAt.Equal(testenv.T0) || !moved.UpdatedAt.Equal(testenv.T0.Add(time.Minute)) {
		t.Fatalf("updated %+v, %v", moved, err)
	}
	own, err := a.Service.RegisterWebhook(testenv.DemoID, service.WebhookRegistration{Label: "ats", URL: "https://b.example/h", Secret: ownSecret})
	if err != nil || own.NewSecret != "" || own.Secret != ownSecret {
		t.Fatalf("updated with a secret %+v, %v", own, err)
	}
}

// Deleting a webhook cancels what is still pending for it; deleting all deletes only the client's.
func TestDeleteWebhooks(t *testing.T) {
	var calls atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(rcv.Close)
	a := newApp(t, func(o *app.Options) { o.Callbacks = delivery.Config{Schedule: []time.Duration{0, time.Minute}} })
	for _, l := range []string{"a", "b"} {
		if _, err := a.Service.RegisterWebhook(testenv.DemoID, service.WebhookRegistration{Label: l, URL: rcv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Service.RegisterWebhook(testenv.OtherID, service.WebhookRegistration{Label: "a", URL: rcv.URL}); err != nil {
		t.Fatal(err)
	}
	ref := invite(t, a, testenv.EngineerJob, testenv.CallbackURL).ReferenceID
	if _, err := a.Service.Start(ref); err != nil {
		t.Fatal(err)
	}
	testenv.Settle(t, a)
	if _, err := a.Service.DeleteWebhooks(testenv.DemoID, "nope"); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("deleting an unknown label = %v", err)
	}
	gone, err := a.Service.DeleteWebhooks(testenv.DemoID, "a")
	if err != nil || len(gone) != 1 || gone[0].Label != "a" {
		t.Fatalf("deleted %+v, %v", gone, err)
	}
	for _, dl := range a.Service.Deliveries(delivery.Filter{Kind: delivery.KindWebhook}) {
		want := delivery.Pending
		if dl.Webhook == "a" {
			want = delivery.Cancelled
		}
		if dl.Status != want || (want == delivery.Cancelled && dl.Reason != delivery.ReasonWebhookDeleted) {
			t.Fatalf("after deleting webhook a: %+v", dl)
		}
	}
	if gone, err = a.Service.DeleteWebhooks(testenv.DemoID, ""); err != nil || len(gone) != 1 || gone[0].Label != "b" {
		t.Fatalf("deleting all = %+v, %v", gone, err)
	}
	if left := a.Service.Webhooks(""); len(left) != 1 || left[0].ClientID != testenv.OtherID {
		t.Fatalf("left %+v: another client's webhook goes with its client only", left)
	}
	a.Clock.Advance(time.Hour)
	testenv.Settle(t, a)
	if n := calls.Load(); n != 2 {
		t.Fatalf("the receiver got %d attempts; none may follow the first of each deleted webhook", n)
	}
}

func TestTriggerEvent(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(rcv.Close)
	a := newApp(t, nil)
	invited := invite(t, a, testenv.EngineerJob, testenv.CallbackURL).ReferenceID
	started := invite(t, a, testenv.EngineerJob, testenv.CallbackURL).ReferenceID
	completed := invite(t, a, testenv.EngineerJob, testenv.CallbackURL).ReferenceID
	anonymized := invite(t, a, testenv.EngineerJob, testenv.CallbackURL).ReferenceID
	for _, ref := range []string{started, completed, anonymized} {
		a.Service.Start(ref)
	}
	a.Service.Complete(completed, service.Completion{})
	a.Service.Anonymize(testenv.DemoID, anonymized)
	if id, ds, err := a.Service.TriggerEvent(started, delivery.EventStarted); err != nil || id != "" || len(ds) != 0 {
		t.Fatalf("without a webhook: %q, %v", id, err)
	}
	if _, err := a.Service.RegisterWebhook(testenv.DemoID, service.WebhookRegistration{Label: "ats", URL: rcv.URL}); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		ref, typ string
		want     apierr.Code // "" when it sends
	}{
		"started when started":     {started, delivery.EventStarted, ""},
		"started when completed":   {completed, delivery.EventStarted, ""},
		"finished when completed":  {completed, delivery.EventFinished, ""},
		"started when invited":     {invited, delivery.EventStarted, apierr.Conflict},
		"finished when started":    {started, delivery.EventFinished, apierr.Conflict},
		"anything when anonymized": {anonymized, delivery.EventStarted, apierr.Conflict},
		"the documentation's name": {started, "application_started", apierr.Invalid},
		"an unknown application":   {testenv.UnknownUUID, delivery.EventStarted, apierr.NotFound},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			id, sent, err := a.Service.TriggerEvent(tc.ref, tc.typ)
			if tc.want != "" {
				if !apierr.Is(err, tc.want) {
					t.Fatalf("error %v, want %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ds := a.Service.Deliveries(delivery.Filter{EventID: id})
			if id == "" || len(ds) != 1 || len(sent) != 1 || sent[0].ID != ds[0].ID || ds[0].EventType != tc.typ || ds[0].ReferenceID != tc.ref {
				t.Fatalf("event %q sent as %+v", id, ds)
			}
		})
	}
}
