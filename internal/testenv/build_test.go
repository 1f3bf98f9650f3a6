package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The source key changes with every file the build reads, and not with the others (outputs tests
// write into the tree, documentation, tests for a plain build).
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
	write("go.mod", "module example.com/x\n\ngo 1.22\n")
	write("main.go", "package main\n\nimport _ \"example.com/x/lib\"\n\nfunc main() {}\n")
	write("main_test.go", "package main\n")
	write("lib/lib.go", "package lib\n\nimport _ \"embed\"\n\n//go:embed page.html\nvar Page string\n")
	write("lib/page.html", "<p>")
	build, test := key("build", "."), key("test", "-c", ".")
	if build == test {
		t.Fatal("go build and go test -c have the same key")
	}
	for _, rel := range []string{"README.md", "x.test", "bin/x", "reports/a.png", "lib/notes.txt", "tools/other/go.mod"} {
		write(rel, "not read by the build")
	}
	if key("build", ".") != build || key("test", "-c", ".") != test {
		t.Error("files the build does not read changed a key")
	}
	write("main_test.go", "package main\n\n// changed\n")
	if key("build", ".") != build {
		t.Error("a test file changed go build's key")
	}
	if key("test", "-c", ".") == test {
		t.Error("a test file did not change go test -c's key")
	}
	for _, rel := range []string{"main.go", "lib/lib.go", "lib/page.html", "lib/new.go", "go.mod"} {
		content := "// changed\n"
		switch rel {
		case "lib/new.go":
			content = "package lib\n"
		case "lib/page.html":
			content = "<p>changed</p>"
		case "go.mod":
			content = "module example.com/x\n\ngo 1.23\n"
		case "main.go", "lib/lib.go":
			b, _ := os.ReadFile(filepath.Join(root, rel))
			content = string(b) + content
		}
		write(rel, content)
		k := key("build", ".")
		if k == build {
			t.Errorf("changing %s did not change the key", rel)
		}
		build = k
	}
	t.Setenv("GOFLAGS", "-tags=nomock")
	if key("build", ".") == build {
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

// The contract suite's files: its tests, the packages it imports and the contracts they embed.
func TestBuildFilesOfTheContractSuite(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := buildFiles(root, []string{"test", "-c", "./contract"})
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		has[filepath.ToSlash(rel)] = true
	}
	for _, want := range []string{"go.mod", "go.sum", "contract/suite_test.go", "mockserver/mockserver.go", "openapi.yaml", "assets.go"} {
		if !has[want] {
			t.Errorf("%s is not among the suite's %d files", want, len(files))
		}
	}
	for _, not := range []string{"README.md", "mockserver/mockserver_test.go", "internal/testenv/build_test.go"} {
		if has[not] {
			t.Errorf("%s is among the suite's files", not)
		}
	}
}
