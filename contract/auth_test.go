package contract

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Access tokens", Label("readonly"), func() {
	It("issues a Phoenix.Token for Basic client credentials (POST)", func() {
		r := call(http.MethodPost, "/connect_ats/access_token", "", Basic(cfg.ClientID, cfg.ClientSecret))
		expectStatus(r, http.StatusOK)
		expectField(r, "access_token", MatchRegexp(`^SFMyNTY\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`))
	})

	It("issues one with the legacy GET too", func() {
		expectStatus(call(http.MethodGet, "/connect_ats/access_token", "", Basic(cfg.ClientID, cfg.ClientSecret)), http.StatusOK)
	})

	DescribeTable("refuses bad Basic credentials with 401 and a Basic challenge",
		func(auth func() []Auth) {
			r := call(http.MethodPost, "/connect_ats/access_token", "", auth()...)
			expectStatus(r, http.StatusUnauthorized)
			expectHeader(r, "WWW-Authenticate", HavePrefix("Basic"))
			expectErrors(r, "detail")
		},
		Entry("wrong secret", func() []Auth { return []Auth{Basic(cfg.ClientID, cfg.ClientSecret+"-wrong")} }),
		Entry("unknown client", func() []Auth { return []Auth{Basic("contract-unknown-client", "x")} }),
		Entry("no credentials", func() []Auth { return nil }),
	)
})

var _ = Describe("Bearer authentication", Label("readonly"), func() {
	It("refuses a request without a token with a Bearer challenge", func() {
		r := call(http.MethodGet, "/connect_ats/jobs", "")
		expectStatus(r, http.StatusUnauthorized)
		expectHeader(r, "WWW-Authenticate", HavePrefix("Bearer"))
	})

	DescribeTable("refuses a bad token as invalid_token",
		func(tok func() string) {
			r := call(http.MethodGet, "/connect_ats/jobs", "", Bearer(tok()))
			expectStatus(r, http.StatusUnauthorized)
			expectHeader(r, "WWW-Authenticate", And(HavePrefix("Bearer"), ContainSubstring(`error="invalid_token"`)))
		},
		Entry("malformed", func() string { return "not-a-token" }),
		Entry("the seed's truncated sample", func() string { return "SFMyNTY.dncndjkek" }),
		Entry("forged signature", func() string {
			t := token()
			return t[:strings.LastIndexByte(t, '.')+1] + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		}),
	)

	It("refuses an expired token after 15 minutes", Label("control"), Serial, func() {
		requireControl()
		tok := token()
		expectStatus(call(http.MethodGet, "/connect_ats/jobs", "", Bearer(tok)), http.StatusOK)
		control(http.MethodPost, "/clock/advance", `{"by":"15m1s"}`)
		DeferCleanup(func() { // advance refuses negatives: set the clock back
			var clock struct{ Now time.Time }
			Expect(json.Unmarshal(mustJSON(control(http.MethodGet, "/clock", "")), &clock)).To(Succeed())
			control(http.MethodPost, "/clock/set", `{"now":"`+clock.Now.Add(-15*time.Minute-time.Second).Format(time.RFC3339Nano)+`"}`)
		})
		r := call(http.MethodGet, "/connect_ats/jobs", "", Bearer(tok))
		expectStatus(r, http.StatusUnauthorized)
		expectHeader(r, "WWW-Authenticate", ContainSubstring("expired"))
	})
})
