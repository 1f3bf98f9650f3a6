package contract

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	signature "github.com/equalture/equalture-mock/internal/delivery"
	callback "github.com/equalture/equalture-mock/internal/receiver"
)

// webhookPrefix starts the label of every webhook the suite registers: it deletes them when its
// spec ends, and never deletes a webhook without it.
const webhookPrefix = "contract-"

// webhookLabel is a label of the suite's, unique to this process and spec.
func webhookLabel() string {
	return fmt.Sprintf("%s%d-%d-%d", webhookPrefix, time.Now().Unix(), GinkgoParallelProcess(), seq.Add(1))
}

// newWebhookSecret is a Standard Webhooks secret of the suite's own.
func newWebhookSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// registerWebhook registers the client's webhook label at url (with secret, when not empty) and
// deletes it when the spec ends, with a token of the moment (a real completion can take longer
// than one lives).
func registerWebhook(tok, label, url, secret string) Response {
	GinkgoHelper()
	body := map[string]string{"url": url}
	if secret != "" {
		body["secret"] = secret
	}
	r := call(http.MethodPut, "/connect_ats/webhooks/"+label, string(mustJSON(body)), Bearer(tok))
	expectStatus(r, http.StatusCreated)
	DeferCleanup(func() {
		r := call(http.MethodDelete, "/connect_ats/webhooks/"+label, "", Bearer(token()))
		Expect(r.Status).To(BeElementOf(http.StatusOK, http.StatusNotFound), "deleting the suite's webhook %s: %s", label, r)
	})
	return r
}

// webhookEntry is a webhook as the list answers it.
type webhookEntry struct {
	Label      string `json:"label"`
	URL        string `json:"url"`
	Secret     string `json:"secret"`
	SecretHint string `json:"secret_hint"`
}

func listWebhooks(tok string) ([]webhookEntry, Response) {
	GinkgoHelper()
	r := call(http.MethodGet, "/connect_ats/webhooks", "", Bearer(tok))
	expectStatus(r, http.StatusOK)
	var list []webhookEntry
	Expect(json.Unmarshal(r.Body, &list)).To(Succeed(), "%s", r)
	return list, r
}

func labels(list []webhookEntry) []string {
	out := make([]string, len(list))
	for i, w := range list {
		out[i] = w.Label
	}
	return out
}

// awaitEvents waits for n events about application ref at path (other applications' events may
// come there too: every webhook of the client gets them) and fails the spec if one breaks the
// contract or, with the path's secret set, does not verify.
func awaitEvents(path, ref string, n int) []callback.Callback {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Parsed.CallbackTimeout)
	defer cancel()
	got, err := receiver.WaitMatch(ctx, path, n, func(cb callback.Callback) bool { return cb.Envelope().Data.ReferenceID == ref })
	Expect(err).NotTo(HaveOccurred(), "waiting %s for %d event(s) about %s at %s (EQUALTURE_CONTRACT_CALLBACK_TIMEOUT), got %d",
		cfg.Parsed.CallbackTimeout, n, ref, receiver.URL+path, len(got))
	for i, cb := range got {
		Expect(cb.Violation).To(BeEmpty(), "event %d to %s: %s", i+1, path, described(cb))
	}
	return got
}

var _ = Describe("Webhooks", Label("webhook", "destructive"), func() {
	var tok string
	BeforeEach(func() {
		requireSetup()
		tok = token()
	})

	It("registers one, generating its secret once, lists it without the secret, updates and deletes it", func() {
		label := webhookLabel()
		url := receiver.URL + callbackPath("webhook")
		r := registerWebhook(tok, label, url, "")
		expectField(r, "label", Equal(label))
		expectField(r, "secret", WithTransform(func(v any) string { s, _ := v.(string); return s }, HavePrefix("whsec_")))
		secret := r.Field("secret")

		list, raw := listWebhooks(tok)
		Expect(labels(list)).To(ContainElement(label), "the client's webhooks: %s", raw)
		Expect(string(raw.Body)).NotTo(ContainSubstring(secret), "the list shows a secret in full: %s", raw)
		var hint string
		for _, w := range list {
			if w.Label == label {
				Expect(w.URL).To(Equal(url), "url of webhook %s in %s", label, raw)
				hint = w.SecretHint
			}
		}

		moved := url + "/moved"
		r = call(http.MethodPut, "/connect_ats/webhooks/"+label, string(mustJSON(map[string]string{"url": moved})), Bearer(tok))
		expectStatus(r, http.StatusOK)
		expectField(r, "url", Equal(moved))
		expectField(r, "secret", BeNil())
		expectField(r, "secret_hint", Equal(hint))

		r = call(http.MethodDelete, "/connect_ats/webhooks/"+label, "", Bearer(tok))
		expectStatus(r, http.StatusOK)
		expectField(r, "deleted", ContainElement(label))
		list, raw = listWebhooks(tok)
		Expect(labels(list)).NotTo(ContainElement(label), "the client's webhooks after deleting %s: %s", label, raw)
		expectStatus(call(http.MethodDelete, "/connect_ats/webhooks/"+label, "", Bearer(tok)), http.StatusNotFound)
	})

	// Serial: under -p it would delete the webhooks of specs running in other processes.
	It("deletes all of the client's webhooks at once", Serial, func() {
		list, raw := listWebhooks(tok)
		for _, w := range list {
			if !strings.HasPrefix(w.Label, webhookPrefix) {
				Skip(fmt.Sprintf("the client has webhooks the suite did not register (%s): DELETE /connect_ats/webhooks would remove them: %s", w.Label, raw))
			}
		}
		a, b := webhookLabel(), webhookLabel()
		registerWebhook(tok, a, receiver.URL+callbackPath("webhook"), newWebhookSecret())
		registerWebhook(tok, b, receiver.URL+callbackPath("webhook"), "")
		r := call(http.MethodDelete, "/connect_ats/webhooks", "", Bearer(tok))
		expectStatus(r, http.StatusOK)
		expectField(r, "deleted", And(ContainElement(a), ContainElement(b)))
		list, raw = listWebhooks(tok)
		Expect(list).To(BeEmpty(), "the client's webhooks after deleting them all: %s", raw)
	})

	DescribeTable("refuses an invalid registration, naming the field",
		func(body string, field string) {
			label := webhookLabel()
			r := call(http.MethodPut, "/connect_ats/webhooks/"+label, body, Bearer(tok))
			expectStatus(r, http.StatusUnprocessableEntity)
			expectErrors(r, field)
			list, raw := listWebhooks(tok)
			Expect(labels(list)).NotTo(ContainElement(label), "a webhook was registered from an invalid request: %s", raw)
		},
		Entry("an ftp url", `{"url":"ftp://ats.example.com/events"}`, "url"),
		Entry("no url", `{"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`, "url"),
		Entry("a secret that is not whsec_", `{"url":"https://ats.example.com/events","secret":"hunter2"}`, "secret"),
	)

	It("keeps tenants apart: another client neither sees nor deletes the client's webhooks, nor gets its events", func() {
		if cfg.Client2ID == "" {
			Skip("needs a second client: set EQUALTURE_CONTRACT_CLIENT2_ID and _SECRET")
		}
		label := webhookLabel()
		path := callbackPath("webhook")
		secret := newWebhookSecret()
		registerWebhook(tok, label, receiver.URL+path, secret)
		receiver.SetSecret(path, secret)
		other := token2()
		r := call(http.MethodGet, "/connect_ats/webhooks", "", Bearer(other))
		expectStatus(r, http.StatusOK)
		Expect(string(r.Body)).NotTo(ContainSubstring(label), "another client's webhooks: %s", r)
		expectStatus(call(http.MethodDelete, "/connect_ats/webhooks/"+label, "", Bearer(other)), http.StatusNotFound)
		list, raw := listWebhooks(tok)
		Expect(labels(list)).To(ContainElement(label), "the client's webhooks after another client tried to delete %s: %s", label, raw)

		if ctl == nil {
			return // events need a completion only the mock's control API drives on demand
		}
		requireJob()
		otherLabel, otherPath := webhookLabel(), callbackPath("webhook-other")
		r = call(http.MethodPut, "/connect_ats/webhooks/"+otherLabel, string(mustJSON(map[string]string{"url": receiver.URL + otherPath})), Bearer(other))
		expectStatus(r, http.StatusCreated)
		DeferCleanup(func() { call(http.MethodDelete, "/connect_ats/webhooks/"+otherLabel, "", Bearer(token2())) })
		ref := create(tok, "email", callbackPath("webhook-results"))
		control(http.MethodPost, "/applications/"+ref+"/complete", "")
		awaitEvents(path, ref, 2)
		Expect(control(http.MethodGet, "/settle?wait=10s", "")["settled"]).To(BeTrue(), "the mock settles")
		for _, cb := range receiver.Received(otherPath) {
			Expect(cb.Envelope().Data.ReferenceID).NotTo(Equal(ref), "another client's webhook got an event about %s: %s", ref, described(cb))
		}
	})
})

// Against the mock the control API starts and completes the application; against the real
// service a person (or a bot of yours) opens and completes the assessment within
// EQUALTURE_CONTRACT_CALLBACK_TIMEOUT, and the service must reach the receiver
// (EQUALTURE_CONTRACT_RECEIVER_URL).
var _ = Describe("Webhook events", Label("webhook", "destructive"), func() {
	It("POSTs assessment_started, then assessment_finished, signed with the webhook's secret", func() {
		requireJob()
		if ctl == nil && cfg.ReceiverURL == "" {
			Skip("needs a receiver the target can reach: set EQUALTURE_CONTRACT_RECEIVER_URL (a tunnel or a CI service URL in front of EQUALTURE_CONTRACT_RECEIVER_ADDR)")
		}
		tok := token()
		path := callbackPath("webhook")
		secret := newWebhookSecret()
		registerWebhook(tok, webhookLabel(), receiver.URL+path, secret)
		receiver.SetSecret(path, secret)
		r := call(http.MethodPost, "/connect_ats/applications", applicant("one_time_link", receiver.URL+callbackPath("webhook-results")), Bearer(tok))
		expectStatus(r, http.StatusCreated)
		ref := r.Field("reference_id")
		now := time.Now
		if ctl != nil {
			control(http.MethodPost, "/applications/"+ref+"/start", "")
			control(http.MethodPost, "/applications/"+ref+"/complete", "")
			var clock struct{ Now time.Time }
			Expect(json.Unmarshal(mustJSON(control(http.MethodGet, "/clock", "")), &clock)).To(Succeed())
			now = func() time.Time { return clock.Now } // the events' timestamps are on the mock's clock
		} else {
			AddReportEntry("assessment to complete", r.Field("assessment_url"))
			GinkgoWriter.Printf("Open and complete the assessment of application %s within %s: %s\n", ref, cfg.Parsed.CallbackTimeout, r.Field("assessment_url"))
		}
		got := awaitEvents(path, ref, 2)
		for i, want := range []string{"assessment_started", "assessment_finished"} {
			cb := got[i]
			Expect(cb.Method).To(Equal(http.MethodPost), "the method of the %s", described(cb))
			Expect(cb.Event).To(Equal(want), "event %d about %s: %s", i+1, ref, described(cb))
			at, err := signature.Verify(secret, cb.Header, cb.Body)
			Expect(err).NotTo(HaveOccurred(), "the signature of the %s", described(cb))
			Expect(at).To(BeTemporally("~", now(), 5*time.Minute), "webhook-timestamp of the %s", described(cb))
			Expect(cb.Header.Get("webhook-id")).To(Equal(cb.Envelope().ID), "webhook-id and the id of the %s", described(cb))
		}
		Expect(got[0].Envelope().ID).NotTo(Equal(got[1].Envelope().ID), "two events with one id: %s and %s", described(got[0]), described(got[1]))
	})
})
