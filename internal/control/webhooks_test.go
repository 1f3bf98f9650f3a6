package control_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/testenv"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// register registers a webhook of the client at url through the vendor API.
func register(t *testing.T, h *testenv.Env, id, secretOfClient, label, url string) {
	t.Helper()
	r := h.Do(http.MethodPut, "/connect_ats/webhooks/"+label, `{"url":"`+url+`","secret":"`+secret+`"}`, testenv.Bearer(h.Token(id, secretOfClient)))
	testenv.WantStatus(t, r, http.StatusCreated)
}

func TestListEveryClientsWebhooks(t *testing.T) {
	h := testenv.New(t)
	register(t, h, testenv.DemoID, testenv.DemoSecret, "b", "https://ats.example/b")
	register(t, h, testenv.DemoID, testenv.DemoSecret, "a", "https://ats.example/a")
	register(t, h, testenv.OtherID, testenv.OtherSecret, "a", "https://other.example/a")
	tests := map[string]struct {
		query string
		want  string
	}{
		"every client":  {"", "demo-client/a demo-client/b other-client/a"},
		"one client":    {"?client_id=other-client", "other-client/a"},
		"nobody's":      {"?client_id=nobody", ""},
		"with a wait":   {"?client_id=demo-client&min=2&wait=1s", "demo-client/a demo-client/b"},
		"in a snapshot": {"snapshot", "demo-client/a demo-client/b other-client/a"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := "/_mock/webhooks" + tc.query
			if tc.query == "snapshot" {
				path = "/_mock/snapshot"
			}
			r := h.Do(http.MethodGet, path, "")
			testenv.WantStatus(t, r, http.StatusOK)
			if strings.Contains(string(r.Body), secret) {
				t.Fatalf("the control API shows a secret: %s", r.Body)
			}
			var v struct {
				Webhooks []struct {
					ClientID   string `json:"client_id"`
					Label      string
					SecretHint string `json:"secret_hint"`
				}
			}
			if err := json.Unmarshal(r.Body, &v); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range v.Webhooks {
				got = append(got, w.ClientID+"/"+w.Label)
				if w.SecretHint != "whsec_MfKQ…" {
					t.Fatalf("secret_hint %q", w.SecretHint)
				}
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("webhooks %v, want %s", got, tc.want)
			}
		})
	}
	testenv.WantStatus(t, post(h, "/_mock/reset", ""), http.StatusNoContent)
	if got := h.Do(http.MethodGet, "/_mock/webhooks", "").JSON(t)["webhooks"]; len(got.([]any)) != 0 {
		t.Fatalf("webhooks after a reset: %v", got)
	}
}

func TestTriggerEventAndTheDeliveryLog(t *testing.T) {
	h := testenv.New(t)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(rcv.Close)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	invited, _ := h.Create(tok, testenv.EngineerJob, "")
	if v := post(h, "/_mock/applications/"+invited+"/events", `{"type":"assessment_started"}`); v.Status != http.StatusConflict {
		t.Fatalf("an event the application has not had: %d %s", v.Status, v.Body)
	}
	completed, _ := h.Create(tok, testenv.EngineerJob, "")
	post(h, "/_mock/applications/"+completed+"/complete", "")
	r := post(h, "/_mock/applications/"+completed+"/events", `{"type":"assessment_finished"}`)
	testenv.WantStatus(t, r, http.StatusOK)
	if v := r.JSON(t); v["event_id"] != nil || len(v["deliveries"].([]any)) != 0 {
		t.Fatalf("without a webhook: %s", r.Body)
	}

	register(t, h, testenv.DemoID, testenv.DemoSecret, "ats", rcv.URL+"/hooks")
	ref, _ := h.Create(tok, testenv.EngineerJob, "")
	post(h, "/_mock/applications/"+ref+"/complete", "") // straight from invited: started, then finished
	if v := h.Do(http.MethodGet, "/_mock/settle", "").JSON(t); v["settled"] != true {
		t.Fatalf("settle: %v", v)
	}
	count := func(query string) int {
		t.Helper()
		return len(h.Do(http.MethodGet, "/_mock/callbacks?reference_id="+ref+query, "").JSON(t)["deliveries"].([]any))
	}
	for query, want := range map[string]int{"": 3, "&kind=results": 1, "&kind=webhook": 2, "&event_type=assessment_started": 1, "&kind=webhook&status=delivered": 2} {
		if got := count(query); got != want {
			t.Errorf("callbacks%s: %d, want %d", query, got, want)
		}
	}

	r = post(h, "/_mock/applications/"+ref+"/events", `{"type":"assessment_finished"}`)
	testenv.WantStatus(t, r, http.StatusOK)
	var sent struct {
		EventID    string `json:"event_id"`
		Deliveries []struct {
			Kind, Method, Webhook string
			EventType             string `json:"event_type"`
			EventID               string `json:"event_id"`
		}
	}
	if err := json.Unmarshal(r.Body, &sent); err != nil {
		t.Fatal(err)
	}
	if len(sent.Deliveries) != 1 {
		t.Fatalf("sent %s", r.Body)
	}
	if d := sent.Deliveries[0]; d.Kind != "webhook" || d.Method != http.MethodPost || d.Webhook != "ats" || d.EventType != "assessment_finished" || d.EventID != sent.EventID || sent.EventID == "" {
		t.Fatalf("sent %s", r.Body)
	}
	if got := count("&event_id=" + sent.EventID); got != 1 {
		t.Fatalf("the log holds %d deliveries of event %s", got, sent.EventID)
	}

	for body, want := range map[string]int{
		`{"type":"application_finished"}`: http.StatusUnprocessableEntity,
		`{}`:                              http.StatusUnprocessableEntity,
	} {
		testenv.WantStatus(t, post(h, "/_mock/applications/"+ref+"/events", body), want)
	}
	testenv.WantStatus(t, post(h, "/_mock/applications/"+testenv.UnknownUUID+"/events", `{"type":"assessment_finished"}`), http.StatusNotFound)
	testenv.WantStatus(t, h.Do(http.MethodDelete, "/connect_ats/applications/"+ref+"/anonymize_application", "", testenv.Bearer(tok)), http.StatusOK)
	testenv.WantStatus(t, post(h, "/_mock/applications/"+ref+"/events", `{"type":"assessment_finished"}`), http.StatusConflict)
}

// The control API's fault rules act on the webhook operations like on every vendor operation.
func TestFaultRulesOnWebhookOperations(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	testenv.WantStatus(t, post(h, "/_mock/faults", `{"method":"PUT","path":"/connect_ats/webhooks/*","status":503,"headers":{"Retry-After":"1"},"times":1}`), http.StatusCreated)
	put := func() testenv.Response {
		return h.Do(http.MethodPut, "/connect_ats/webhooks/ats", `{"url":"https://ats.example/h"}`, testenv.Bearer(tok))
	}
	if r := put(); r.Status != http.StatusServiceUnavailable || r.Header.Get("X-Mock-Fault") == "" {
		t.Fatalf("with the rule: %d %v", r.Status, r.Header)
	}
	testenv.WantStatus(t, put(), http.StatusCreated)
}
