package release_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

const modulePath = "github.com/equalture/equalture-mock"

// TestGoInstallFromAModuleProxy is what Go users do once a release is tagged, done against a module
// proxy of this machine that serves the working tree as a release: go install …@latest (and the
// version it prints, read from the build info), go get …@latest in an ATS's module and a test there
// on equaltest, and go get -tool with go tool. The proxy is a directory (GOPROXY=file://…); the
// dependencies come from this machine's module cache, read as a proxy too, into a module cache of
// the test's own, so nothing here reaches the network or leaves a fake release in the real cache.
// Slow (it compiles the module as a dependency): make release-test runs it, make test (-short) not.
func TestGoInstallFromAModuleProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the module as a dependency: make release-test runs it")
	}
	const version = "v0.1.0"
	tmp := t.TempDir()
	proxy := filepath.Join(tmp, "proxy")
	serveRelease(t, proxy, version)

	realCache := strings.TrimSpace(run(t, "", nil, "go", "env", "GOMODCACHE"))
	env := []string{
		"GOPROXY=file://" + proxy + ",file://" + filepath.Join(realCache, "cache", "download"),
		"GOMODCACHE=" + filepath.Join(tmp, "modcache"),
		"GOSUMDB=off", // the release served here is not the one sum.golang.org will know
		"GOFLAGS=-trimpath",
		"GOTOOLCHAIN=local",
		"GOBIN=" + filepath.Join(tmp, "bin"),
	}
	t.Cleanup(func() { // the module cache is read-only, as Go leaves it
		run(t, "", env, "go", "clean", "-modcache")
	})

	// go install …@latest: the proxy's one release, whose version the binary prints.
	run(t, tmp, env, "go", "install", modulePath+"/cmd/equalture-mock@latest")
	out := run(t, "", nil, filepath.Join(tmp, "bin", "equalture-mock"), "version")
	if want := "equalture-mock " + version + " (commit unknown, unknown, go"; !strings.HasPrefix(out, want) {
		t.Errorf("the installed binary says %q, want it to start with %q", out, want)
	}

	// An ATS's module: go get …@latest, a test on equaltest, and the CLI as a tool of the module.
	ats := filepath.Join(tmp, "ats")
	if err := os.MkdirAll(ats, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, ats, env, "go", "mod", "init", "example.com/ats")
	run(t, ats, env, "go", "get", modulePath+"@latest")
	if gomod := readFile(t, filepath.Join(ats, "go.mod")); !strings.Contains(gomod, modulePath+" "+version) {
		t.Fatalf("go get …@latest did not require %s:\n%s", version, gomod)
	}
	writeFile(t, filepath.Join(ats, "ats_test.go"), `package ats

import (
	"net/http"
	"testing"

	"github.com/equalture/equalture-mock/equaltest"
)

func TestTokenFromTheMock(t *testing.T) {
	mock := equaltest.Start(t)
	req, err := http.NewRequest(http.MethodPost, mock.URL+"/connect_ats/access_token", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(mock.ClientID, mock.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(mock.JobIDs) == 0 {
		t.Fatalf("token: %d, jobs: %v", resp.StatusCode, mock.JobIDs)
	}
}
`)
	run(t, ats, env, "go", "mod", "tidy")
	if out := run(t, ats, env, "go", "test", "-count=1", "./..."); !strings.Contains(out, "ok") {
		t.Fatalf("the ATS's test on equaltest: %s", out)
	}
	run(t, ats, env, "go", "get", "-tool", modulePath+"/cmd/equalture-mock@"+version)
	if out := run(t, ats, env, "go", "tool", "equalture-mock", "version"); !strings.HasPrefix(out, "equalture-mock "+version+" ") {
		t.Errorf("go tool equalture-mock version says %q", out)
	}
}

// serveRelease lays out a file-based module proxy serving the working tree as version: the files
// git tracks or would (not the ignored ones), as the module zip a tag would give.
func serveRelease(t *testing.T, proxy, version string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	for _, f := range strings.Split(strings.TrimRight(run(t, repo, nil, "git", "ls-files", "-co", "--exclude-standard"), "\n"), "\n") {
		b, err := os.ReadFile(filepath.Join(repo, f))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		} else if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(src, f), string(b))
	}
	dir := filepath.Join(proxy, modulePath, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	z, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	// A nested module (tools/…) is left out, as in any module zip.
	if err := zip.CreateFromDir(z, module.Version{Path: modulePath, Version: version}, src); err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]any{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	writeFile(t, filepath.Join(dir, version+".info"), string(info))
	writeFile(t, filepath.Join(dir, version+".mod"), readFile(t, filepath.Join(src, "go.mod")))
	writeFile(t, filepath.Join(dir, "list"), version+"\n")
}

// run runs a command in dir with the environment plus env, and returns its output; it fails the
// test when the command fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
