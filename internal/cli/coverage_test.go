package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/testenv"
)

// TestCoverageCommand: `coverage` reads a running mock's coverage and prints it as a table,
// writes JUnit and HTML, and fails under a threshold; --from reads a saved report.
func TestCoverageCommand(t *testing.T) {
	f, so := serveFlags(env(nil), io.Discard)
	if err := f.parse([]string{"--addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	base := "http://" + startServe(t, so)
	// Some traffic: a token, the jobs, and a request without a token.
	req, _ := http.NewRequest("POST", base+"/connect_ats/access_token", nil)
	req.SetBasicAuth("demo-client", "demo-secret")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %v", err)
	} else {
		resp.Body.Close()
	}
	if resp, err := http.Get(base + "/connect_ats/jobs"); err != nil || resp.StatusCode != 401 {
		t.Fatalf("jobs: %v", err)
	} else {
		resp.Body.Close()
	}
	dir := t.TempDir()
	junitPath, htmlPath := filepath.Join(dir, "coverage.xml"), filepath.Join(dir, "coverage.html")
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"coverage", "--url", base, "--junit", junitPath, "--html", htmlPath, "--fail-under", "1"}, env(nil), &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"createAccessToken (POST /connect_ats/access_token)", "✓ 200", "✓ 401 missing", "✗ 401 expired", "POST /_mock/tokens/expire", "coverage: 3 of"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table does not say %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(junitPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Skipped int `xml:"skipped,attr"`
			Cases   []struct {
				Name    string `xml:"name,attr"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil || doc.Tests < 100 || doc.Suites[0].Skipped != doc.Tests-3 {
		t.Fatalf("JUnit: %v, %d tests, %+v", err, doc.Tests, doc.Suites[0].Skipped)
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.CheckHTML(page); err != nil || !strings.Contains(string(page), "POST /_mock/tokens/expire") {
		t.Fatalf("HTML: %v\n%s", err, page)
	}
	out.Reset()
	errb.Reset()
	if code := Main(context.Background(), []string{"coverage", "--url", base, "--fail-under", "99"}, env(nil), &out, &errb); code != exitFail ||
		!strings.Contains(errb.String(), "under --fail-under 99.0%") {
		t.Fatalf("--fail-under 99: exit %d: %s", code, errb.String())
	}
	// A saved report: the mock's JSON, or a proxy report holding it.
	resp, err := http.Get(base + "/_mock/coverage")
	if err != nil {
		t.Fatal(err)
	}
	saved, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wrapped, _ := json.Marshal(map[string]json.RawMessage{"target": []byte(`"x"`), "coverage": saved})
	for name, content := range map[string][]byte{"coverage.json": saved, "report.json": wrapped} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		if code := Main(context.Background(), []string{"coverage", "--from", path}, env(nil), &out, io.Discard); code != exitOK || !strings.Contains(out.String(), "coverage: 3 of") {
			t.Fatalf("--from %s: exit %d\n%s", name, code, out.String())
		}
	}
	if code := Main(context.Background(), []string{"coverage", "--from", junitPath}, env(nil), io.Discard, &errb); code != exitFail {
		t.Fatalf("--from a JUnit file: exit %d", code)
	}
	if code := Main(context.Background(), []string{"coverage", "--fail-under", "120"}, env(nil), io.Discard, io.Discard); code != exitUsage {
		t.Fatalf("--fail-under 120: exit %d", code)
	}
}
