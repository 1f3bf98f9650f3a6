package proxy_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/testenv"
)

const hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// register registers the ATS's webhook through the proxy (with secret, or a generated one when
// empty) and returns the answer and the secret that signs the events.
func (f *flow) register(secret string) (answer, string) {
	f.t.Helper()
	body := `{"url":"` + f.atsURL + `/hooks?x=1"`
	if secret != "" {
		body += `,"secret":"` + secret + `"`
	}
	a := f.call("PUT", "/connect_ats/webhooks/ats", body+"}")
	if a.status != 201 {
		f.t.Fatalf("register: %d %s", a.status, a.body)
	}
	if secret == "" {
		secret = fieldOf(a.body, "secret")
	}
	return a, secret
}

func fieldOf(body, name string) string {
	var v map[string]any
	_ = json.Unmarshal([]byte(body), &v)
	s, _ := v[name].(string)
	return s
}

// events starts and completes ref in the mock, not through the proxy (the applicant does).
func (f *flow) events(ref string) {
	f.t.Helper()
	if _, err := f.mock.App.Service.Start(ref); err != nil {
		f.t.Fatal(err)
	}
	f.completeUnseen(ref)
}

// resign signs a changed event again with secret, as a target with the secret would.
func resign(t *testing.T, r *http.Request, body []byte, secret string) {
	sig, err := delivery.Sign(secret, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), body)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("webhook-signature", sig)
}

// editEvent changes an event's JSON (re-signed with the secret) on its way to the relay.
func editEvent(t *testing.T, edit func(ev map[string]any) bool) breaksCallbacks {
	return func(r *http.Request, body []byte, w http.ResponseWriter) ([]byte, bool) {
		var ev map[string]any
		if r.Method != http.MethodPost || json.Unmarshal(body, &ev) != nil || !edit(ev) {
			return body, false
		}
		out, _ := json.Marshal(ev)
		resign(t, r, out, hookSecret)
		return out, false
	}
}

func TestWebhooksThroughTheProxy(t *testing.T) {
	f := newFlow(t, nil, nil)
	reg, secret := f.register("")
	// The client sees the URL it registered; the mock has the relay's.
	if got := fieldOf(reg.body, "url"); got != f.atsURL+"/hooks?x=1" || secret == "" {
		t.Fatalf("the registration answered url %q secret %q: not what the client sent", got, secret)
	}
	hooks := f.mock.App.Service.Webhooks(testenv.DemoID)
	if len(hooks) != 1 || !strings.Contains(hooks[0].URL, "/_relay/") {
		t.Fatalf("the mock has %+v: the url was not relayed", hooks)
	}
	if list := f.call("GET", "/connect_ats/webhooks", ""); !strings.Contains(list.body, `"url":"`+f.atsURL+`/hooks?x=1"`) || strings.Contains(list.body, "_relay") {
		t.Fatalf("the list shows %s", list.body)
	}
	ref := f.create()
	f.events(ref)
	got := f.atsGot("/hooks", 2)
	// Forwarded unchanged: the ATS verifies the signature with its secret.
	for i, want := range []string{"assessment_started", "assessment_finished"} {
		cb := got[i]
		if _, err := delivery.Verify(secret, cb.header, cb.body); err != nil || !bytes.Contains(cb.body, []byte(`"type":"`+want+`"`)) || cb.uri != "/hooks?x=1" {
			t.Fatalf("event %d reached the ATS as %s %s %v (%v)", i, cb.uri, cb.body, cb.header, err)
		}
	}
	// An update with the client's own secret: still restored, events verified with the new one.
	if a := f.call("PUT", "/connect_ats/webhooks/ats", `{"url":"`+f.atsURL+`/hooks?x=1","secret":"`+hookSecret+`"}`); a.status != 200 || fieldOf(a.body, "url") != f.atsURL+"/hooks?x=1" {
		t.Fatalf("update: %d %s", a.status, a.body)
	}
	second := f.create()
	f.events(second)
	f.atsGot("/hooks", 4)
	r := f.w.settle(t, 0)
	if fs := findings(r); len(fs) != 0 || r.Violations != 0 {
		t.Fatalf("honest events reported: %+v", fs)
	}
	var events int
	for _, op := range r.Operations {
		if strings.Contains(op.Operation, "event of registerWebhook") {
			events += op.Exchanges
		}
	}
	if events != 4 {
		t.Fatalf("the report holds %d events, want 4:\n%s", events, r.Summary())
	}
	if r.Behaviour.Webhooks != 1 { // registered, then updated: one webhook
		t.Fatalf("the report counts %d webhooks, want 1", r.Behaviour.Webhooks)
	}
}

func TestWebhookEventsBrokenOnTheirWayAreReported(t *testing.T) {
	var held struct { // a request the breaker holds back
		sync.Mutex
		url    string
		header http.Header
		body   []byte
	}
	typeIs := func(ev map[string]any, typ string) bool { return ev["type"] == typ }
	tests := map[string]struct {
		callbacks func(t *testing.T) breaksCallbacks
		after     func(f *flow)
		reach     int // events that reach the ATS
		kinds     []string
		want      []string
	}{
		"unsigned events": {
			callbacks: func(t *testing.T) breaksCallbacks {
				return func(r *http.Request, body []byte, w http.ResponseWriter) ([]byte, bool) {
					r.Header.Del("webhook-signature")
					return body, false
				}
			},
			reach: 2, kinds: []string{dispatch.KindCallback, dispatch.KindCallback},
			want: []string{"callback header webhook-signature missing"},
		},
		"a body changed after signing": {
			callbacks: func(t *testing.T) breaksCallbacks {
				return func(r *http.Request, body []byte, w http.ResponseWriter) ([]byte, bool) {
					var v any
					_ = json.Unmarshal(body, &v)
					out, _ := json.MarshalIndent(v, "", " ")
					return out, false
				}
			},
			reach: 2, kinds: []string{dispatch.KindEvent, dispatch.KindEvent},
			want: []string{"the signature does not verify with the webhook's secret", `webhook "ats"`, "registerWebhook answered 201"},
		},
		"a renamed type": {
			callbacks: func(t *testing.T) breaksCallbacks {
				return editEvent(t, func(ev map[string]any) bool {
					if typeIs(ev, "assessment_started") {
						ev["type"] = "application_started"
						return true
					}
					return false
				})
			},
			// The webhook never had an assessment_started it could read.
			reach: 2, kinds: []string{dispatch.KindCallback, dispatch.KindEvent},
			want: []string{`event type "application_started" is not one the contract documents`, "without a preceding assessment_started"},
		},
		"an event without its reference_id": {
			callbacks: func(t *testing.T) breaksCallbacks {
				return editEvent(t, func(ev map[string]any) bool {
					if typeIs(ev, "assessment_finished") {
						delete(ev["data"].(map[string]any), "reference_id")
						return true
					}
					return false
				})
			},
			reach: 2, kinds: []string{dispatch.KindCallback},
			want: []string{"assessment_finished", `field "data.reference_id" can't be blank`},
		},
		"assessment_started never sent": {
			callbacks: func(t *testing.T) breaksCallbacks {
				return func(r *http.Request, body []byte, w http.ResponseWriter) ([]byte, bool) {
					if bytes.Contains(body, []byte(`"assessment_started"`)) {
						w.WriteHeader(http.StatusOK) // swallowed: the relay never sees it
						return nil, true
					}
					return body, false
				}
			},
			reach: 1, kinds: []string{dispatch.KindEvent},
			want: []string{"assessment_finished about", `webhook "ats" without a preceding assessment_started`, "createApplication answered 201"},
		},
		"events out of order": {
			// The mock sends one application's events to a webhook in order, each after the one
			// before it was answered. A network that reorders them is played here: assessment_started
			// is acknowledged to the mock but held, and reaches the relay only after
			// assessment_finished.
			callbacks: func(t *testing.T) breaksCallbacks {
				return func(r *http.Request, body []byte, w http.ResponseWriter) ([]byte, bool) {
					if r.Header.Get("X-Test-Replay") == "" && bytes.Contains(body, []byte(`"assessment_started"`)) {
						held.Lock()
						held.url, held.header, held.body = "http://"+r.Host+r.URL.RequestURI(), r.Header.Clone(), body
						held.Unlock()
						w.WriteHeader(http.StatusOK)
						return nil, true
					}
					return body, false
				}
			},
			after: func(f *flow) {
				f.atsGot("/hooks", 1) // assessment_finished
				held.Lock()
				req, _ := http.NewRequest(http.MethodPost, held.url, bytes.NewReader(held.body))
				req.Header = held.header
				held.Unlock()
				req.Header.Set("X-Test-Replay", "1")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					f.t.Fatal(err)
				}
				resp.Body.Close()
				f.atsGot("/hooks", 2)
			},
			kinds: []string{dispatch.KindEvent, dispatch.KindEvent},
			want:  []string{"without a preceding assessment_started", "assessment_started about", "out of order", "had announced completed"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFlow(t, nil, tc.callbacks(t))
			f.register(hookSecret)
			ref := f.create()
			f.events(ref)
			if tc.after != nil {
				tc.after(f)
			} else {
				f.atsGot("/hooks", tc.reach)
			}
			fs := f.findings()
			var kinds []string
			var all strings.Builder
			for _, v := range fs {
				kinds = append(kinds, v.Kind)
				all.WriteString(v.Message + "\n" + evidenceText(v))
			}
			if strings.Join(kinds, ",") != strings.Join(tc.kinds, ",") {
				t.Fatalf("findings of kinds %v, want %v:\n%s", kinds, tc.kinds, all.String())
			}
			for _, s := range tc.want {
				if !strings.Contains(all.String(), s) {
					t.Errorf("the findings do not say %q:\n%s", s, all.String())
				}
			}
			if r := f.w.proxy.Report(); r.Violations != len(tc.kinds) {
				t.Errorf("%d violations counted, want %d", r.Violations, len(tc.kinds))
			}
		})
	}
}
