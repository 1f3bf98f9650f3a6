package codegen_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/equaltest"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// TestGeneratedTypeScriptClientWalkThrough generates TypeScript types from openapi.yaml with
// openapi-typescript's default settings, type-checks tools/lint/client/walkthrough.mts (the same
// walk-through with openapi-fetch) with `tsc --strict --noEmit`, then compiles it and runs it with
// node against the mock. The npm tools come from tools/lint (`make tools`).
func TestGeneratedTypeScriptClientWalkThrough(t *testing.T) {
	lint, err := filepath.Abs("../lint")
	if err != nil {
		t.Fatal(err)
	}
	bin := func(name string) string { return filepath.Join(lint, "node_modules", ".bin", name) }
	for _, name := range []string{"openapi-typescript", "tsc"} {
		if _, err := os.Stat(bin(name)); err != nil {
			testenv.Missing(t, name+" (npm, tools/lint) is not installed", "make tools")
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH: %v", err)
	}
	// A directory of its own: the walk-through, its tsconfig, the generated types, tools/lint's
	// node_modules (for tsc and node to resolve openapi-fetch).
	dir := t.TempDir()
	for _, f := range []string{"walkthrough.mts", "tsconfig.json"} {
		b, err := os.ReadFile(filepath.Join(lint, "client", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(lint, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	contract, err := filepath.Abs("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run := func(env []string, name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(nil, bin("openapi-typescript"), contract, "-o", "equalture.d.ts")
	run(nil, bin("tsc"), "--strict", "--noEmit", "-p", "tsconfig.json")
	run(nil, bin("tsc"), "--noCheck", "-p", "tsconfig.json") // emits out/walkthrough.mjs, checked just above

	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(receiver.Close)
	mock := equaltest.Start(t)
	out := run([]string{
		"EQUALTURE_URL=" + mock.URL,
		"EQUALTURE_CLIENT_ID=" + mock.ClientID,
		"EQUALTURE_CLIENT_SECRET=" + mock.ClientSecret,
		"EQUALTURE_CONTROL_URL=" + mock.ControlURL,
		"EQUALTURE_CALLBACK_URL=" + receiver.URL + "/applications/1",
	}, node, filepath.Join("out", "walkthrough.mjs"))
	if !strings.Contains(out, "walk-through passed") {
		t.Fatalf("node ran the walk-through without finishing it:\n%s", out)
	}
}
