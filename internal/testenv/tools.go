package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// The tools some tests need that Go does not bring. Tests never install them: `make test`
// does first (its targets `tools` and `browser-deps`). A test that finds one missing is skipped,
// saying what is missing and the command that installs it — unless CI=true, where it fails:
// CI runs `make test`, so a tool missing there is a broken set-up, and a skip would hide that a
// check did not run.

// ErrMissing is what Tool.Find's error wraps when the tool is not installed (rather than set up
// wrongly).
var ErrMissing = errors.New("not installed")

// A Tool is a program or file that some tests need and a make target installs.
type Tool struct {
	Name    string                 // what it is, for messages
	Install string                 // the command that installs it
	find    func() (string, error) // looks once per process
}

func newTool(name, install string, find func() (string, error)) *Tool {
	return &Tool{Name: name, Install: install, find: sync.OnceValues(find)}
}

var (
	// Chromium is the browser the browser tests drive (internal/e2e): $EQUALTURE_CHROMIUM when
	// set, else chromium on PATH or at /usr/bin/chromium (Debian's package).
	Chromium = newTool("Chromium", "make browser-deps", findChromium)
	// Redocly is the OpenAPI linter the contracts are checked with (npm, pinned in tools/lint).
	Redocly = newTool("the Redocly linter", "make tools", inModule("tools/lint/node_modules/.bin/redocly"))
	// AxeCore is the accessibility checker the browser tests inject into pages (npm, pinned in
	// tools/axe); its path is axe.min.js.
	AxeCore = newTool("axe-core", "make tools", inModule("tools/axe/node_modules/axe-core/axe.min.js"))
)

// OnPath is a command some tests run, found on PATH; install is the command that installs it.
func OnPath(name, install string) *Tool {
	return newTool(name, install, func() (string, error) {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%w: no %s on PATH", ErrMissing, name)
		}
		return p, nil
	})
}

// Find returns the tool's path, or an error saying why it cannot be used: one wrapping
// ErrMissing when it is not installed. It looks once per process.
func (tl *Tool) Find() (string, error) { return tl.find() }

// Require returns the tool's path. When it is not installed, t is skipped saying so and how to
// install it, or fails under CI=true (see Missing); when it is set up wrongly (say, an
// environment variable naming a file that is not there), t fails.
func (tl *Tool) Require(t testing.TB) string {
	t.Helper()
	p, err := tl.Find()
	switch {
	case err == nil:
		return p
	case errors.Is(err, ErrMissing):
		Missing(t, fmt.Sprintf("%s: %v", tl.Name, err), tl.Install)
	default:
		t.Fatalf("%s: %v", tl.Name, err)
	}
	return ""
}

// Missing ends t because something it needs is not on this machine: what says what is
// missing, install the command that installs it. It skips t, or fails it when CI is true.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	if CI() {
		t.Fatalf("%s; CI=true, so this is a failure: the set-up must run `%s` (make test does)", what, install)
	}
	t.Skipf("%s; skipped: `%s` installs it (CI=true turns this skip into a failure)", what, install)
}

// CI reports whether the tests run in CI, where everything a test needs must be installed: the
// environment variable CI is true (CI=true, as GitHub Actions and GitLab set it, or 1).
func CI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// debianChromium is where Debian's package puts the browser (a variable for tests).
var debianChromium = "/usr/bin/chromium"

func findChromium() (string, error) {
	if p := os.Getenv("EQUALTURE_CHROMIUM"); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("EQUALTURE_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	if executable(debianChromium) == nil {
		return debianChromium, nil
	}
	return "", fmt.Errorf("%w: no chromium on PATH or at %s, and EQUALTURE_CHROMIUM is not set", ErrMissing, debianChromium)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// inModule finds a file at rel in the module's directory (where make targets install tools).
func inModule(rel string) func() (string, error) {
	return func() (string, error) {
		root, err := ModuleRoot()
		if err != nil {
			return "", err
		}
		p := filepath.Join(root, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: no %s", ErrMissing, rel)
		}
		return p, nil
	}
}

// ModuleRoot returns the module's directory: the nearest one above the working directory (a
// test's package directory) with a go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
