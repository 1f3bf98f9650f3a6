package contract

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/contracttest"

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

	It("refuses an expired token after its documented lifetime", Label("control"), Serial, func() {
		requireControl()
		tok := token()
		expectStatus(call(http.MethodGet, "/connect_ats/jobs", "", Bearer(tok)), http.StatusOK)
		pastTokenLifetime()
		r := call(http.MethodGet, "/connect_ats/jobs", "", Bearer(tok))
		expectStatus(r, http.StatusUnauthorized)
		expectHeader(r, "WWW-Authenticate", ContainSubstring("expired"))
	})

	// slow: a token held past its documented lifetime must be refused. With a control API the
	// mock's clock moves past it at once; against the real service the spec waits the lifetime
	// (x-token-ttl, 15 minutes) plus a margin (EQUALTURE_CONTRACT_TOKEN_WAIT), for nightly jobs.
	// It runs only when the label filter names slow.
	It("refuses a token held past its documented lifetime", Label("slow"), Serial, func(ctx SpecContext) {
		if !strings.Contains(strings.ToLower(GinkgoLabelFilter()), "slow") {
			Skip("slow: holds a token past its lifetime (" + tokenTTL().String() + "); run it with -ginkgo.label-filter=slow (a nightly job)")
		}
		tok := token()
		expectStatus(call(http.MethodGet, "/connect_ats/jobs", "", Bearer(tok)), http.StatusOK)
		if ctl != nil {
			pastTokenLifetime()
		} else {
			wait := cfg.Parsed.TokenWait
			if wait == 0 {
				wait = tokenTTL() + contracttest.DefaultTokenWaitMargin
			}
			By(fmt.Sprintf("holding the token %s (its documented lifetime is %s)", wait, tokenTTL()))
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				Fail("the spec ran out of time while holding the token")
			}
		}
		r := call(http.MethodGet, "/connect_ats/jobs", "", Bearer(tok))
		expectStatus(r, http.StatusUnauthorized)
	}, SpecTimeout(2*time.Hour))
})

// pastTokenLifetime moves the mock's clock past the tokens' documented lifetime (x-token-ttl),
// and back when the spec ends (advance refuses negatives: the clock is set back).
func pastTokenLifetime() {
	GinkgoHelper()
	past := tokenTTL() + time.Second // 15m1s
	control(http.MethodPost, "/clock/advance", `{"by":"`+past.String()+`"}`)
	DeferCleanup(func() {
		var clock struct{ Now time.Time }
		Expect(json.Unmarshal(mustJSON(control(http.MethodGet, "/clock", "")), &clock)).To(Succeed())
		control(http.MethodPost, "/clock/set", `{"now":"`+clock.Now.Add(-past).Format(time.RFC3339Nano)+`"}`)
	})
}
