package testenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// MockBinary returns the path of the equalture-mock binary built from this module's sources
// (go build ./cmd/equalture-mock), for tests that run it as a process.
func MockBinary(t testing.TB) string {
	t.Helper()
	return built(t, "equalture-mock", "build", "./cmd/equalture-mock")
}

// ContractSuite returns the path of the contract suite's binary built from this module's sources
// (go test -c ./contract), as CI and the Docker image build it.
func ContractSuite(t testing.TB) string {
	t.Helper()
	return built(t, "contract.test", "test", "-c", "./contract")
}

// Binaries are built once per source state, not once per test or package: the test packages of
// one `go test ./...` run are separate processes, so a build goes into a directory under the
// system's temporary directory named by a hash of the sources, the toolchain and the Go
// environment, under a lock file, and every process that finds it there uses it. The Go build
// cache makes a build after a small change cheap, but each `go build -o` into a fresh place
// links again, and two packages building at once both compile.
var builds sync.Map // name → func() (string, error)

func built(t testing.TB, name string, goArgs ...string) string {
	t.Helper()
	f, _ := builds.LoadOrStore(name, sync.OnceValues(func() (string, error) { return buildShared(name, goArgs) }))
	p, err := f.(func() (string, error))()
	if err != nil {
		t.Fatalf("building %s: %v", name, err)
	}
	used(filepath.Dir(p))
	return p
}

// binCache is the directory holding the builds: one subdirectory per source state.
func binCache() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("equalture-mock-test-bin-%d", os.Getuid()))
}

// keepBuilds is how many source states' builds are kept besides those used in the last
// keepUnused (a developer going back and forth between branches).
const (
	keepBuilds = 4
	keepUnused = 10 * time.Minute
)

func buildShared(name string, goArgs []string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	key, err := sourceKey(root, goArgs)
	if err != nil {
		return "", err
	}
	cache := binCache()
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return "", err
	}
	if err := private(cache); err != nil {
		return "", err
	}
	dir := filepath.Join(cache, key)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	used(dir) // before another process's prune can see it unused
	unlock, err := lock(filepath.Join(dir, name+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	bin := filepath.Join(dir, name)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	f, err := os.CreateTemp(dir, name+"-*.partial")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	args := append(slices.Clone(goArgs[:len(goArgs)-1]), "-o", tmp, goArgs[len(goArgs)-1])
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		if _, statErr := os.Stat(bin); statErr != nil { // not another process's build (no lock here)
			return "", err
		}
	}
	used(dir)
	prune(cache, dir)
	return bin, nil
}

// sourceKey hashes what a build's result depends on: the toolchain, the Go environment, the
// command, the module's go.mod and go.sum, and every file of the module the build reads, as go list
// names them (Go and other sources, embedded files; test files too for go test -c). Files the build
// does not read (outputs other tests write into the tree, documentation) leave it as it is.
func sourceKey(root string, goArgs []string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), runtime.GOOS, runtime.GOARCH, goArgs)
	env := os.Environ()
	sort.Strings(env)
	for _, kv := range env {
		if strings.HasPrefix(kv, "GO") || strings.HasPrefix(kv, "CGO_") {
			fmt.Fprintln(h, kv)
		}
	}
	files, err := buildFiles(root, goArgs)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			return "", err
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\x00", filepath.ToSlash(rel), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:20], nil
}

// buildFiles lists the files of the module in root that the go command goArgs reads, sorted:
// go.mod, go.sum and the files of every package of the module it builds.
func buildFiles(root string, goArgs []string) ([]string, error) {
	const fields = "Dir,Module,GoFiles,CgoFiles,CFiles,CXXFiles,HFiles,SFiles,SysoFiles,EmbedFiles," +
		"TestGoFiles,XTestGoFiles,TestEmbedFiles,XTestEmbedFiles"
	pkg := goArgs[len(goArgs)-1]
	tested := filepath.Join(root, pkg)
	test := goArgs[0] == "test"
	args := []string{"list", "-deps", "-json=" + fields}
	if test {
		args = append(args, "-test")
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	seen := map[string]bool{filepath.Join(root, "go.mod"): true}
	if _, err := os.Stat(filepath.Join(root, "go.sum")); err == nil {
		seen[filepath.Join(root, "go.sum")] = true
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			Dir    string
			Module *struct{ Main bool }
			GoFiles, CgoFiles, CFiles, CXXFiles, HFiles, SFiles, SysoFiles, EmbedFiles,
			TestGoFiles, XTestGoFiles, TestEmbedFiles, XTestEmbedFiles []string
		}
		if err := dec.Decode(&p); err != nil {
			return nil, err
		}
		if p.Module == nil || !p.Module.Main {
			continue // the standard library and other modules: go.sum and the toolchain name them
		}
		lists := [][]string{p.GoFiles, p.CgoFiles, p.CFiles, p.CXXFiles, p.HFiles, p.SFiles, p.SysoFiles, p.EmbedFiles}
		if test && p.Dir == tested { // only the tested package's tests are in the binary
			lists = append(lists, p.TestGoFiles, p.XTestGoFiles, p.TestEmbedFiles, p.XTestEmbedFiles)
		}
		for _, list := range lists {
			for _, f := range list {
				if !filepath.IsAbs(f) { // absolute: generated in the build cache (a test's main)
					seen[filepath.Join(p.Dir, f)] = true
				}
			}
		}
	}
	files := make([]string, 0, len(seen))
	for f := range seen {
		files = append(files, f)
	}
	sort.Strings(files)
	return files, nil
}

// used marks a build directory as used now (its modification time), so prune keeps it.
func used(dir string) {
	now := time.Now()
	_ = os.Chtimes(dir, now, now)
}

// prune removes the builds of other source states that nobody used lately, keeping the
// keepBuilds most recently used.
func prune(cache, keep string) {
	entries, err := os.ReadDir(cache)
	if err != nil {
		return
	}
	type build struct {
		dir  string
		used time.Time
	}
	var old []build
	for _, e := range entries {
		dir := filepath.Join(cache, e.Name())
		fi, err := e.Info()
		if err != nil || !e.IsDir() || dir == keep {
			continue
		}
		old = append(old, build{dir, fi.ModTime()})
	}
	sort.Slice(old, func(i, j int) bool { return old[i].used.After(old[j].used) })
	for i, b := range old {
		if i >= keepBuilds-1 && time.Since(b.used) > keepUnused {
			_ = os.RemoveAll(b.dir)
		}
	}
}
