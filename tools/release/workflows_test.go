// Package release_test checks what cannot run here: the GitHub Actions workflows (.github/workflows,
// and the example an ATS copies) as GitHub reads them (actionlint), what they run, that every action
// is pinned, and that every published image name is one the release pushes. make test runs it
// (make release-checks).
package release_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v3"
)

// repo is the repository's root, two levels up from this module.
var repo = filepath.Join("..", "..")

type workflow struct {
	On          any               `yaml:"on"` // a list of events or a map of them
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		RunsOn    string `yaml:"runs-on"`
		Timeout   int    `yaml:"timeout-minutes"`
		Container struct {
			Image string `yaml:"image"`
		} `yaml:"container"`
		Services map[string]struct {
			Image string `yaml:"image"`
		} `yaml:"services"`
		Steps []struct {
			Name string            `yaml:"name"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			With map[string]any    `yaml:"with"`
			Env  map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t *testing.T, rel string) workflow {
	t.Helper()
	var w workflow
	if err := yaml.Unmarshal(read(t, rel), &w); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return w
}

// runs returns every run: script of the workflow, job by job in no particular order.
func (w workflow) runs() []string {
	var out []string
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			if s.Run != "" {
				out = append(out, s.Run)
			}
		}
	}
	return out
}

// events returns the workflow's events and their settings.
func (w workflow) events() map[string]any {
	out := map[string]any{}
	switch on := w.On.(type) {
	case map[string]any:
		out = on
	case []any:
		for _, e := range on {
			out[e.(string)] = nil
		}
	case string:
		out[on] = nil
	}
	return out
}

func hasRun(w workflow, want string) bool {
	for _, r := range w.runs() {
		for _, line := range strings.Split(r, "\n") {
			if strings.TrimSpace(line) == want || strings.HasPrefix(strings.TrimSpace(line), want+" ") {
				return true
			}
		}
	}
	return false
}

var workflowFiles = []string{".github/workflows/ci.yml", ".github/workflows/release.yml", "examples/github-actions.yml"}

func TestWorkflowsLint(t *testing.T) {
	opts := &actionlint.LinterOptions{LogWriter: io.Discard, Oneline: true}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc // the run: scripts too, where Debian's shellcheck is installed
	} else {
		t.Log("shellcheck not installed: the run: scripts are not checked (apt-get install shellcheck)")
	}
	for _, f := range workflowFiles {
		t.Run(f, func(t *testing.T) {
			l, err := actionlint.NewLinter(io.Discard, opts)
			if err != nil {
				t.Fatal(err)
			}
			errs, err := l.LintFile(filepath.Join(repo, f), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range errs {
				t.Errorf("%s:%d:%d: %s [%s]", f, e.Line, e.Column, e.Message, e.Kind)
			}
		})
	}
}

func TestCIRunsMakeTest(t *testing.T) {
	w := parse(t, ".github/workflows/ci.yml")
	for _, ev := range []string{"push", "pull_request"} {
		if _, ok := w.events()[ev]; !ok {
			t.Errorf("ci.yml does not run on %s", ev)
		}
	}
	if !hasRun(w, "make test") {
		t.Errorf("no step of ci.yml runs make test (what .ci/run runs): %q", w.runs())
	}
	if !hasRun(w, "make release-test") {
		t.Errorf("no step of ci.yml runs make release-test")
	}
	if w.Permissions["contents"] != "read" {
		t.Errorf("ci.yml's token may do more than read: %v", w.Permissions)
	}
	for name, j := range w.Jobs {
		if j.Timeout == 0 || j.Timeout > 30 {
			t.Errorf("job %s has timeout-minutes %d, want 1-30", name, j.Timeout)
		}
	}
}

func TestReleaseRunsMakeRelease(t *testing.T) {
	w := parse(t, ".github/workflows/release.yml")
	push, _ := w.events()["push"].(map[string]any)
	tags, _ := push["tags"].([]any)
	if len(tags) != 1 || tags[0] != "v[0-9]+.[0-9]+.[0-9]+" {
		t.Errorf("release.yml runs on push tags %v, want only release tags v[0-9]+.[0-9]+.[0-9]+", tags)
	}
	if len(w.events()) != 1 {
		t.Errorf("release.yml runs on more than tags: %v", w.On)
	}
	if w.Permissions["contents"] != "write" || w.Permissions["packages"] != "write" {
		t.Errorf("release.yml's permissions %v: it needs contents: write (the release) and packages: write (ghcr.io)", w.Permissions)
	}
	// In this order: make the files, publish them, push the images.
	want := []string{"make release", "gh release create", "scripts/release push docker://ghcr.io/equalture"}
	all := strings.Join(w.runs(), "\n")
	at := 0
	for _, s := range want {
		i := strings.Index(all[at:], s)
		if i < 0 {
			t.Fatalf("release.yml does not run %q after %q:\n%s", s, all[:at], all)
		}
		at += i + len(s)
	}
	for _, asset := range []string{"*.tar.gz", "*.zip", "*.deb", "*.rpm", "*.sbom.cdx.json", "SHA256SUMS", "--notes-file RELEASE_NOTES.md"} {
		if !strings.Contains(all, asset) {
			t.Errorf("the GitHub release does not get %s", asset)
		}
	}
}

// Every action of the project's workflows is pinned to a commit, with the version in a comment.
func TestActionsPinned(t *testing.T) {
	pinned := regexp.MustCompile(`^\s*(?:- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$`)
	for _, f := range []string{".github/workflows/ci.yml", ".github/workflows/release.yml"} {
		for i, line := range strings.Split(string(read(t, f)), "\n") {
			if strings.Contains(line, "uses:") && !pinned.MatchString(line) {
				t.Errorf("%s:%d: %q is not pinned to a commit with its version in a comment", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// The names users are told to pull are the ones the release pushes.
func TestPublishedImageNames(t *testing.T) {
	// scripts/release: images=(NAME:TARGET …), pushed under the prefix release.yml gives.
	m := regexp.MustCompile(`(?m)^images=\(([^)]*)\)`).FindSubmatch(read(t, "scripts/release"))
	if m == nil {
		t.Fatal("scripts/release has no images=(…) line")
	}
	published := map[string]bool{}
	for _, f := range strings.Fields(string(m[1])) {
		name, _, _ := strings.Cut(f, ":")
		published["ghcr.io/equalture/"+name] = true
	}
	if !published["ghcr.io/equalture/equalture-mock"] || !published["ghcr.io/equalture/equalture-mock-contract"] {
		t.Fatalf("scripts/release pushes %v", published)
	}
	ref := regexp.MustCompile(`ghcr\.io/[\w./-]+(?::[\w.-]+)?`)
	for _, f := range []string{"examples/github-actions.yml", "docker-compose.yml", "Dockerfile", "packaging/release.Containerfile", "CHANGELOG.md"} {
		refs := ref.FindAllString(string(read(t, f)), -1)
		if len(refs) == 0 && (f == "examples/github-actions.yml" || f == "docker-compose.yml") {
			t.Errorf("%s names no published image", f)
		}
		for _, r := range refs {
			name, _, _ := strings.Cut(r, ":")
			if !published[name] {
				t.Errorf("%s names %s, which the release does not push (it pushes %v)", f, r, published)
			}
		}
	}
	// The example's service container is the published mock.
	w := parse(t, "examples/github-actions.yml")
	found := false
	for _, j := range w.Jobs {
		for _, s := range j.Services {
			if strings.HasPrefix(s.Image, "ghcr.io/equalture/equalture-mock:") {
				found = true
			}
		}
	}
	if !found {
		t.Error("examples/github-actions.yml runs no ghcr.io/equalture/equalture-mock service")
	}
	var compose struct {
		Services map[string]struct {
			Image string `yaml:"image"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(read(t, "docker-compose.yml"), &compose); err != nil {
		t.Fatal(err)
	}
	if img := compose.Services["equalture-mock"].Image; !strings.HasPrefix(img, "ghcr.io/equalture/equalture-mock:") {
		t.Errorf("docker-compose.yml's equalture-mock service runs %q, not the published image", img)
	}
}
