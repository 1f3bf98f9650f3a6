package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeT records how a helper ended a test.
type fakeT struct {
	testing.TB
	skipped, failed string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// as runs fn as a test would, on a fakeT, and returns it.
func as(fn func(testing.TB)) *fakeT {
	f := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestToolRequireSkipsOrFails(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	missing := func() (string, error) { return "", fmt.Errorf("%w: no tool on PATH", ErrMissing) }
	broken := func() (string, error) { return "", errors.New("TOOL=/nope: no such file") }
	found := func() (string, error) { return exe, nil }
	tests := map[string]struct {
		find               func() (string, error)
		ci                 string
		wantSkip, wantFail bool
		wantPath           string
		wantSays           []string
	}{
		"found":                    {find: found, wantPath: exe},
		"found, in CI":             {find: found, ci: "true", wantPath: exe},
		"missing: a skip":          {find: missing, wantSkip: true, wantSays: []string{"a tool: not installed: no tool on PATH", "`make tool-deps` installs it", "CI=true"}},
		"missing, CI=false":        {find: missing, ci: "false", wantSkip: true},
		"missing, CI=true: a fail": {find: missing, ci: "true", wantFail: true, wantSays: []string{"a tool: not installed: no tool on PATH", "CI=true", "`make tool-deps`"}},
		"missing, CI=1: a fail":    {find: missing, ci: "1", wantFail: true},
		"set up wrongly: a fail":   {find: broken, wantFail: true, wantSays: []string{"a tool: TOOL=/nope: no such file"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			tool := newTool("a tool", "make tool-deps", tc.find)
			var path string
			f := as(func(t testing.TB) { path = tool.Require(t) })
			if got := f.skipped != ""; got != tc.wantSkip {
				t.Errorf("skipped = %v (%q), want %v", got, f.skipped, tc.wantSkip)
			}
			if got := f.failed != ""; got != tc.wantFail {
				t.Errorf("failed = %v (%q), want %v", got, f.failed, tc.wantFail)
			}
			if path != tc.wantPath {
				t.Errorf("path = %q, want %q", path, tc.wantPath)
			}
			for _, w := range tc.wantSays {
				if msg := f.skipped + f.failed; !strings.Contains(msg, w) {
					t.Errorf("%q does not say %q", msg, w)
				}
			}
		})
	}
}

func TestToolLooksOnce(t *testing.T) {
	n := 0
	tool := newTool("a tool", "make tools", func() (string, error) { n++; return "/x", nil })
	for range 3 {
		if p, err := tool.Find(); p != "/x" || err != nil {
			t.Fatalf("Find = %q, %v", p, err)
		}
	}
	if n != 1 {
		t.Fatalf("looked %d times, want once", n)
	}
}

func TestFindChromium(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "my-chromium")
	plain := filepath.Join(dir, "not-executable")
	onPath := filepath.Join(t.TempDir(), "chromium")
	debian := filepath.Join(t.TempDir(), "usr-bin-chromium")
	for p, mode := range map[string]os.FileMode{exe: 0o755, plain: 0o644, onPath: 0o755, debian: 0o755} {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	tests := map[string]struct {
		env, path, debian string
		wantPath          string
		wantErr           string // a set-up error, not ErrMissing
		wantMissing       bool
	}{
		"EQUALTURE_CHROMIUM first":           {env: exe, path: filepath.Dir(onPath), debian: debian, wantPath: exe},
		"EQUALTURE_CHROMIUM, not executable": {env: plain, path: filepath.Dir(onPath), wantErr: "EQUALTURE_CHROMIUM=" + plain + ": not an executable file"},
		"EQUALTURE_CHROMIUM, not there":      {env: filepath.Join(dir, "nope"), wantErr: "EQUALTURE_CHROMIUM=" + filepath.Join(dir, "nope")},
		"on PATH":                            {path: filepath.Dir(onPath), debian: debian, wantPath: onPath},
		"Debian's":                           {path: empty, debian: debian, wantPath: debian},
		"nowhere":                            {path: empty, debian: filepath.Join(dir, "nope"), wantMissing: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("EQUALTURE_CHROMIUM", tc.env)
			t.Setenv("PATH", tc.path)
			defer func(p string) { debianChromium = p }(debianChromium)
			debianChromium = tc.debian
			p, err := findChromium()
			switch {
			case tc.wantMissing:
				if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "EQUALTURE_CHROMIUM is not set") {
					t.Fatalf("err = %v, want ErrMissing saying where it looked", err)
				}
			case tc.wantErr != "":
				if err == nil || errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a set-up error saying %q", err, tc.wantErr)
				}
			case err != nil || p != tc.wantPath:
				t.Fatalf("findChromium = %q, %v; want %q", p, err, tc.wantPath)
			}
		})
	}
}

func TestInModule(t *testing.T) {
	if p, err := inModule("go.mod")(); err != nil || filepath.Base(p) != "go.mod" {
		t.Fatalf("go.mod: %q, %v", p, err)
	}
	if _, err := inModule("tools/nothing/here")(); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "tools/nothing/here") {
		t.Fatalf("a file that is not there: %v", err)
	}
}
