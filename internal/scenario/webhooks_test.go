package scenario_test

import (
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/scenario"
)

func TestBrokenWebhookStepsNameFileLineAndField(t *testing.T) {
	tests := map[string]struct {
		src  string
		want string
	}{
		"the documentation's other event name": {"name: x\nsteps:\n  - callback: {path: /hooks, type: application_started}\n",
			`bad.yaml:3: step 1, callback.type: want assessment_started or assessment_finished, got "application_started"`},
		"a secret that is no whsec_": {"name: x\nsteps:\n  - callback:\n      path: /hooks\n      secret: hunter2\n",
			"bad.yaml:5: step 1, callback.secret: the webhook's secret must be whsec_ followed by the base64 of 24 to 64 random bytes"},
		"an unknown field": {"name: x\nsteps:\n  - callback: {path: /hooks, event: assessment_started}\n",
			`bad.yaml:3: step 1, callback: unknown field "event" (want one of count, path, secret, timeout, type)`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := scenario.Parse("bad.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	for _, ok := range []string{
		"name: x\nsteps:\n  - request: {method: GET, path: /x}\n    capture: {s: secret, t: type}\n  - callback: {path: /hooks, type: '${t}', secret: '${s}'}\n",
		"name: x\nsteps:\n  - callback: {path: /hooks, type: assessment_finished, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n",
	} {
		if _, err := scenario.Parse("good.yaml", []byte(ok)); err != nil {
			t.Fatalf("a good webhook step refused: %v", err)
		}
	}
}
