package vendorapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/testenv"
)

var tokenRE = regexp.MustCompile(`^SFMyNTY\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$`)

func TestAccessToken(t *testing.T) {
	h := testenv.New(t)
	tests := map[string]struct {
		method     string
		opts       []testenv.ReqOpt
		wantStatus int
		wantAuth   string
	}{
		"post with credentials":         {http.MethodPost, []testenv.ReqOpt{testenv.Basic(testenv.DemoID, testenv.DemoSecret)}, 200, ""},
		"legacy get with credentials":   {http.MethodGet, []testenv.ReqOpt{testenv.Basic(testenv.DemoID, testenv.DemoSecret)}, 200, ""},
		"second client":                 {http.MethodPost, []testenv.ReqOpt{testenv.Basic(testenv.OtherID, testenv.OtherSecret)}, 200, ""},
		"wrong secret":                  {http.MethodPost, []testenv.ReqOpt{testenv.Basic(testenv.DemoID, "nope")}, 401, "Basic "},
		"another client's secret":       {http.MethodPost, []testenv.ReqOpt{testenv.Basic(testenv.DemoID, testenv.OtherSecret)}, 401, "Basic "},
		"unknown client":                {http.MethodPost, []testenv.ReqOpt{testenv.Basic("ghost", testenv.DemoSecret)}, 401, "Basic "},
		"no credentials":                {http.MethodPost, nil, 401, "Basic "},
		"bearer instead of basic":       {http.MethodPost, []testenv.ReqOpt{testenv.Bearer("x")}, 401, "Basic "},
		"body sent is ignored (legacy)": {http.MethodPost, []testenv.ReqOpt{testenv.Basic(testenv.DemoID, testenv.DemoSecret), testenv.Header("Content-Type", "text/plain")}, 200, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.Sub(t)
			r := h.Do(tc.method, "/connect_ats/access_token", "", tc.opts...)
			testenv.WantStatus(t, r, tc.wantStatus)
			if tc.wantStatus == 200 {
				tok, _ := r.JSON(t)["access_token"].(string)
				if !tokenRE.MatchString(tok) {
					t.Fatalf("token %q is not a Phoenix.Token", tok)
				}
				if got := r.Header.Get("Cache-Control"); got != "no-store" {
					t.Fatalf("Cache-Control = %q, want no-store", got)
				}
				return
			}
			if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, tc.wantAuth) {
				t.Fatalf("WWW-Authenticate = %q, want prefix %q", got, tc.wantAuth)
			}
			if d := r.ErrorField(t, "detail"); len(d) != 1 || d[0] == "" {
				t.Fatalf("no detail in %s", r.Body)
			}
		})
	}
}

func TestBearerFailures(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	forger, _ := auth.NewSigner([]byte("not-the-mock-key"))
	forged, _ := forger.Sign(map[string]any{"client_id": testenv.DemoID, "gen": 0}, testenv.T0, 15*time.Minute)

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
		"expired at 15m01s":      {"Bearer " + tok, func() { h.Clock.Advance(15*time.Minute + time.Second) }, "expired"},
		"expired at exactly 15m": {"Bearer " + tok, func() { h.Clock.Advance(15 * time.Minute) }, "expired"},
		"signed in the future":   {"Bearer " + tok, func() { h.Clock.Advance(-time.Minute) }, "not valid yet"},
		"revoked":                {"Bearer " + tok, func() { h.App.Service.InvalidateTokens("revoked", testenv.DemoID) }, "revoked"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := h.Sub(t)
			h.Clock.Set(testenv.T0)
			if tc.move != nil {
				tc.move()
			}
			var opts []testenv.ReqOpt
			if tc.auth != "" {
				opts = append(opts, testenv.Header("Authorization", tc.auth))
			}
			r := h.Do(http.MethodGet, "/connect_ats/jobs", "", opts...)
			testenv.WantStatus(t, r, http.StatusUnauthorized)
			got := r.Header.Get("WWW-Authenticate")
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
			if d := r.ErrorField(t, "detail"); len(d) != 1 || !strings.Contains(d[0], tc.wantDesc) {
				t.Fatalf("detail %v does not say %q", d, tc.wantDesc)
			}
		})
	}

	t.Run("valid one second before expiry", func(t *testing.T) {
		h2 := testenv.New(t)
		tok := h2.Token(testenv.DemoID, testenv.DemoSecret)
		h2.Clock.Advance(15*time.Minute - time.Second)
		testenv.WantStatus(t, h2.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(tok)), http.StatusOK)
	})
	t.Run("a new token works after revocation", func(t *testing.T) {
		h2 := testenv.New(t)
		h2.App.Service.InvalidateTokens("revoked", testenv.DemoID)
		testenv.WantStatus(t, h2.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(h2.Token(testenv.DemoID, testenv.DemoSecret))), http.StatusOK)
	})
}
