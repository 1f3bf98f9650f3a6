package proxy_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/spec"
)

// TestSuggestionsArePatchesThatApply: the service answers otherwise than five guesses of the
// contract — a status value, the error shape, the token's path, 422 for a state conflict, the
// challenge's realm — and the suggestions are a unified diff of openapi.yaml that git applies,
// after which the contract still loads and the answers that were guesses contradicted pass.
func TestSuggestionsArePatchesThatApply(t *testing.T) {
	f := newFlow(t, func(r *http.Request, status *int, h http.Header, body map[string]any) bool {
		switch {
		case onPath(r, "GET", "/status") && body["status"] == "invited":
			body["status"] = "in_progress"
		case onPath(r, "GET", "/status") && *status == 404:
			delete(body, "errors")
			body["error"] = "Not Found"
		case onPath(r, "POST", "/hire_applicant") && *status == 409:
			*status = 422 // in the contract's 422 shape
			body["errors"] = map[string]any{"application": []any{"cannot be hired in its state"}}
		case *status == 401:
			h.Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
		default:
			return false
		}
		return true
	}, nil)
	ref := f.create()
	f.app("GET", ref, "status", "")
	f.app("GET", "00000000-0000-4000-8000-000000000000", "status", "")
	f.app("DELETE", ref, "anonymize_application", "")
	f.app("POST", ref, "hire_applicant", hire)
	f.w.do(t, "GET", "/connect_ats/jobs", "", "Authorization", "Bearer SFMyNTY.e30.c2ln")
	r := f.w.settle(t, 0)
	if r.Violations != 0 || r.Guesses != 4 {
		t.Fatalf("%d violations, %d guesses, want 0 and 4:\n%s", r.Violations, r.Guesses, r.Summary())
	}
	var patch bytes.Buffer
	if err := f.w.proxy.WriteSuggestions(&patch, assets.VendorSpec()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"+          enum: [invited, started, completed, hired, anonymized, expired, in_progress]",
		"equalture-mock proxy: the service leaves out errors",
		"x-lifecycle: {requires: [completed], conflict: 422, to: hired}",
		"realm: api,",
	} {
		if !strings.Contains(patch.String(), want) {
			t.Errorf("the patch does not hold %q:\n%s", want, patch.String())
		}
	}
	t.Logf("suggestions:\n%s", patch.String())
	patched := apply(t, patch.Bytes())
	sp, err := spec.Load(context.Background(), patched)
	if err != nil {
		t.Fatalf("the patched contract does not load: %v\n%s", err, patch.String())
	}
	req := httptest.NewRequest("GET", "/connect_ats/applications/"+ref+"/status", nil)
	if err := sp.ValidateResponse(context.Background(), req, 200, http.Header{"Content-Type": {"application/json"}}, []byte(`{"status":"in_progress"}`)); err != nil {
		t.Fatalf("the answer the patch documents still breaks the patched contract: %v", err)
	}
	if rule, _ := sp.Lifecycle().Rule("hireApplicant"); rule.Conflict != 422 {
		t.Fatalf("hire's conflict is %d after the patch", rule.Conflict)
	}
}

// TestSuggestionsOfAnUndocumentedStatus: a status the contract did not document for an operation
// it only guessed (the token's path) is documented by the patch.
func TestSuggestionsOfAnUndocumentedStatus(t *testing.T) {
	w := start(t, respond(404, `{"errors":{"detail":"Not Found"}}`))
	w.do(t, "POST", "/connect_ats/access_token", "", "Authorization", "Basic "+basic("demo-client", "demo-secret"))
	if r := w.settle(t, 1); r.Guesses != 1 || r.Violations != 0 {
		t.Fatalf("report:\n%s", r.Summary())
	}
	var patch bytes.Buffer
	if err := w.proxy.WriteSuggestions(&patch, assets.VendorSpec()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(patch.String(), `+        "404":`) {
		t.Fatalf("the patch does not document 404:\n%s", patch.String())
	}
	sp, err := spec.Load(context.Background(), apply(t, patch.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if sp.Operations()["createAccessToken"].Responses.Status(404) == nil {
		t.Fatal("the patched contract documents no 404 for createAccessToken")
	}
	// Nothing guessed otherwise: the file says so, and holds no hunk.
	var none bytes.Buffer
	if err := start(t, respond(200, `[]`)).proxy.WriteSuggestions(&none, assets.VendorSpec()); err != nil || strings.Contains(none.String(), "@@") {
		t.Fatalf("%v %s", err, none.String())
	}
}

// apply applies patch to a copy of openapi.yaml with git and returns the result.
func apply(t *testing.T, patch []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "openapi.yaml"), assets.VendorSpec(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "suggest.patch"), patch, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "apply", "suggest.patch")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git apply: %v\n%s\n%s", err, out, patch)
	}
	b, err := os.ReadFile(filepath.Join(dir, "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func onPath(r *http.Request, method, suffix string) bool {
	return r.Method == method && strings.HasSuffix(r.URL.Path, suffix)
}
