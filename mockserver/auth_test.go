package mockserver_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/phxtoken"
)

var tokenRE = regexp.MustCompile(`^SFMyNTY\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$`)

func TestAccessToken(t *testing.T) {
	h := newHarness(t)
	tests := map[string]struct {
		method     string
		opts       []reqOpt
		wantStatus int
		wantAuth   string
	}{
		"post with credentials":         {http.MethodPost, []reqOpt{basic(demoID, demoSecret)}, 200, ""},
		"legacy get with credentials":   {http.MethodGet, []reqOpt{basic(demoID, demoSecret)}, 200, ""},
		"second client":                 {http.MethodPost, []reqOpt{basic(otherID, otherSecret)}, 200, ""},
		"wrong secret":                  {http.MethodPost, []reqOpt{basic(demoID, "nope")}, 401, "Basic "},
		"another client's secret":       {http.MethodPost, []reqOpt{basic(demoID, otherSecret)}, 401, "Basic "},
		"unknown client":                {http.MethodPost, []reqOpt{basic("ghost", demoSecret)}, 401, "Basic "},
		"no credentials":                {http.MethodPost, nil, 401, "Basic "},
		"bearer instead of basic":       {http.MethodPost, []reqOpt{bearer("x")}, 401, "Basic "},
		"body sent is ignored (legacy)": {http.MethodPost, []reqOpt{basic(demoID, demoSecret), header("Content-Type", "text/plain")}, 200, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.sub(t)
			r := h.do(tc.method, "/connect_ats/access_token", "", tc.opts...)
			wantStatus(t, r, tc.wantStatus)
			if tc.wantStatus == 200 {
				tok, _ := r.json(t)["access_token"].(string)
				if !tokenRE.MatchString(tok) {
					t.Fatalf("token %q is not a Phoenix.Token", tok)
				}
				if got := r.header.Get("Cache-Control"); got != "no-store" {
					t.Fatalf("Cache-Control = %q, want no-store", got)
				}
				return
			}
			if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, tc.wantAuth) {
				t.Fatalf("WWW-Authenticate = %q, want prefix %q", got, tc.wantAuth)
			}
			if d := r.errorField(t, "detail"); len(d) != 1 || d[0] == "" {
				t.Fatalf("no detail in %s", r.body)
			}
		})
	}
}

func TestBearerFailures(t *testing.T) {
	h := newHarness(t)
	tok := h.token(demoID, demoSecret)
	forger, _ := phxtoken.NewSigner([]byte("not-the-mock-key"))
	forged, _ := forger.Sign(map[string]any{"client_id": demoID, "gen": 0}, t0, 15*time.Minute)

	tests := map[string]struct {
		auth     string // the Authorization header
		move     func() // clock or state change before the request, undone after
		wantDesc string // error_description; "" for a missing token (no error attribute)
	}{
		"missing":                {"", nil, ""},
		"basic scheme":           {"Basic ZGVtbzpkZW1v", nil, ""},
		"malformed":              {"Bearer not-a-token", nil, "malformed"},
		"seed placeholder":       {"Bearer SFMyNTY.dncndjkek", nil, "malformed"},
		"forged":                 {"Bearer " + forged, nil, "signature is invalid"},
		"expired at 15m01s":      {"Bearer " + tok, func() { h.clock.Advance(15*time.Minute + time.Second) }, "expired"},
		"expired at exactly 15m": {"Bearer " + tok, func() { h.clock.Advance(15 * time.Minute) }, "expired"},
		"signed in the future":   {"Bearer " + tok, func() { h.clock.Advance(-time.Minute) }, "not valid yet"},
		"revoked":                {"Bearer " + tok, func() { h.app.Store.InvalidateTokens("revoked", demoID) }, "revoked"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.sub(t)
			h.clock.Set(t0)
			if tc.move != nil {
				tc.move()
			}
			var opts []reqOpt
			if tc.auth != "" {
				opts = append(opts, header("Authorization", tc.auth))
			}
			r := h.do(http.MethodGet, "/connect_ats/jobs", "", opts...)
			wantStatus(t, r, http.StatusUnauthorized)
			got := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(got, `Bearer realm="equalture"`) {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
			if tc.wantDesc == "" {
				if strings.Contains(got, "error=") {
					t.Fatalf("a missing token must not carry an error attribute: %q", got)
				}
				return
			}
			if !strings.Contains(got, `error="invalid_token"`) || !strings.Contains(got, tc.wantDesc) {
				t.Fatalf("WWW-Authenticate = %q, want invalid_token with %q", got, tc.wantDesc)
			}
			if d := r.errorField(t, "detail"); len(d) != 1 || !strings.Contains(d[0], tc.wantDesc) {
				t.Fatalf("detail %v does not say %q", d, tc.wantDesc)
			}
		})
	}

	t.Run("valid one second before expiry", func(t *testing.T) {
		h2 := newHarness(t)
		tok := h2.token(demoID, demoSecret)
		h2.clock.Advance(15*time.Minute - time.Second)
		wantStatus(t, h2.do(http.MethodGet, "/connect_ats/jobs", "", bearer(tok)), http.StatusOK)
	})
	t.Run("a new token works after revocation", func(t *testing.T) {
		h2 := newHarness(t)
		h2.app.Store.InvalidateTokens("revoked", demoID)
		wantStatus(t, h2.do(http.MethodGet, "/connect_ats/jobs", "", bearer(h2.token(demoID, demoSecret))), http.StatusOK)
	})
}
