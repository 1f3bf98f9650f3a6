package app_test

import (
	"bytes"
	"context"
	"html"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/redact"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// A tenant cannot make the mock call itself: a webhook or callback_url at the mock's own control
// API is refused with a 422 naming the rule, and starting and completing the tenant's application
// then changes nothing else — every tenant's state is still there.
func TestDeliveriesNeverReachTheMockItself(t *testing.T) {
	h := testenv.New(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(h.URL, "http://"))
	victim := h.Token(testenv.OtherID, testenv.OtherSecret)
	theirs, _ := h.Create(victim, testenv.OtherJob, "one_time_link")
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	ref, _ := h.Create(tok, testenv.EngineerJob, "one_time_link")

	for _, target := range []string{
		h.URL + "/_mock/reset",
		"http://localhost:" + port + "/_mock/tokens/expire",
		"http://0.0.0.0:" + port + "/_mock/reset",
		"http://[::ffff:127.0.0.1]:" + port + "/_mock/reset",
	} {
		r := h.Do(http.MethodPut, "/connect_ats/webhooks/evil", `{"url":"`+target+`"}`, testenv.Bearer(tok))
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("webhook at %s: %d %s, want 422", target, r.Status, r.Body)
			continue
		}
		if m := r.ErrorField(t, "url"); len(m) != 1 || !strings.Contains(m[0], "is the mock itself") {
			t.Errorf("webhook at %s: url error %q, want one naming the rule", target, m)
		}
	}
	body := strings.Replace(testenv.CreateBody(testenv.EngineerJob, "one_time_link"), testenv.CallbackURL, h.URL+"/_mock/reset", 1)
	r := h.Do(http.MethodPost, "/connect_ats/applications", body, testenv.Bearer(tok))
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("callback_url at /_mock/reset: %d %s, want 422", r.Status, r.Body)
	} else if m := r.ErrorField(t, "callback_url"); len(m) != 1 || !strings.Contains(m[0], "is the mock itself") {
		t.Errorf("callback_url error %q, want one naming the rule", m)
	}

	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+ref+"/start", ""), 200)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+ref+"/complete", ""), 200)
	testenv.Settle(t, h.App)
	for _, d := range h.App.Service.Deliveries(delivery.Filter{}) {
		if d.Kind == delivery.KindWebhook {
			t.Errorf("an event was sent to %s", d.URL)
		}
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/applications/"+theirs+"/status", "", testenv.Bearer(victim)), 200)
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/applications/"+ref+"/status", "", testenv.Bearer(tok)), 200)
}

// names plays DNS for the mock's deliveries: each name resolves to the addresses given.
func names(m map[string]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		if a, ok := m[host]; ok {
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
}

// A name that resolves to the mock only when the delivery dials (DNS rebinding) is refused then:
// the attempt says "refused" and names the rule, and nothing reaches the control API.
func TestDeliveriesRefusedWhenANameResolvesToTheMock(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) { o.Egress.Resolve = names(map[string]string{"rebind.example": "127.0.0.1"}) })
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(h.URL, "http://"))
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	testenv.WantStatus(t, h.Do(http.MethodPut, "/connect_ats/webhooks/ats", `{"url":"http://rebind.example:`+port+`/_mock/reset"}`, testenv.Bearer(tok)), 201)
	body := strings.Replace(testenv.CreateBody(testenv.EngineerJob, "one_time_link"), testenv.CallbackURL, "http://rebind.example:"+port+"/_mock/tokens/expire", 1)
	r := h.Do(http.MethodPost, "/connect_ats/applications", body, testenv.Bearer(tok))
	testenv.WantStatus(t, r, 201)
	ref, _ := r.JSON(t)["reference_id"].(string)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+ref+"/complete", ""), 200)
	testenv.Settle(t, h.App)
	ds := h.App.Service.Deliveries(delivery.Filter{ReferenceID: ref})
	if len(ds) != 3 { // assessment_started, assessment_finished, the results
		t.Fatalf("deliveries = %+v, want 3", ds)
	}
	for _, d := range ds {
		// assessment_finished waits for assessment_started, refused and waiting for its retry:
		// the events of one application reach one webhook in order.
		want := 1
		if d.EventType == delivery.EventFinished {
			want = 0
		}
		if len(d.Attempts) != want || want == 1 && !strings.HasPrefix(d.Attempts[0].Error, "refused: rebind.example is the mock itself") {
			t.Errorf("delivery %s to %s: attempts %+v, want %d refused", d.ID, d.URL, d.Attempts, want)
		}
	}
	// Nothing reached the control API: the token still works, the application is still there.
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/applications/"+ref+"/status", "", testenv.Bearer(tok)), 200)
}

// With --callback-allow-hosts (a shared deployment), a name matched by a wildcard must resolve to a
// public address, a name the list gives exactly may be anywhere, and an attempt's error tells
// nothing about the network ("failed", not the dial error).
func TestAllowListKeepsDeliveriesOffPrivateAddresses(t *testing.T) {
	rcv := startReceiver(t)
	_, rport, _ := net.SplitHostPort(rcv.Addr())
	closed := closedPort(t)
	h := testenv.New(t, func(o *app.Options) {
		o.Egress.AllowHosts = []string{"*.example.com", "ats.internal"}
		o.Egress.Resolve = names(map[string]string{"hooks.example.com": "127.0.0.1", "ats.internal": "127.0.0.1"})
	})
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	create := func(callbackURL string) string {
		body := strings.Replace(testenv.CreateBody(testenv.EngineerJob, "one_time_link"), testenv.CallbackURL, callbackURL, 1)
		r := h.Do(http.MethodPost, "/connect_ats/applications", body, testenv.Bearer(tok))
		testenv.WantStatus(t, r, 201)
		ref, _ := r.JSON(t)["reference_id"].(string)
		testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+ref+"/complete", ""), 200)
		return ref
	}
	wildcard := create("http://hooks.example.com:" + rport + "/cb")
	exact := create("http://ats.internal:" + rport + "/cb")
	down := create("http://ats.internal:" + closed + "/cb")
	testenv.Settle(t, h.App)
	attempt := func(ref string) delivery.Attempt {
		ds := h.App.Service.Deliveries(delivery.Filter{ReferenceID: ref, Kind: delivery.KindResults})
		if len(ds) != 1 || len(ds[0].Attempts) != 1 {
			t.Fatalf("deliveries of %s = %+v", ref, ds)
		}
		return ds[0].Attempts[0]
	}
	if a := attempt(wildcard); !strings.HasPrefix(a.Error, "refused: hooks.example.com resolves to a non-public address") {
		t.Errorf("a wildcard name on loopback: %+v, want refused", a)
	}
	if a := attempt(exact); a.Error != "" || a.StatusCode != 200 {
		t.Errorf("a name listed exactly: %+v, want delivered", a)
	}
	if a := attempt(down); a.Error != "failed: the receiver could not be reached (the mock's log has the details)" {
		t.Errorf("a listed receiver that is down: %+v, want a bare failure", a)
	}
}

// startReceiver runs a callback receiver on a loopback port.
func startReceiver(t *testing.T) *receiver.Receiver {
	t.Helper()
	sp, err := spec.Vendor()
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := receiver.New("127.0.0.1:0", "", sp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rcv.Close() })
	return rcv
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// withCallbackToken writes the embedded fixtures with a callback token for the demo client into a
// directory and returns it.
func withCallbackToken(t *testing.T, token string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"clients.yaml", "traits.yaml"} {
		b, err := fs.ReadFile(assets.Fixtures(), name)
		if err != nil {
			t.Fatal(err)
		}
		if name == "clients.yaml" {
			b = []byte(strings.Replace(string(b), "    name: Demo ATS\n", "    name: Demo ATS\n    callback_token: "+token+"\n", 1))
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Every secret-bearing operation, then every read-out: the journal (JSON, and the console's),
// the snapshot and the other lists, the log. None holds a webhook secret, an access token, a
// callback token, the admin token or a Basic password in full; the journal shows hints.
func TestNoSecretInAnyReadOut(t *testing.T) {
	const (
		admin         = "admin-0123456789-abcdefgh"
		callbackToken = "cbtok-0123456789-abcdefgh"
		ownSecret     = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA="
		refusedSecret = "whsec_ZZZZ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA="
	)
	logs := &syncWriter{}
	rcv := startReceiver(t)
	h := testenv.New(t, func(o *app.Options) {
		o.AdminToken = admin
		o.FixturesDir = withCallbackToken(t, callbackToken)
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctl := testenv.Bearer(admin)
	secrets := []string{admin, callbackToken, ownSecret, refusedSecret, testenv.DemoSecret, testenv.OtherSecret, "demo-secret-guess"}

	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	legacy := h.Do(http.MethodGet, "/connect_ats/access_token", "", testenv.Basic(testenv.DemoID, testenv.DemoSecret))
	testenv.WantStatus(t, legacy, 200)
	other := h.Token(testenv.OtherID, testenv.OtherSecret)
	secrets = append(secrets, tok, other, legacy.JSON(t)["access_token"].(string))
	testenv.WantStatus(t, h.Do(http.MethodPost, "/connect_ats/access_token", "", testenv.Basic(testenv.DemoID, "demo-secret-guess")), 401)
	testenv.WantStatus(t, h.Do(http.MethodGet, "/connect_ats/jobs?access_token="+tok, "", testenv.Bearer(tok)), 200)

	testenv.WantStatus(t, h.Do(http.MethodPut, "/connect_ats/webhooks/own", `{"url":"`+rcv.URL+`/own","secret":"`+ownSecret+`"}`, testenv.Bearer(tok)), 201)
	gen := h.Do(http.MethodPut, "/connect_ats/webhooks/generated", `{"url":"`+rcv.URL+`/generated"}`, testenv.Bearer(tok))
	testenv.WantStatus(t, gen, 201)
	generated, _ := gen.JSON(t)["secret"].(string)
	secrets = append(secrets, generated)
	testenv.WantStatus(t, h.Do(http.MethodPut, "/connect_ats/webhooks/refused", `{"url":"ftp://x","secret":"`+refusedSecret+`"}`, testenv.Bearer(tok)), 422)

	body := strings.Replace(testenv.CreateBody(testenv.EngineerJob, "one_time_link"), testenv.CallbackURL, rcv.URL+"/results", 1)
	created := h.Do(http.MethodPost, "/connect_ats/applications", body, testenv.Bearer(tok))
	testenv.WantStatus(t, created, 201)
	ref, _ := created.JSON(t)["reference_id"].(string)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+ref+"/complete", "", ctl), 200)
	testenv.Settle(t, h.App)
	if got := rcv.Received("/results"); len(got) != 1 || got[0].Header.Get("Authorization") != "Bearer "+callbackToken {
		t.Fatalf("the results callback did not carry the callback token: %+v", got)
	}

	b := testenv.NewBrowser(t, h.URL)
	form := b.Get("/_mock/ui/sign_in")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form.Body)
	if m == nil {
		t.Fatalf("no sign-in form: %s", form.Body)
	}
	if p := b.Post("/_mock/ui/sign_in", url.Values{"csrf": {m[1]}, "token": {admin}}); p.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", p.Status, p.Body)
	}

	readOuts := map[string]string{"log": logs.String()}
	for _, path := range []string{"/_mock/journal?limit=1000", "/_mock/journal?operation_id=registerWebhook", "/_mock/snapshot",
		"/_mock/callbacks", "/_mock/webhooks", "/_mock/applications", "/_mock/outbox"} {
		r := h.Do(http.MethodGet, path, "", ctl)
		testenv.WantStatus(t, r, 200)
		readOuts[path] = string(r.Body)
	}
	for path, says := range map[string]string{"/_mock/ui": ref[:8], "/_mock/ui/journal": "createAccessToken",
		"/_mock/ui/webhooks": "generated", "/_mock/ui/callbacks": ref[:8], "/_mock/ui/outbox": ""} {
		page := b.Get(path)
		testenv.WantPage(t, page, 200, says)
		readOuts["console "+path] = html.UnescapeString(page.Body)
	}
	for name, text := range readOuts {
		for _, s := range secrets {
			if strings.Contains(text, s[:min(len(s), 24)]) { // not even the start of one
				t.Errorf("%s holds the secret %q", name, s)
			}
		}
	}
	for _, hint := range []string{"whsec_MfKQ…", "whsec_ZZZZ…", redact.Hint(tok), redact.Hint(generated)} {
		if !strings.Contains(readOuts["/_mock/journal?limit=1000"], hint) {
			t.Errorf("the journal lacks the hint %q", hint)
		}
	}
}

// syncWriter is a log written from several goroutines (callback workers log as they finish).
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Anonymizing erases every journal entry carrying the applicant's data — the creation that
// succeeded, and those answered 429, 422 or 500 before it, which never named the reference — and
// keeps everyone else's.
func TestAnonymizeErasesFailedCreationsFromTheJournal(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	applicant := func(first, last, email, job string) string {
		return `{"job_id":"` + job + `","callback_url":"` + testenv.CallbackURL + `","invitation_type":"one_time_link",` +
			`"applicant_details":{"first_name":"` + first + `","last_name":"` + last + `","email":"` + email + `"}}`
	}
	ada := applicant("Ada", "Lovelace", "ada@example.com", testenv.EngineerJob)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/faults", `{"method":"POST","path":"/connect_ats/applications","status":429,"headers":{"Retry-After":"1"},"times":1}`), 201)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/connect_ats/applications", ada, testenv.Bearer(tok)), 429)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/connect_ats/applications", applicant("Ada", "Lovelace", "ada@example.com", testenv.UnknownUUID), testenv.Bearer(tok)), 422)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/connect_ats/applications", ada, testenv.Bearer(tok), testenv.Header("Prefer", "code=500")), 500)
	// The same person under another email, her email in another case: hers too.
	testenv.WantStatus(t, h.Do(http.MethodPost, "/connect_ats/applications", applicant("Ada", "Lovelace", "countess@example.com", testenv.UnknownUUID), testenv.Bearer(tok)), 422)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/connect_ats/applications", applicant("A", "L", "ADA@example.com", testenv.UnknownUUID), testenv.Bearer(tok)), 422)
	r := h.Do(http.MethodPost, "/connect_ats/applications", ada, testenv.Bearer(tok))
	testenv.WantStatus(t, r, 201)
	ref, _ := r.JSON(t)["reference_id"].(string)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/connect_ats/applications", applicant("Grace", "Hopper", "grace@example.com", testenv.EngineerJob), testenv.Bearer(tok)), 201)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/connect_ats/applications", applicant("Ada", "Hopper", "ah@example.com", testenv.UnknownUUID), testenv.Bearer(tok)), 422)

	testenv.WantStatus(t, h.Do(http.MethodDelete, "/connect_ats/applications/"+ref+"/anonymize_application", "", testenv.Bearer(tok)), 200)
	journal := string(h.Do(http.MethodGet, "/_mock/journal?operation_id=createApplication&limit=1000", "").Body)
	for _, s := range []string{"Lovelace", "ada@example.com", "ADA@example.com", "countess@example.com"} {
		if strings.Contains(journal, s) {
			t.Errorf("the journal still holds %q after anonymizing:\n%s", s, journal)
		}
	}
	if n := strings.Count(journal, `"erased":"anonymized"`); n != 6 {
		t.Errorf("%d entries erased, want Ada's 6:\n%s", n, journal)
	}
	for _, s := range []string{"grace@example.com", "ah@example.com"} {
		if !strings.Contains(journal, s) {
			t.Errorf("someone else's entry (%s) was erased:\n%s", s, journal)
		}
	}
}
