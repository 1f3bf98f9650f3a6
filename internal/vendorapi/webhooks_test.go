package vendorapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/redact"
	"github.com/equalture/equalture-mock/internal/testenv"
)

const ownSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

type webhook struct {
	Label, URL, Secret string
	SecretHint         string `json:"secret_hint"`
	CreatedAt          string `json:"created_at"`
	UpdatedAt          string `json:"updated_at"`
}

func webhooks(t *testing.T, h *testenv.Env, tok string) []webhook {
	t.Helper()
	r := h.Do(http.MethodGet, "/connect_ats/webhooks", "", testenv.Bearer(tok))
	testenv.WantStatus(t, r, http.StatusOK)
	var out []webhook
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Every answer here is checked against openapi.yaml by testenv.
func TestRegisterListAndDeleteWebhooks(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	put := func(label, body string) testenv.Response {
		return h.Do(http.MethodPut, "/connect_ats/webhooks/"+label, body, testenv.Bearer(tok))
	}

	r := put("ats", `{"url":"https://ats.example/hooks"}`)
	testenv.WantStatus(t, r, http.StatusCreated)
	var created webhook
	if err := json.Unmarshal(r.Body, &created); err != nil {
		t.Fatal(err)
	}
	if domain.CheckSecret(created.Secret) != nil || created.SecretHint != redact.Hint(created.Secret) || created.CreatedAt != "2026-11-28T12:00:00Z" {
		t.Fatalf("registered %s", r.Body)
	}
	r = put("ats", `{"url":"https://ats.example/moved"}`)
	testenv.WantStatus(t, r, http.StatusOK)
	if v := r.JSON(t); v["secret"] != nil || v["url"] != "https://ats.example/moved" || v["secret_hint"] != created.SecretHint {
		t.Fatalf("updated %s: the secret kept, and not shown", r.Body)
	}
	testenv.WantStatus(t, put("own", `{"url":"http://127.0.0.1:9/own","secret":"`+ownSecret+`"}`), http.StatusCreated)
	if v := put("own2", `{"url":"http://127.0.0.1:9/own","secret":"`+ownSecret+`"}`).JSON(t); v["secret"] != nil {
		t.Fatalf("a secret the client sent is shown back: %v", v)
	}

	list := webhooks(t, h, tok)
	if len(list) != 3 || list[0].Label != "ats" || list[1].Label != "own" || list[2].Label != "own2" {
		t.Fatalf("listed %+v", list)
	}
	raw := string(h.Do(http.MethodGet, "/connect_ats/webhooks", "", testenv.Bearer(tok)).Body)
	if strings.Contains(raw, created.Secret) || strings.Contains(raw, ownSecret) {
		t.Fatalf("the list shows a secret: %s", raw)
	}

	r = h.Do(http.MethodDelete, "/connect_ats/webhooks/own", "", testenv.Bearer(tok))
	testenv.WantStatus(t, r, http.StatusOK)
	if got := string(r.Body); got != `{"deleted":["own"]}`+"\n" {
		t.Fatalf("deleted %s", got)
	}
	testenv.WantStatus(t, h.Do(http.MethodDelete, "/connect_ats/webhooks/own", "", testenv.Bearer(tok)), http.StatusNotFound)
	r = h.Do(http.MethodDelete, "/connect_ats/webhooks", "", testenv.Bearer(tok))
	testenv.WantStatus(t, r, http.StatusOK)
	if got := string(r.Body); got != `{"deleted":["ats","own2"]}`+"\n" {
		t.Fatalf("deleted all: %s", got)
	}
	if got := string(h.Do(http.MethodDelete, "/connect_ats/webhooks", "", testenv.Bearer(tok)).Body); got != `{"deleted":[]}`+"\n" {
		t.Fatalf("deleting none: %s", got)
	}
	if list := webhooks(t, h, tok); len(list) != 0 {
		t.Fatalf("left %+v", list)
	}
}

func TestRegisterWebhookRefuses(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	tests := map[string]struct {
		label, body, contentType string
		auth                     bool
		status                   int
		field                    string
	}{
		"an ftp URL":              {"ats", `{"url":"ftp://ats.example/h"}`, testenv.ContentJSON, true, 422, "url"},
		"no URL":                  {"ats", `{"secret":"` + ownSecret + `"}`, testenv.ContentJSON, true, 422, "url"},
		"a secret without whsec_": {"ats", `{"url":"https://ats.example/h","secret":"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`, testenv.ContentJSON, true, 422, "secret"},
		"a secret too short":      {"ats", `{"url":"https://ats.example/h","secret":"whsec_c2hvcnQ="}`, testenv.ContentJSON, true, 422, "secret"},
		"a label with a space":    {"a%20b", `{"url":"https://ats.example/h"}`, testenv.ContentJSON, true, 400, "detail"},
		"malformed JSON":          {"ats", `{"url":`, testenv.ContentJSON, true, 400, "detail"},
		"not JSON":                {"ats", `{"url":"https://ats.example/h"}`, "text/plain", true, 415, "detail"},
		"no token":                {"ats", `{"url":"https://ats.example/h"}`, testenv.ContentJSON, false, 401, "detail"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.Sub(t)
			opts := []testenv.ReqOpt{testenv.Header("Content-Type", tc.contentType)}
			if tc.auth {
				opts = append(opts, testenv.Bearer(tok))
			}
			r := h.Do(http.MethodPut, "/connect_ats/webhooks/"+tc.label, tc.body, opts...)
			testenv.WantStatus(t, r, tc.status)
			if m := r.ErrorField(t, tc.field); len(m) == 0 {
				t.Fatalf("the error names no %s: %s", tc.field, r.Body)
			}
			if tc.status == http.StatusBadRequest && tc.label != "ats" && !strings.Contains(string(r.Body), "label has invalid format") {
				t.Fatalf("a bad label's 400 does not name it: %s", r.Body)
			}
		})
	}
	if n := len(h.App.Service.Webhooks("")); n != 0 {
		t.Fatalf("%d webhooks registered from invalid requests", n)
	}
}

func TestWebhookHostAllowList(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) { o.Egress.AllowHosts = []string{"*.ats.example"} })
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	r := h.Do(http.MethodPut, "/connect_ats/webhooks/ats", `{"url":"https://evil.example/h"}`, testenv.Bearer(tok))
	testenv.WantStatus(t, r, http.StatusUnprocessableEntity)
	if m := r.ErrorField(t, "url"); len(m) != 1 || !strings.Contains(m[0], "evil.example is not allowed") {
		t.Fatalf("refused with %s", r.Body)
	}
	testenv.WantStatus(t, h.Do(http.MethodPut, "/connect_ats/webhooks/ats", `{"url":"https://hooks.ats.example/h"}`, testenv.Bearer(tok)), http.StatusCreated)
}

func TestWebhooksAreTheClientsOwn(t *testing.T) {
	h := testenv.New(t)
	demo, other := h.Token(testenv.DemoID, testenv.DemoSecret), h.Token(testenv.OtherID, testenv.OtherSecret)
	testenv.WantStatus(t, h.Do(http.MethodPut, "/connect_ats/webhooks/ats", `{"url":"https://ats.example/demo"}`, testenv.Bearer(demo)), http.StatusCreated)
	if list := webhooks(t, h, other); len(list) != 0 {
		t.Fatalf("another client sees %+v", list)
	}
	testenv.WantStatus(t, h.Do(http.MethodDelete, "/connect_ats/webhooks/ats", "", testenv.Bearer(other)), http.StatusNotFound)
	if got := string(h.Do(http.MethodDelete, "/connect_ats/webhooks", "", testenv.Bearer(other)).Body); got != `{"deleted":[]}`+"\n" {
		t.Fatalf("another client deleting all: %s", got)
	}
	// The same label is another client's own webhook.
	testenv.WantStatus(t, h.Do(http.MethodPut, "/connect_ats/webhooks/ats", `{"url":"https://ats.example/other"}`, testenv.Bearer(other)), http.StatusCreated)
	if list := webhooks(t, h, demo); len(list) != 1 || list[0].URL != "https://ats.example/demo" {
		t.Fatalf("demo's webhooks after another client registered the same label: %+v", list)
	}
}

func TestWebhookLimit(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	for i := range domain.MaxWebhooks {
		testenv.WantStatus(t, h.Do(http.MethodPut, fmt.Sprintf("/connect_ats/webhooks/w%d", i), `{"url":"https://ats.example/h"}`, testenv.Bearer(tok)), http.StatusCreated)
	}
	r := h.Do(http.MethodPut, "/connect_ats/webhooks/one-more", `{"url":"https://ats.example/h"}`, testenv.Bearer(tok))
	testenv.WantStatus(t, r, http.StatusConflict)
	if m := r.ErrorField(t, "detail"); len(m) != 1 || !strings.Contains(m[0], "at most 25") {
		t.Fatalf("refused with %s", r.Body)
	}
}

// Done when: a webhook registered over HTTP gets assessment_started when the applicant opens the
// link and assessment_finished when they submit the assessment, in that order, signed, each
// judged against openapi.yaml by the receiver the contract suite uses; the results PUT to
// callback_url still comes.
func TestWebhookEventsFromInvitationToCompletion(t *testing.T) {
	h := testenv.New(t)
	rcv, err := receiver.New("127.0.0.1:0", "", h.App.Spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rcv.Close() })
	rcv.SetSecret("/hooks/ats", ownSecret)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	testenv.WantStatus(t, h.Do(http.MethodPut, "/connect_ats/webhooks/ats", `{"url":"`+rcv.URL+`/hooks/ats","secret":"`+ownSecret+`"}`, testenv.Bearer(tok)), http.StatusCreated)

	body := strings.Replace(testenv.CreateBody(testenv.EngineerJob, "one_time_link"), testenv.CallbackURL, rcv.URL+"/applications/1", 1)
	r := h.Do(http.MethodPost, "/connect_ats/applications", body, testenv.Bearer(tok))
	testenv.WantStatus(t, r, http.StatusCreated)
	ref, link := r.JSON(t)["reference_id"].(string), r.JSON(t)["assessment_url"].(string)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	page(t, http.MethodGet, link) // the applicant opens the assessment
	got, err := rcv.Wait(ctx, "/hooks/ats", 1)
	if err != nil {
		t.Fatalf("no assessment_started: %v", err)
	}
	page(t, http.MethodPost, link) // and submits it
	if got, err = rcv.Wait(ctx, "/hooks/ats", 2); err != nil {
		t.Fatalf("no assessment_finished: %v", err)
	}
	for i, want := range []string{"assessment_started", "assessment_finished"} {
		cb, e := got[i], got[i].Envelope()
		if cb.Violation != "" || cb.Event != want || e.Type != want || e.Data.ReferenceID != ref || cb.Header.Get("webhook-id") != e.ID {
			t.Fatalf("event %d: %s %s %s (%s)", i+1, cb.Method, cb.Header, cb.Body, cb.Violation)
		}
		if _, err := delivery.Verify(ownSecret, cb.Header, cb.Body); err != nil {
			t.Fatalf("event %d: %v", i+1, err)
		}
	}
	if d := got[0].Envelope().Data.ApplicationStartDate; d != "2026-11-28T12:00:00" {
		t.Fatalf("application_start_date = %q, want the mock's clock, naive", d)
	}
	results, err := rcv.Wait(ctx, "/applications/1", 1)
	if err != nil || results[0].Method != http.MethodPut || results[0].Violation != "" {
		t.Fatalf("the results callback: %+v, %v", results, err)
	}
}

// page opens an assessment link as a browser would (a POST submits it without answers).
func page(t *testing.T, method, link string) {
	t.Helper()
	req, _ := http.NewRequest(method, link, strings.NewReader(""))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d", method, link, resp.StatusCode)
	}
}
