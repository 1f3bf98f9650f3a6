package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
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
// command and every file of the module (not its tools modules, VCS data or outputs).
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
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			switch {
			case rel == ".":
				return nil
			case strings.HasPrefix(d.Name(), "."), d.Name() == "node_modules", rel == "bin", rel == "reports":
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // another module (tools/…)
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:20], nil
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
