package cli

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeScenarios writes files into a temporary directory and returns it.
func writeScenarios(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	passing = `name: Jobs are listed
description: |
  A token, then the jobs.
steps:
  - request: {method: POST, path: /connect_ats/access_token, auth: basic}
  - request: {method: GET, path: /connect_ats/jobs, auth: bearer}
    expect: {json: {0.id: "${job_id}"}}
  - control: {advance_clock: 1m}
`
	failing = `name: Expects a janitor
steps:
  - request: {method: POST, path: /connect_ats/access_token, auth: basic}
  - name: the first job is the janitor
    request: {method: GET, path: /connect_ats/jobs, auth: bearer}
    expect: {json: {0.name: Janitor}}
`
	broken = `name: Broken
steps:
  - request: {method: GET, path: /connect_ats/jobs}
    expect: {stauts: 200}
`
)

// The runner against a separately started serve, configured by environment variables, with an
// admin token on the control API, flags after the paths and a JUnit report.
func TestScenarioRunAgainstServe(t *testing.T) {
	f, o := serveFlags(env(nil), io.Discard)
	if err := f.parse([]string{"--addr", "127.0.0.1:0", "--admin-token", "s3cret"}); err != nil {
		t.Fatal(err)
	}
	addr := startServe(t, o)
	dir := writeScenarios(t, map[string]string{"a.yaml": passing, "b.yaml": failing})
	report := filepath.Join(t.TempDir(), "report.xml")
	vars := map[string]string{"EQUALTURE_MOCK_SCENARIO_TARGET": "http://" + addr}

	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"scenario", "run", filepath.Join(dir, "a.yaml")}, env(vars), &out, &errb)
	if code != exitFail || !strings.Contains(out.String(), "the mock has an admin token; pass it with --admin-token") {
		t.Fatalf("without the admin token: exit %d\n%s%s", code, out.String(), errb.String())
	}

	vars["EQUALTURE_MOCK_ADMIN_TOKEN"] = "s3cret"
	out.Reset()
	code = Main(context.Background(), []string{"scenario", "run", dir, "--junit", report}, env(vars), &out, &errb)
	if code != exitFail {
		t.Fatalf("a failing scenario exited %d:\n%s", code, out.String())
	}
	for _, want := range []string{
		"against http://" + addr + " (reset before each)",
		"✔ passed Jobs are listed",
		`✗ 2 the first job is the janitor — GET /connect_ats/jobs → 200`,
		`json 0.name: expected "Janitor", got "First assessment job - Engineer"`,
		"2 scenarios: 1 passed, 1 failed",
		`✘ Expects a janitor (` + filepath.Join(dir, "b.yaml") + `)`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("report is not XML: %v\n%s", err, b)
	}
	if doc.Tests != 2 || doc.Failures != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 ||
		doc.Suites[0].Cases[1].Failure == nil || !strings.Contains(doc.Suites[0].Cases[1].Failure.Message, `step 2 "the first job is the janitor"`) {
		t.Fatalf("report:\n%s", b)
	}
}

func TestScenarioCommandLine(t *testing.T) {
	dir := writeScenarios(t, map[string]string{"ok.yaml": passing, "bad.yaml": broken})
	good := filepath.Join(dir, "ok.yaml")
	empty := t.TempDir()
	tests := map[string]struct {
		args     []string
		env      map[string]string
		wantCode int
		want     []string
	}{
		"no subcommand":     {[]string{"scenario"}, nil, exitUsage, []string{"Usage: equalture-mock scenario <run|list|validate>"}},
		"help":              {[]string{"scenario", "-h"}, nil, exitOK, []string{"validate  check scenario files"}},
		"run help":          {[]string{"scenario", "run", "-h"}, nil, exitOK, []string{"EQUALTURE_MOCK_SCENARIO_TARGET", "EQUALTURE_MOCK_SCENARIO_RECEIVER_ADDR", "EQUALTURE_MOCK_SCENARIO_RECEIVER_URL", "EQUALTURE_MOCK_SCENARIO_JUNIT"}},
		"unknown sub":       {[]string{"scenario", "dance"}, nil, exitUsage, []string{`unknown subcommand "dance"`}},
		"bad flag":          {[]string{"scenario", "run", "--nope"}, nil, exitUsage, []string{"nope"}},
		"no such path":      {[]string{"scenario", "validate", filepath.Join(dir, "nope")}, nil, exitUsage, []string{"no such file or directory"}},
		"no scenario files": {[]string{"scenario", "list", empty}, nil, exitUsage, []string{"no scenario files"}},
		"validate good":     {[]string{"scenario", "validate", good}, nil, exitOK, []string{"1 valid, 0 invalid"}},
		"validate broken": {[]string{"scenario", "validate", dir}, nil, exitFail,
			[]string{filepath.Join(dir, "bad.yaml") + `:4: step 1, expect: unknown field "stauts"`, "1 valid, 1 invalid"}},
		"run refuses broken files": {[]string{"scenario", "run", dir}, nil, exitUsage, []string{"bad.yaml:4", "1 file(s) are broken; nothing was run"}},
		"list":                     {[]string{"scenario", "list", good}, nil, exitOK, []string{"Jobs are listed\n    " + good + "\n    A token, then the jobs.\n"}},
		"run in-process":           {[]string{"scenario", "run", good}, nil, exitOK, []string{"a fresh in-process mock each", "1 scenarios: 1 passed, 0 failed"}},
		"receiver address from env": {[]string{"scenario", "run", good}, map[string]string{"EQUALTURE_MOCK_SCENARIO_RECEIVER_ADDR": "127.0.0.1:0", "EQUALTURE_MOCK_SCENARIO_RECEIVER_URL": "http://receiver.example:9"},
			exitOK, []string{"callback receiver at http://receiver.example:9"}},
		"target down": {[]string{"scenario", "run", good, "--target", "http://127.0.0.1:1"}, nil, exitFail, []string{"cannot start the target", "/_mock/reset"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			code := Main(context.Background(), tc.args, env(tc.env), &out, &out)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.wantCode, out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
