package run_test

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/scenario/run"
)

// secretRE finds an access token or a webhook secret in full (a hint keeps four characters).
var secretRE = regexp.MustCompile(`SFMyNTY\.[A-Za-z0-9_-]{8,}|whsec_[A-Za-z0-9+/]{8,}|demo-secret`)

// A scenario that fails on a token answer, with secrets in its step names and captures: the
// progress lines, the failure and the JUnit report show hints of them, never one in full.
func TestTranscriptsHoldNoSecrets(t *testing.T) {
	s := parse(t, "secrets.yaml", `name: Secrets stay out of the transcript
steps:
  - name: a token for ${client_id} with ${client_secret}
    request: {method: POST, path: /connect_ats/access_token, auth: basic}
  - name: a webhook
    request:
      method: PUT
      path: /connect_ats/webhooks/ats
      auth: bearer
      json: {url: "${receiver}/events"}
    expect: {status: 201}
    capture: {hook: secret}
  - name: ${access_token} and ${hook} shown
    request: {method: GET, path: /connect_ats/jobs, auth: bearer}
  - name: the wrong token expected instead of ${access_token}
    request: {method: POST, path: /connect_ats/access_token, auth: basic}
    expect:
      json: {access_token: {equals: nope}}
`)
	var out bytes.Buffer
	res := runner(t, &out).Run(context.Background(), s)
	if res.Passed() || res.Steps != 3 {
		t.Fatalf("the scenario should fail at its fourth step: %+v\n%s", res.Failure, res.Output)
	}
	var junit bytes.Buffer
	if err := run.WriteJUnit(&junit, []run.Result{res}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"progress": out.String(), "output": res.Output, "failure": res.Failure.Error(), "junit": junit.String()} {
		if m := secretRE.FindString(text); m != "" {
			t.Errorf("the %s shows the secret %q:\n%s", name, m, text)
		}
	}
	if !regexp.MustCompile(`SFMyNTY\.\w{4}… and whsec_.{4}… shown`).MatchString(out.String()) {
		t.Errorf("the progress lines lack the hints:\n%s", out.String())
	}
}
