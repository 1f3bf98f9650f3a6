package delivery_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
)

const (
	secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretB = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtYmJiYmJi"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// register registers client's webhook label at url with secret.
func (w *world) register(client, label, url, secret string) {
	w.t.Helper()
	if _, _, err := w.d.PutWebhook(domain.Webhook{ClientID: client, Label: label, URL: url, Secret: secret}, ""); err != nil {
		w.t.Fatal(err)
	}
}

func finish(a *domain.Application, now time.Time) ([]domain.Event, error) {
	return lc.Complete(a, now, nil)
}

// resend sends event typ of ref again, as the control API does, and returns its id ("" without
// a webhook) or the error that refused it.
func (w *world) resend(ref, typ string) (string, error) {
	var sent []domain.Event
	_, err := w.store.Update("", ref, func(a *domain.Application, now time.Time) ([]domain.Event, error) {
		var err error
		sent, err = lc.Resend(*a, now, domain.EventType(typ))
		return sent, err
	})
	if err != nil {
		return "", err
	}
	id := w.d.EventID(sent[0].Seq)
	if len(w.d.List(delivery.Filter{EventID: id})) == 0 {
		return "", nil
	}
	return id, nil
}

// waitFor waits (real time, bounded) until the deliveries f matches satisfy ok.
func (w *world) waitFor(f delivery.Filter, ok func([]delivery.Delivery) bool) []delivery.Delivery {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		changed := w.d.Changed().Changed()
		if ds := w.d.List(f); ok(ds) {
			return ds
		}
		select {
		case <-changed:
		case <-time.After(time.Until(deadline)):
			w.t.Fatalf("deliveries %+v never reached the expected state: %+v", f, w.d.List(f))
		}
	}
}

// tried is all, once each has been attempted n times.
func tried(n int, s delivery.Status) func([]delivery.Delivery) bool {
	return func(ds []delivery.Delivery) bool {
		for _, d := range ds {
			if len(d.Attempts) != n {
				return false
			}
		}
		return all(len(ds), s)(ds) && len(ds) > 0
	}
}

func all(n int, s delivery.Status) func([]delivery.Delivery) bool {
	return func(ds []delivery.Delivery) bool {
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if d.Status != s {
				return false
			}
		}
		return true
	}
}

// event decodes a received event, checking it is a signed POST of JSON whose webhook-id is its id.
func event(t *testing.T, req *http.Request, body []byte, secret string, sent time.Time) delivery.Envelope {
	t.Helper()
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("event sent as %s (%s)", req.Method, req.Header.Get("Content-Type"))
	}
	at, err := delivery.Verify(secret, req.Header, body)
	if err != nil {
		t.Fatalf("signature of %s: %v", body, err)
	}
	if !at.Equal(sent) {
		t.Fatalf("webhook-timestamp %v, want the mock's clock %v", at, sent)
	}
	var e delivery.Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("webhook-id") != e.ID || !uuidRE.MatchString(e.ID) {
		t.Fatalf("event id %q, webhook-id %q: want one UUID", e.ID, req.Header.Get("webhook-id"))
	}
	if req.Header.Get("Authorization") != "" {
		t.Fatalf("an event carries the results callback's token: %v", req.Header)
	}
	return e
}

func TestEventsReachEveryWebhookOfTheClientSigned(t *testing.T) {
	w := newWorld(t, delivery.Config{})
	a, b, other, results := newReceiver(t, 200), newReceiver(t, 200), newReceiver(t, 200), newReceiver(t, 200)
	w.register("demo-client", "a", a.URL+"/hooks/a", secretA)
	w.register("demo-client", "b", b.URL+"/hooks/b", secretB)
	w.register("other-client", "a", other.URL, secretA)
	ref := w.create(results.URL, jobID)
	w.start(ref)
	w.waitFor(delivery.Filter{Kind: delivery.KindWebhook}, all(2, delivery.Delivered))
	w.update(ref, finish)
	w.waitFor(delivery.Filter{Kind: delivery.KindWebhook}, all(4, delivery.Delivered))
	w.waitFor(delivery.Filter{Kind: delivery.KindResults}, all(1, delivery.Delivered))

	ids := map[string]string{} // event type → id
	for _, rc := range []struct {
		rcv    *receiver
		secret string
	}{{a, secretA}, {b, secretB}} {
		var types []string
		for i := range 2 {
			req, body := rc.rcv.request(i)
			e := event(t, req, body, rc.secret, t0)
			types = append(types, e.Type)
			if e.Data.ReferenceID != ref {
				t.Fatalf("event about %q, want %q", e.Data.ReferenceID, ref)
			}
			if id, seen := ids[e.Type]; seen && id != e.ID {
				t.Fatalf("%s has id %s at one webhook and %s at another: one event, one id", e.Type, id, e.ID)
			}
			ids[e.Type] = e.ID
			want := ""
			if e.Type == delivery.EventStarted {
				want = "2026-11-28T12:00:00"
			}
			if e.Data.ApplicationStartDate != want {
				t.Fatalf("%s application_start_date = %q, want %q", e.Type, e.Data.ApplicationStartDate, want)
			}
		}
		if got, want := strings.Join(types, ","), "assessment_started,assessment_finished"; got != want {
			t.Fatalf("events in the order %s, want %s", got, want)
		}
	}
	if ids[delivery.EventStarted] == ids[delivery.EventFinished] {
		t.Fatal("two events with one id")
	}
	if n := other.counter.Load(); n != 0 {
		t.Fatalf("another client's webhook got %d events", n)
	}
	if req, _ := results.request(0); req.Method != http.MethodPut || req.Header.Get("webhook-signature") == "" {
		t.Fatalf("the results callback changed: %s %v", req.Method, req.Header) // still signed with the fixtures' secret
	}
	for _, dl := range w.d.List(delivery.Filter{Kind: delivery.KindWebhook, EventType: delivery.EventFinished}) {
		if dl.Method != http.MethodPost || dl.EventID != ids[delivery.EventFinished] || dl.Webhook == "" {
			t.Fatalf("logged as %+v", dl)
		}
	}
}

// An application completed without being opened started then too: both events go, in order, even
// to a slow webhook (the second waits for the first's attempt rather than overtaking it).
func TestCompletionFromInvitedSendsBothEventsInOrder(t *testing.T) {
	w := newWorld(t, delivery.Config{Workers: 8})
	rcv := newReceiver(t, 200)
	rcv.delay = 20 * time.Millisecond
	w.register("demo-client", "slow", rcv.URL, secretA)
	const apps = 5
	refs := map[string]bool{}
	for range apps {
		refs[w.complete(newReceiver(t, 200).URL)] = true
	}
	w.waitFor(delivery.Filter{Kind: delivery.KindWebhook}, all(2*apps, delivery.Delivered))
	seen := map[string][]string{}
	for i := range 2 * apps {
		req, body := rcv.request(i)
		e := event(t, req, body, secretA, t0)
		seen[e.Data.ReferenceID] = append(seen[e.Data.ReferenceID], e.Type)
	}
	for ref := range refs {
		if got := strings.Join(seen[ref], ","); got != "assessment_started,assessment_finished" {
			t.Fatalf("%s: events %s", ref, got)
		}
	}
}

func TestEventsRetryOnTheClockAndStopOnGone(t *testing.T) {
	w := newWorld(t, delivery.Config{Jitter: 0})
	flaky, gone := newReceiver(t, 500, 200), newReceiver(t, 410)
	w.register("demo-client", "flaky", flaky.URL, secretA)
	w.register("demo-client", "gone", gone.URL, secretB)
	ref := w.create("http://127.0.0.1:9/unused", jobID)
	w.start(ref)
	w.settle()
	ds := w.d.List(delivery.Filter{Kind: delivery.KindWebhook})
	if len(ds) != 2 || ds[0].Status != delivery.Pending || ds[1].Status != delivery.Failed || ds[1].Reason != delivery.ReasonGone {
		t.Fatalf("after the first attempts: %+v", ds)
	}
	if want := t0.Add(5 * time.Second); !ds[0].NextAttemptAt.Equal(want) {
		t.Fatalf("retry at %v, want %v", ds[0].NextAttemptAt, want)
	}
	w.clock.Advance(4 * time.Second)
	w.settle()
	if n := flaky.counter.Load(); n != 1 {
		t.Fatalf("%d attempts before the retry was due", n)
	}
	w.clock.Advance(time.Second)
	w.settle()
	w.waitFor(delivery.Filter{Kind: delivery.KindWebhook, Status: delivery.Delivered}, func(ds []delivery.Delivery) bool { return len(ds) == 1 })
	first, body1 := flaky.request(0)
	second, body2 := flaky.request(1)
	if first.Header.Get("webhook-id") != second.Header.Get("webhook-id") || string(body1) != string(body2) || second.Header.Get(delivery.HeaderAttempt) != "2" {
		t.Fatalf("a retry is the same event: %v %s, then %v %s", first.Header, body1, second.Header, body2)
	}
	if n := gone.counter.Load(); n != 1 {
		t.Fatalf("the webhook answering 410 got %d attempts", n)
	}
}

func TestDeletingAWebhookCancelsWhatIsPendingForIt(t *testing.T) {
	w := newWorld(t, delivery.Config{Jitter: 0})
	rcv := newReceiver(t, 500)
	w.register("demo-client", "ats", rcv.URL, secretA)
	ref := w.create("http://127.0.0.1:9/unused", jobID)
	w.start(ref)
	ds := w.waitFor(delivery.Filter{Kind: delivery.KindWebhook}, tried(1, delivery.Pending))
	if gone, err := w.d.DeleteWebhooks("demo-client", "ats"); err != nil || len(gone) != 1 {
		t.Fatalf("DeleteWebhooks = %v, %v", gone, err)
	}
	dl, _ := w.d.Get(ds[0].ID)
	if dl.Status != delivery.Cancelled || dl.Reason != "webhook deleted" || dl.NextAttemptAt != nil {
		t.Fatalf("after deleting its webhook: %+v", dl)
	}
	w.clock.Advance(time.Hour)
	w.settle()
	if n := rcv.counter.Load(); n != 1 {
		t.Fatalf("the deleted webhook got %d attempts", n)
	}
	if _, err := w.d.Redeliver(dl.ID); !apierr.Is(err, apierr.Conflict) || !strings.Contains(err.Error(), "deleted") {
		t.Fatalf("redelivering to a deleted webhook = %v", err)
	}
}

func TestUpdatingAWebhookRetargetsWhatIsPending(t *testing.T) {
	w := newWorld(t, delivery.Config{Jitter: 0})
	old, moved := newReceiver(t, 500), newReceiver(t, 200)
	w.register("demo-client", "ats", old.URL, secretA)
	ref := w.create("http://127.0.0.1:9/unused", jobID)
	w.start(ref)
	w.waitFor(delivery.Filter{Kind: delivery.KindWebhook}, tried(1, delivery.Pending))
	h, created, err := w.d.PutWebhook(domain.Webhook{ClientID: "demo-client", Label: "ats", URL: moved.URL, Secret: secretB}, "")
	if err != nil || created {
		t.Fatalf("updating: %v, created %v", err, created)
	}
	w.clock.Advance(5 * time.Second)
	w.settle()
	ds := w.waitFor(delivery.Filter{Kind: delivery.KindWebhook}, all(1, delivery.Delivered))
	req, body := moved.request(0)
	event(t, req, body, secretB, t0.Add(5*time.Second))
	if ds[0].URL != moved.URL {
		t.Fatalf("the log says it went to %s", ds[0].URL)
	}
	// Redelivery goes where the webhook points now, signed with its secret now.
	third := newReceiver(t, 200)
	h.URL, h.Secret = third.URL, secretA
	if _, _, err := w.d.PutWebhook(h, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.d.Redeliver(ds[0].ID); err != nil {
		t.Fatal(err)
	}
	w.waitFor(delivery.Filter{Kind: delivery.KindWebhook}, all(1, delivery.Delivered))
	w.settle()
	req, body = third.request(0)
	event(t, req, body, secretA, t0.Add(5*time.Second))
}

func TestAnAnonymizedApplicationGetsNoMoreEvents(t *testing.T) {
	w := newWorld(t, delivery.Config{Jitter: 0})
	rcv := newReceiver(t, 200, 500)
	w.register("demo-client", "ats", rcv.URL, secretA)
	ref := w.create("http://127.0.0.1:9/unused", jobID)
	w.start(ref)
	started := w.waitFor(delivery.Filter{Kind: delivery.KindWebhook}, all(1, delivery.Delivered))[0]
	w.update(ref, finish)
	finished := w.waitFor(delivery.Filter{Kind: delivery.KindWebhook, EventType: delivery.EventFinished}, tried(1, delivery.Pending))[0]
	w.update(ref, lc.Anonymize)
	if dl, _ := w.d.Get(finished.ID); dl.Status != delivery.Cancelled || string(dl.Payload) != "{}" {
		t.Fatalf("the pending event after anonymizing: %+v", dl)
	}
	for _, id := range []string{started.ID, finished.ID} {
		if _, err := w.d.Redeliver(id); !apierr.Is(err, apierr.Conflict) || !strings.Contains(err.Error(), "anonymized") {
			t.Fatalf("redelivering %s of an anonymized application = %v", id, err)
		}
	}
	// No event of it can be sent again: the domain refuses it, under the store's lock.
	if id, err := w.resend(ref, delivery.EventStarted); !apierr.Is(err, apierr.Conflict) || id != "" {
		t.Fatalf("an event sent again for an anonymized application: %q, %v", id, err)
	}
	if n := len(w.d.List(delivery.Filter{ReferenceID: ref})); n != 3 {
		t.Fatalf("%d deliveries, want the 3 made before anonymizing (started, finished, results)", n)
	}
	w.clock.Advance(time.Hour)
	w.settle()
	if n := rcv.counter.Load(); n != 2 {
		t.Fatalf("the webhook got %d attempts, want the two made before anonymizing", n)
	}
}

func TestAResentEventGoesNow(t *testing.T) {
	w := newWorld(t, delivery.Config{})
	rcv := newReceiver(t, 200)
	ref := w.create("http://127.0.0.1:9/unused", jobID)
	w.start(ref)
	if id, err := w.resend(ref, delivery.EventStarted); err != nil || id != "" {
		t.Fatalf("sending again without a webhook = %q, %v", id, err)
	}
	w.register("demo-client", "ats", rcv.URL, secretA)
	id, err := w.resend(ref, delivery.EventStarted)
	if err != nil || !uuidRE.MatchString(id) {
		t.Fatalf("resend = %q, %v", id, err)
	}
	w.waitFor(delivery.Filter{EventID: id}, all(1, delivery.Delivered))
	req, body := rcv.request(0)
	if e := event(t, req, body, secretA, t0); e.ID != id || e.Type != delivery.EventStarted {
		t.Fatalf("sent %+v", e)
	}
	if n := len(w.d.List(delivery.Filter{Kind: delivery.KindResults})); n != 0 {
		t.Fatalf("%d results deliveries for a resent event", n)
	}
}

func TestEventIDsAreReproducible(t *testing.T) {
	ids := func(seed uint64) []string {
		w := newWorld(t, delivery.Config{Seed: seed})
		w.register("demo-client", "ats", newReceiver(t, 200).URL, secretA)
		for range 3 {
			w.complete("http://127.0.0.1:9/unused")
		}
		var out []string
		for _, dl := range w.waitFor(delivery.Filter{Kind: delivery.KindWebhook}, func(ds []delivery.Delivery) bool { return len(ds) == 6 }) {
			out = append(out, dl.EventID)
		}
		return out
	}
	a, b, c := ids(3), ids(3), ids(4)
	if strings.Join(a, " ") != strings.Join(b, " ") {
		t.Fatalf("one seed, other ids: %v, then %v", a, b)
	}
	seen := map[string]bool{}
	for i := range a {
		if seen[a[i]] || a[i] == c[i] {
			t.Fatalf("ids repeat, or another seed gave the same: %v, %v", a, c)
		}
		seen[a[i]] = true
	}
}

func TestVerify(t *testing.T) {
	// Standard Webhooks' reference example, as TestSignKnownVector signs it.
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		sig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	body := []byte(`{"test": 2432232314}`)
	header := func(id, ts, sigs string) http.Header {
		return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sigs}}
	}
	tests := map[string]struct {
		h      http.Header
		body   []byte
		secret string
		want   string // "" for valid
	}{
		"the reference vector":          {header("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig), body, secret, ""},
		"one of several signatures":     {header("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,Zm9v "+sig), body, secret, ""},
		"a changed body":                {header("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig), []byte(`{"test": 2432232315}`), secret, "no webhook-signature matches"},
		"another id":                    {header("msg_other", "1614265330", sig), body, secret, "no webhook-signature matches"},
		"another timestamp":             {header("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265331", sig), body, secret, "no webhook-signature matches"},
		"another secret":                {header("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig), body, secretB, "no webhook-signature matches"},
		"no signature":                  {header("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", ""), body, secret, "missing"},
		"a timestamp that is no number": {header("msg_p5jXN8AQM9LWM0D4loKWxJek", "soon", sig), body, secret, "not a Unix time"},
		"a secret that is not whsec_":   {header("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig), body, "whsec_!!", "not whsec_<base64>"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			at, err := delivery.Verify(tc.secret, tc.h, tc.body)
			if tc.want == "" {
				if err != nil || !at.Equal(time.Unix(1614265330, 0)) {
					t.Fatalf("Verify = %v, %v", at, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// Webhooks and their deliveries survive a restart: a pending event resumes, signed with the
// webhook's secret then, with its id; the secret never shows in the log.
func TestWebhookDeliveriesSurviveARestart(t *testing.T) {
	rcv := newReceiver(t, 500, 200)
	w := newWorld(t, delivery.Config{Jitter: 0}, onDisk(t.TempDir()))
	w.register("demo-client", "ats", rcv.URL, secretA)
	ref := w.create("http://127.0.0.1:9/unused", jobID)
	w.start(ref)
	dl := w.waitFor(delivery.Filter{Kind: delivery.KindWebhook}, tried(1, delivery.Pending))[0]
	w.settle()
	if b, _ := json.Marshal(dl); strings.Contains(string(b), secretA) {
		t.Fatalf("the log shows the secret: %s", b)
	}
	w.restart()
	if hooks := w.d.Webhooks("demo-client"); len(hooks) != 1 || hooks[0].Secret != secretA || hooks[0].URL != rcv.URL {
		t.Fatalf("webhooks after a restart: %+v", hooks)
	}
	w.clock.Advance(5 * time.Second)
	w.settle()
	w.waitFor(delivery.Filter{Kind: delivery.KindWebhook}, all(1, delivery.Delivered))
	req, body := rcv.request(1)
	if e := event(t, req, body, secretA, t0.Add(5*time.Second)); e.ID != dl.EventID {
		t.Fatalf("resumed event %s, want %s", e.ID, dl.EventID)
	}
	if _, err := w.d.DeleteWebhooks("demo-client", "ats"); err != nil {
		t.Fatal(err)
	}
	w.restart()
	if hooks := w.d.Webhooks(""); len(hooks) != 0 {
		t.Fatalf("a deleted webhook came back: %+v", hooks)
	}
}

func TestWebhookLimitAndSecrets(t *testing.T) {
	w := newWorld(t, delivery.Config{})
	for i := range domain.MaxWebhooks {
		if _, created, err := w.d.PutWebhook(domain.Webhook{ClientID: "demo-client", Label: fmt.Sprint("h", i), URL: "http://x.example"}, secretA); err != nil || !created {
			t.Fatalf("webhook %d: %v, created %v", i, err, created)
		}
	}
	if _, _, err := w.d.PutWebhook(domain.Webhook{ClientID: "demo-client", Label: "one-more", URL: "http://x.example"}, secretA); !apierr.Is(err, apierr.Conflict) {
		t.Fatalf("one more than the limit: %v", err)
	}
	// An update without a secret keeps it; another client is not limited by this one.
	h, created, err := w.d.PutWebhook(domain.Webhook{ClientID: "demo-client", Label: "h0", URL: "http://y.example"}, secretB)
	if err != nil || created || h.Secret != secretA || h.URL != "http://y.example" {
		t.Fatalf("update: %+v, %v, %v", h, created, err)
	}
	if _, _, err := w.d.PutWebhook(domain.Webhook{ClientID: "other-client", Label: "h0", URL: "http://x.example"}, secretB); err != nil {
		t.Fatal(err)
	}
	if _, err := w.d.DeleteWebhooks("demo-client", "nope"); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("deleting an unknown label: %v", err)
	}
	gone, err := w.d.DeleteWebhooks("demo-client", "")
	if err != nil || len(gone) != domain.MaxWebhooks || len(w.d.Webhooks("")) != 1 {
		t.Fatalf("deleting all of a client's: %d gone, %v; %d left", len(gone), err, len(w.d.Webhooks("")))
	}
}
