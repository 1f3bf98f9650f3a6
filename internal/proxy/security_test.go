package proxy_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/proxy"
)

// The proxy's own control API (its journal) takes an admin token like the mock's: without it,
// neither reading nor clearing the journal works; with it, both do.
func TestProxyControlAPINeedsTheAdminToken(t *testing.T) {
	w := start(t, respond(200, `[]`), func(o *proxy.Options) { o.AdminToken = "proxy-admin" })
	w.do(t, "GET", "/connect_ats/jobs", "")
	w.settle(t, 1)
	for _, tc := range []struct {
		method, auth string
		want         int
	}{
		{"GET", "", 401},
		{"DELETE", "", 401},
		{"DELETE", "Bearer wrong", 401},
		{"DELETE", "proxy-admin", 401},
		{"GET", "bearer proxy-admin", 200},
	} {
		a := w.do(t, tc.method, "/_mock/journal", "", "Authorization", tc.auth)
		if a.status != tc.want {
			t.Errorf("%s /_mock/journal with %q: %d %s, want %d", tc.method, tc.auth, a.status, a.body, tc.want)
		}
		if tc.want == 401 && a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("a 401 without WWW-Authenticate")
		}
	}
	if a := w.do(t, "GET", "/_mock/journal", "", "Authorization", "Bearer proxy-admin"); !strings.Contains(a.body, `"count":1`) {
		t.Fatalf("the journal was cleared without the admin token: %s", a.body)
	}
}

// Token answers and webhook registrations pass through the proxy, one token answer breaking the
// contract: neither the journal, nor the reports, nor the log hold a secret in full.
func TestProxyReadOutsHoldNoSecrets(t *testing.T) {
	const (
		token  = "SFMyNTY.eyJkYXRhIjp7ImNsaWVudF9pZCI6ImRlbW8tY2xpZW50In19.HVwPMl7ou2XzdQfCkaPk5LKpK1f4y3nDDOG3tO1DHSQ"
		broken = "SFMyNTY.eyJkYXRhIjp7ImNsaWVudF9pZCI6Im90aGVyIn19.HVwPMl7ou2XzdQfCkaPk5LKpK1f4y3nDDOG3tO1D+SQ"
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA="
	)
	hook := `{"label":"ats","url":"http://ats.example/events","secret":"` + secret + `","secret_hint":"whsec_MfKQ…","created_at":"2026-03-02T09:00:00Z","updated_at":"2026-03-02T09:00:00Z"}`
	w := start(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/connect_ats/webhooks/ats":
			respond(201, hook)(rw, r)
		case r.Method == "GET":
			respond(200, `{"access_token":"`+broken+`"}`)(rw, r) // breaks the token's pattern
		default:
			respond(200, `{"access_token":"`+token+`"}`)(rw, r)
		}
	}))
	w.do(t, "POST", "/connect_ats/access_token", "", "Authorization", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=")
	w.do(t, "GET", "/connect_ats/access_token", "", "Authorization", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=")
	w.do(t, "PUT", "/connect_ats/webhooks/ats", `{"url":"http://ats.example/events","secret":"`+secret+`"}`)
	r := w.settle(t, 3)
	if r.Violations != 1 {
		t.Fatalf("violations = %d, want the broken token answer's:\n%s", r.Violations, r.Summary())
	}
	var js, junit bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJUnit(&junit, time.Now()); err != nil {
		t.Fatal(err)
	}
	journal := w.do(t, "GET", "/_mock/journal", "").body
	for name, text := range map[string]string{"journal": journal, "report": js.String(), "junit": junit.String(), "summary": r.Summary(), "log": w.log.String()} {
		for _, s := range []string{token, broken, secret, "ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=", "demo-secret"} {
			if strings.Contains(text, s[:min(len(s), 24)]) { // not even the start of one
				t.Errorf("the %s holds the secret %q", name, s)
			}
		}
	}
	if !strings.Contains(js.String(), `field \"access_token\"`) || !strings.Contains(journal, "whsec_MfKQ…") {
		t.Errorf("the report or the journal lost what they are for:\n%s\n%s", js.String(), journal)
	}
}
