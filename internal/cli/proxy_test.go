package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/proxy"
)

func TestProxyCommandLine(t *testing.T) {
	tests := map[string]struct {
		args    []string
		env     map[string]string
		wantErr string
	}{
		"no target":                {nil, nil, "--target is required"},
		"a host without a scheme":  {[]string{"--target", "localhost:8080"}, nil, "not an absolute http(s) URL"},
		"a bare name":              {[]string{"--target", "app.equalture.com"}, nil, "not an absolute http(s) URL"},
		"a path":                   {[]string{"--target", "/connect_ats"}, nil, "not an absolute http(s) URL"},
		"another scheme":           {[]string{"--target", "ftp://app.equalture.com"}, nil, "not an absolute http(s) URL"},
		"no host":                  {[]string{"--target", "http://"}, nil, "not an absolute http(s) URL"},
		"a bad target from env":    {nil, map[string]string{"EQUALTURE_MOCK_PROXY_TARGET": "equalture"}, "not an absolute http(s) URL"},
		"relay without public URL": {[]string{"--target", "https://x.example", "--relay-callbacks"}, nil, "--relay-callbacks needs --public-url"},
		"a relative public URL":    {[]string{"--target", "https://x.example", "--relay-callbacks", "--public-url", "proxy:8081"}, nil, "--public-url"},
		"a public URL, no relay":   {[]string{"--target", "https://x.example", "--public-url", "https://p.example"}, nil, "only matter with --relay-callbacks"},
		"a stray argument":         {[]string{"--target", "https://x.example", "extra"}, nil, "unexpected arguments"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var errb bytes.Buffer
			if code := Main(context.Background(), append([]string{"proxy"}, tc.args...), env(tc.env), io.Discard, &errb); code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitUsage, errb.String())
			}
			if !strings.Contains(errb.String(), tc.wantErr) {
				t.Fatalf("stderr %q does not say %q", errb.String(), tc.wantErr)
			}
		})
	}
	var errb bytes.Buffer
	if code := Main(context.Background(), []string{"proxy", "-h"}, env(nil), io.Discard, &errb); code != exitOK || !strings.Contains(errb.String(), "EQUALTURE_MOCK_PROXY_TARGET") {
		t.Fatalf("help: %d %s", code, errb.String())
	}
}

// TestProxyCommandInFrontOfTheMock: `proxy` in front of `serve`, relaying callbacks, sees no
// violation in a create → complete → callback → results flow, and writes its reports.
func TestProxyCommandInFrontOfTheMock(t *testing.T) {
	f, so := serveFlags(env(nil), io.Discard)
	// The mock and the proxy guard their control APIs with the same admin token: the proxy's own
	// /_mock/journal wants it, and what the proxy forwards to the mock's carries it.
	if err := f.parse([]string{"--addr", "127.0.0.1:0", "--seed", "5", "--admin-token", "shared-admin"}); err != nil {
		t.Fatal(err)
	}
	mock := "http://" + startServe(t, so)
	dir := t.TempDir()
	pf, o := proxyFlags(env(nil), io.Discard)
	port := freeTCPPort(t)
	self := "http://127.0.0.1:" + port
	if err := pf.parse([]string{"--target", mock, "--addr", "127.0.0.1:" + port, "--relay-callbacks", "--public-url", self, "--admin-token", "shared-admin",
		"--report", filepath.Join(dir, "report.json"), "--junit", filepath.Join(dir, "proxy.xml")}); err != nil {
		t.Fatal(err)
	}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	type result struct {
		r   proxy.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := runProxyServer(ctx, o, slog.New(slog.DiscardHandler), ready)
		done <- result{r, err}
	}()
	select {
	case <-ready:
	case res := <-done:
		t.Fatalf("the proxy ended at once: %v", res.err)
	}
	callbacks := make(chan string, 1)
	ats := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		callbacks <- string(b)
	}))
	defer ats.Close()

	call := func(method, path, body string, auth func(*http.Request)) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, self+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth != nil {
			auth(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, v)
		}
		return v
	}
	tok := call("POST", "/connect_ats/access_token", "", func(r *http.Request) { r.SetBasicAuth("demo-client", "demo-secret") })["access_token"].(string)
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	ref := call("POST", "/connect_ats/applications", `{"job_id":"0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01","callback_url":"`+ats.URL+`/cb",
		"applicant_details":{"first_name":"A","last_name":"B","email":"a@example.com"}}`, bearer)["reference_id"].(string)
	admin := func(r *http.Request) { r.Header.Set("Authorization", "Bearer shared-admin") }
	call("POST", "/_mock/applications/"+ref+"/complete", "", admin) // the control API, through the proxy to the mock
	if resp, err := http.Get(self + "/_mock/journal"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the proxy's journal without the admin token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if j := call("GET", "/_mock/journal", "", admin); j["count"] == nil {
		t.Fatalf("the proxy's journal with the admin token: %v", j)
	}
	select {
	case got := <-callbacks:
		if !strings.Contains(got, `"fit"`) {
			t.Fatalf("callback %s", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no callback reached the ATS through the relay")
	}
	call("GET", "/connect_ats/applications/"+ref+"/results?locale=nl", "", bearer)
	cancel()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.r.Violations != 0 || len(res.r.Operations) != 4 {
		t.Fatalf("report:\n%s", res.r.Summary())
	}
	var fromFile proxy.Report
	if b, err := os.ReadFile(filepath.Join(dir, "report.json")); err != nil || json.Unmarshal(b, &fromFile) != nil || fromFile.Exchanges != res.r.Exchanges || strings.Contains(string(b), tok) {
		t.Fatalf("report.json: %v %s", err, b)
	}
	b, err := os.ReadFile(filepath.Join(dir, "proxy.xml"))
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err != nil || xml.Unmarshal(b, &doc) != nil || doc.Tests != 4 || doc.Failures != 0 {
		t.Fatalf("proxy.xml: %v\n%s", err, b)
	}
}

// TestProxyFailsOnViolation: in front of a target breaking the contract, --fail-on-violation
// makes the command exit 1 at shutdown, after a summary naming the operation and the field.
func TestProxyFailsOnViolation(t *testing.T) {
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `[{"id":"0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01"}]`) // a job without its name
	}))
	defer broken.Close()
	for _, fail := range []bool{false, true} {
		port := freeTCPPort(t)
		args := []string{"proxy", "--target", broken.URL, "--addr", "127.0.0.1:" + port}
		if fail {
			args = append(args, "--fail-on-violation")
		}
		ctx, cancel := context.WithCancel(context.Background())
		var errb bytes.Buffer
		code := make(chan int, 1)
		go func() { code <- Main(ctx, args, env(nil), io.Discard, &errb) }()
		var resp *http.Response
		var err error
		for i := 0; i < 200; i++ { // until it listens
			req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+"/connect_ats/jobs", nil)
			req.Header.Set("Authorization", "Bearer x")
			if resp, err = http.DefaultClient.Do(req); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cancel()
		want := exitOK
		if fail {
			want = exitFail
		}
		if got := <-code; got != want {
			t.Fatalf("--fail-on-violation=%v: exit %d, want %d\n%s", fail, got, want, errb.String())
		}
		for _, s := range []string{"1 violation(s) of openapi.yaml", "listJobs", `field "0.name" can't be blank`} {
			if !strings.Contains(errb.String(), s) {
				t.Errorf("the summary does not say %q:\n%s", s, errb.String())
			}
		}
	}
}

func freeTCPPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// TestProxyCommandSuggestsAndRecords: `proxy --suggest FILE --record-fixtures DIR` in front of a
// target that answers a status value the contract did not guess writes, at shutdown, a patch of
// openapi.yaml naming it and a fixtures directory of the account that the mock loads.
func TestProxyCommandSuggestsAndRecords(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/connect_ats/access_token":
			_, _ = io.WriteString(w, `{"access_token":"SFMyNTY.e30.c2ln"}`)
		case "/connect_ats/jobs":
			_, _ = io.WriteString(w, `[{"id":"0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01","name":"Engineer"}]`)
		default:
			_, _ = io.WriteString(w, `{"status":"in_progress"}`)
		}
	}))
	defer target.Close()
	dir := t.TempDir()
	patch, fixturesDir := filepath.Join(dir, "openapi.patch"), filepath.Join(dir, "fixtures")
	port := freeTCPPort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var errb bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- Main(ctx, []string{"proxy", "--target", target.URL, "--addr", "127.0.0.1:" + port,
			"--suggest", patch, "--record-fixtures", fixturesDir}, env(nil), io.Discard, &errb)
	}()
	self := "http://127.0.0.1:" + port
	send := func(method, path, auth string) {
		t.Helper()
		for i := 0; i < 200; i++ { // until it listens
			req, _ := http.NewRequest(method, self+path, nil)
			req.Header.Set("Authorization", auth)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s %s: the proxy does not answer", method, path)
	}
	send("POST", "/connect_ats/access_token", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=") // demo-client:demo-secret
	send("GET", "/connect_ats/jobs", "Bearer SFMyNTY.e30.c2ln")
	send("GET", "/connect_ats/applications/d2c37d4d-b8d4-46a9-b230-42a246ad6153/status", "Bearer SFMyNTY.e30.c2ln")
	cancel()
	if got := <-code; got != exitOK {
		t.Fatalf("exit %d\n%s", got, errb.String())
	}
	b, err := os.ReadFile(patch)
	if err != nil || !strings.Contains(string(b), "+          enum: [invited, started, completed, hired, anonymized, expired, in_progress]") {
		t.Fatalf("the patch: %v\n%s", err, b)
	}
	clients, err := os.ReadFile(filepath.Join(fixturesDir, "clients.yaml"))
	if err != nil || !strings.Contains(string(clients), "client_id: demo-client") || !strings.Contains(string(clients), "name: Engineer") ||
		strings.Contains(string(clients), "demo-secret") {
		t.Fatalf("clients.yaml: %v\n%s", err, clients)
	}
	// The mock serves the recording.
	f, so := serveFlags(env(nil), io.Discard)
	if err := f.parse([]string{"--addr", "127.0.0.1:0", "--fixtures", fixturesDir}); err != nil {
		t.Fatal(err)
	}
	startServe(t, so)
}
