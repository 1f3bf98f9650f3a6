package contracttest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// acceptsExpiredTokens stands for a service that accepts tokens past their lifetime: every later
// jobs request gets a fresh token on its way.
func acceptsExpiredTokens(r *http.Request) {
	if r.URL.Path == "/connect_ats/jobs" && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		r.Header.Set("Authorization", "Bearer "+tokenFor(r))
	}
}

// TestSlowSpecHoldsATokenPastItsLifetime: the slow spec catches a service that accepts expired
// tokens — against the mock by moving its clock, and without a control API by waiting (here a
// mock whose tokens live 1s, the wait set to 2s); it does not run unless the filter names it.
func TestSlowSpecHoldsATokenPastItsLifetime(t *testing.T) {
	t.Parallel()
	slow := []string{"-ginkgo.no-color", "-ginkgo.label-filter=slow"}
	base := mock(t)
	if code, out := runSuite(t, slow, targetEnv(base, base+"/_mock")); code != 0 || !strings.Contains(out, "Ran 1 of") {
		t.Fatalf("the slow spec fails against the mock (clock moved):\n%s", tail(out))
	}
	code, out := runSuite(t, slow, targetEnv(testenv.Breaker(t, base, acceptsExpiredTokens, nil), base+"/_mock"))
	if code == 0 || !strings.Contains(out, "listJobs (GET /connect_ats/jobs) answered 200") || !strings.Contains(out, "401") {
		t.Fatalf("the slow spec passed a service accepting expired tokens:\n%s", tail(out))
	}

	// Without a control API the spec waits; a mock on a running clock with 1s tokens keeps it short.
	short := testenv.New(t, func(o *app.Options) { o.Clock, o.TokenTTL = clock.NewVirtual(), time.Second }).URL
	wait := "EQUALTURE_CONTRACT_TOKEN_WAIT=2s"
	if code, out := runSuite(t, slow, append(targetEnv(short, ""), wait)); code != 0 || !strings.Contains(out, "Ran 1 of") {
		t.Fatalf("the slow spec fails against a real wait:\n%s", tail(out))
	}
	code, out = runSuite(t, slow, append(targetEnv(testenv.Breaker(t, short, acceptsExpiredTokens, nil), ""), wait))
	if code == 0 || !strings.Contains(out, "answered 200") {
		t.Fatalf("the slow spec passed a service accepting expired tokens, waiting:\n%s", tail(out))
	}
	// Not asked for, it is skipped, saying how to run it.
	if code, out := runSuite(t, []string{"-ginkgo.no-color", "-ginkgo.v", "-ginkgo.focus=past its documented lifetime"}, targetEnv(base, base+"/_mock")); code != 0 ||
		!strings.Contains(out, "run it with -ginkgo.label-filter=slow") {
		t.Fatalf("the slow spec was not skipped by default:\n%s", tail(out))
	}
}
