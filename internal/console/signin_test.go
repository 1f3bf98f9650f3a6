package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// sessionID is the session id of a Set-Cookie of the console's cookie ("" for none).
func sessionID(setCookie string) string {
	v, ok := strings.CutPrefix(setCookie, "eqm_console=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(v, ".")
	return id
}

// Signing in starts a new session: the id (and so the CSRF token) a browser had before — which
// someone else may have planted or read — is worth nothing once it is signed in.
func TestSignInRenewsTheSession(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) { o.AdminToken = "s3cret" })
	b := testenv.NewBrowser(t, h.URL)
	form := b.Get("/_mock/ui/sign_in")
	before := sessionID(form.Header.Get("Set-Cookie"))
	planted := csrfRE.FindStringSubmatch(form.Body)[1]
	p := b.Post("/_mock/ui/sign_in", url.Values{"csrf": {planted}, "token": {"s3cret"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("signing in: %d", p.Status)
	}
	after := sessionID(p.Header.Get("Set-Cookie"))
	if before == "" || after == "" || after == before {
		t.Fatalf("session id before signing in %q, after %q: want a new one", before, after)
	}
	testenv.WantPage(t, b.Post("/_mock/ui/clock/freeze", url.Values{"csrf": {planted}}), http.StatusForbidden, "expired")
	fresh := csrfRE.FindStringSubmatch(b.Get("/_mock/ui").Body)[1]
	if p := b.Post("/_mock/ui/clock/freeze", url.Values{"csrf": {fresh}}); p.Status != http.StatusSeeOther {
		t.Fatalf("the new session's form: %d", p.Status)
	}
}

// Guessing the admin token on the sign-in form backs off per client address, as on the control
// API (the guesses are counted together): 429 with Retry-After, on the mock's clock.
func TestSignInGuessesBackOff(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) { o.AdminToken = "s3cret" })
	b := testenv.NewBrowser(t, h.URL)
	csrf := csrfRE.FindStringSubmatch(b.Get("/_mock/ui/sign_in").Body)[1]
	for range 5 {
		testenv.WantPage(t, b.Post("/_mock/ui/sign_in", url.Values{"csrf": {csrf}, "token": {"guess"}}), http.StatusUnprocessableEntity, "not the admin token")
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, "/_mock/clock", "", testenv.Bearer("guess")), 401) // the sixth guess
	p := b.Post("/_mock/ui/sign_in", url.Values{"csrf": {csrf}, "token": {"s3cret"}})
	testenv.WantPage(t, p, http.StatusTooManyRequests, "Too many wrong admin tokens from your address: try again in 1 s")
	if got := p.Header.Get("Retry-After"); got != "1" {
		t.Fatalf("Retry-After = %q", got)
	}
	h.Clock.Advance(time.Second)
	if p := b.Post("/_mock/ui/sign_in", url.Values{"csrf": {csrf}, "token": {"s3cret"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("signing in after the wait: %d %s", p.Status, p.Body)
	}
}
