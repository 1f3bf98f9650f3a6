package contracttest

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/testenv"
)

// TestSuiteTellsGuessesFromBreaks: a target that does otherwise than a part openapi.yaml only
// guessed (x-inferred: here 422 where the lifecycle guessed 409) fails the suite against the
// mock with a failure of its own kind, and with EQUALTURE_CONTRACT_INFERRED=warn passes it with
// the news in a JUnit property.
func TestSuiteTellsGuessesFromBreaks(t *testing.T) {
	t.Parallel()
	base := mock(t)
	target := testenv.Breaker(t, base, nil, func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/hire_applicant") && *status == 409 {
			*status = 422 // in the contract's 422 shape
			body["errors"] = map[string]any{"application": []any{"cannot be hired in its state"}}
			return true
		}
		return false
	})
	const focus = "before completion"
	code, out := run(t, target, base+"/_mock", focus)
	if code == 0 {
		t.Fatalf("the suite passed a guess the target contradicts, against a mock:\n%s", out)
	}
	for _, want := range []string{"openapi.yaml only guessed this (x-inferred)", "the contract guessed 409 for hireApplicant", "answered 422", "EQUALTURE_CONTRACT_INFERRED=warn"} {
		if !strings.Contains(out, want) {
			t.Errorf("the failure does not say %q:\n%s", want, tail(out))
		}
	}
	report := filepath.Join(t.TempDir(), "contract.xml")
	code, out = runSuite(t, []string{"-ginkgo.no-color", "-ginkgo.focus=" + focus, "-ginkgo.junit-report=" + report},
		append(targetEnv(target, base+"/_mock"), "EQUALTURE_CONTRACT_INFERRED=warn"))
	if code != 0 {
		t.Fatalf("with EQUALTURE_CONTRACT_INFERRED=warn a guess failed the suite:\n%s", out)
	}
	xml, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(xml), `<property name="inferred" value=`) || !strings.Contains(string(xml), "the contract guessed 409 for hireApplicant") {
		t.Fatalf("the JUnit report holds no inferred property:\n%s", xml)
	}
}
