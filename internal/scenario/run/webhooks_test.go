package run_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A callback step with a secret fails on an event signed with another, and on a results callback
// (which has no webhook signature to check); one with a type waits for that event only.
func TestWebhookStepsFailClearly(t *testing.T) {
	const head = `name: x
setup:
  clock: {set: "2026-03-02T09:00:00Z", freeze: true}
steps:
  - request: {method: POST, path: /connect_ats/access_token, auth: basic}
  - request:
      method: PUT
      path: /connect_ats/webhooks/ats
      auth: bearer
      json: {url: "${receiver}/hooks", secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}
  - request:
      method: POST
      path: /connect_ats/applications
      auth: bearer
      json: {job_id: "${job_id}", callback_url: "${receiver}/results", applicant_details: {first_name: A, last_name: B, email: "a@example.com"}}
    capture: {ref: reference_id}
  - control: {complete: "${ref}"}
`
	tests := map[string]struct {
		step string
		want string // "" when the scenario passes
	}{
		"the second event, by type":   {"  - callback: {path: /hooks, type: assessment_finished}\n    expect: {json: {type: assessment_finished}, attempts: 1}\n", ""},
		"both, in order":              {"  - callback: {path: /hooks, count: 2}\n    expect: {json: {type: assessment_finished}, attempts: 2}\n", ""},
		"another secret":              {"  - callback: {path: /hooks, type: assessment_started, secret: whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtYmJiYmJi}\n", "assessment_started event 1 to /hooks: the signature does not verify with the secret: no webhook-signature matches"},
		"a secret on results":         {"  - callback: {path: /results, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n", "callback 1 to /results is no webhook event, so it has no signature to check"},
		"an event that does not come": {"  - callback: {path: /hooks, type: assessment_finished, count: 2, timeout: 300ms}\n", "expected assessment_finished event 2 at /hooks within 300ms, the receiver got 1\n(is a webhook registered with the url ${receiver}/hooks"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			res := runner(t, &out).Run(context.Background(), parse(t, "hooks.yaml", head+tc.step))
			switch {
			case tc.want == "" && !res.Passed():
				t.Fatalf("failed: %v\n%s", res.Failure, out.String())
			case tc.want != "" && (res.Passed() || !strings.Contains(res.Failure.Message, tc.want)):
				t.Fatalf("failure %v, want one saying %q\n%s", res.Failure, tc.want, out.String())
			}
		})
	}
}
