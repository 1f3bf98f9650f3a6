package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The source key changes with any file of the module, and not with what is not the module's
// (VCS data, npm packages, outputs, other modules).
func TestSourceKey(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	key := func(args ...string) string {
		t.Helper()
		k, err := sourceKey(root, args)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write("go.mod", "module x\n")
	write("main.go", "package main\n")
	write("internal/pages/templates/a.html", "<p>")
	base := key("build", ".")
	for _, rel := range []string{".git/index", "tools/lint/node_modules/x.js", "bin/equalture-mock", "reports/screenshots/a.png", "tools/release/go.mod", "tools/release/main.go"} {
		write(rel, "ignored")
		if k := key("build", "."); k != base {
			t.Errorf("writing %s changed the key", rel)
		}
	}
	if key("test", "-c", ".") == base {
		t.Error("another command has the same key")
	}
	for _, rel := range []string{"main.go", "internal/pages/templates/a.html", "new.go"} {
		write(rel, "changed "+rel)
		k := key("build", ".")
		if k == base {
			t.Errorf("changing %s did not change the key", rel)
		}
		base = k
	}
	t.Setenv("GOFLAGS", "-tags=nomock")
	if key("build", ".") == base {
		t.Error("GOFLAGS did not change the key")
	}
}

func TestPruneKeepsRecentBuilds(t *testing.T) {
	cache := t.TempDir()
	now := time.Now()
	ages := map[string]time.Duration{ // build directory → unused for
		"current": 0, "a": time.Minute, "b": 20 * time.Minute, "c": 30 * time.Minute,
		"d": 40 * time.Minute, "e": 50 * time.Minute, "f": 2 * time.Hour,
	}
	for name, age := range ages {
		dir := filepath.Join(cache, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(dir, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	prune(cache, filepath.Join(cache, "current"))
	var left []string
	entries, _ := os.ReadDir(cache)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	// current, plus the keepBuilds-1 most recently used others (a, b, c); d, e, f unused 10+ min.
	if got, want := strings.Join(left, " "), "a b c current"; got != want {
		t.Fatalf("left %q, want %q", got, want)
	}
}

// MockBinary builds the binary once per source state: a second call, and a second process
// (buildShared again, past this process's sync.Once), get the same file without building again.
func TestMockBinaryIsBuiltOncePerSourceState(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := MockBinary(t)
	if !strings.HasPrefix(bin, binCache()+string(filepath.Separator)) {
		t.Fatalf("built at %s, not in %s", bin, binCache())
	}
	before, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "equalture-mock") {
		t.Fatalf("%s version: %v\n%s", bin, err, out)
	}
	if again := MockBinary(t); again != bin {
		t.Fatalf("a second call got %s, want %s", again, bin)
	}
	other, err := buildShared("equalture-mock", []string{"build", "./cmd/equalture-mock"})
	if err != nil || other != bin {
		t.Fatalf("another process would get %q, %v; want %s", other, err, bin)
	}
	if after, err := os.Stat(bin); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the binary was built again (%v)", err)
	}
}
