package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/testenv"
)

func env(vars map[string]string) Env { return func(k string) string { return vars[k] } }

func TestMainUsage(t *testing.T) {
	tests := map[string]struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		"no command":      {nil, exitUsage, "Usage"},
		"help":            {[]string{"help"}, exitOK, "Commands"},
		"unknown command": {[]string{"fly"}, exitUsage, `unknown command "fly"`},
		"serve bad flag":  {[]string{"serve", "--nope"}, exitUsage, "nope"},
		"serve help":      {[]string{"serve", "-h"}, exitOK, "EQUALTURE_MOCK_TOKEN_TTL"},
		"serve stray arg": {[]string{"serve", "extra"}, exitUsage, "unexpected arguments"},
		"version arg":     {[]string{"version", "x"}, exitUsage, "no arguments"},
		"bad success set": {[]string{"serve", "--callback-success", "3xx"}, exitUsage, "200 or 2xx"},
		"bad jitter":      {[]string{"serve", "--callback-jitter", "1.5"}, exitUsage, "jitter"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := Main(context.Background(), tc.args, env(nil), &out, &errb); got != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr %s", got, tc.wantCode, errb.String())
			}
			if !strings.Contains(errb.String()+out.String(), tc.wantErr) {
				t.Fatalf("output %q lacks %q", errb.String()+out.String(), tc.wantErr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"version"}, env(nil), &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "equalture-mock ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
}

func TestFlagEnvPrecedence(t *testing.T) {
	tests := map[string]struct {
		env      map[string]string
		args     []string
		wantTTL  time.Duration
		wantAddr string
		wantErr  string
	}{
		"defaults":          {nil, nil, 15 * time.Minute, "127.0.0.1:8080", ""},
		"env":               {map[string]string{"EQUALTURE_MOCK_TOKEN_TTL": "1m", "EQUALTURE_MOCK_ADDR": ":9"}, nil, time.Minute, ":9", ""},
		"flag beats env":    {map[string]string{"EQUALTURE_MOCK_TOKEN_TTL": "1m"}, []string{"--token-ttl", "2m"}, 2 * time.Minute, "127.0.0.1:8080", ""},
		"bad env names var": {map[string]string{"EQUALTURE_MOCK_TOKEN_TTL": "soon"}, nil, 0, "", "EQUALTURE_MOCK_TOKEN_TTL"},
		"bad flag is usage": {nil, []string{"--seed", "x"}, 0, "", "seed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var errb bytes.Buffer
			f, o := serveFlags(env(tc.env), &errb)
			err := f.parse(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error()+errb.String(), tc.wantErr) {
					t.Fatalf("parse error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.cfg.TokenTTL != tc.wantTTL || o.addr != tc.wantAddr {
				t.Fatalf("ttl %v addr %q, want %v %q", o.cfg.TokenTTL, o.addr, tc.wantTTL, tc.wantAddr)
			}
		})
	}
}

// startServe runs serve on a free port and returns its address; the server stops with the test.
func startServe(t *testing.T, o *serveOptions) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, o, slog.New(slog.DiscardHandler), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve ended at once: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve never became ready")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("graceful shutdown: %v", err)
		}
	})
	return addr
}

func TestServeAndHealthcheck(t *testing.T) {
	f, o := serveFlags(env(nil), io.Discard)
	if err := f.parse([]string{"--addr", "127.0.0.1:0", "--seed", "5"}); err != nil {
		t.Fatal(err)
	}
	addr := startServe(t, o)
	if want := "http://localhost:" + port(addr); o.cfg.PublicURL != want {
		t.Fatalf("public URL defaults to %q, want %q", o.cfg.PublicURL, want)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz answered %d", resp.StatusCode)
	}

	var out bytes.Buffer
	if code := Main(context.Background(), []string{"healthcheck"}, env(map[string]string{"EQUALTURE_MOCK_ADDR": addr}), &out, io.Discard); code != 0 {
		t.Fatalf("healthcheck against a running mock exited %d", code)
	}
	for _, u := range []string{"http://" + addr, "http://" + addr + "/", "http://" + addr + "/healthz"} {
		if code := Main(context.Background(), []string{"healthcheck", "--url", u}, env(nil), &out, io.Discard); code != 0 {
			t.Fatalf("healthcheck --url %s exited %d", u, code)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	var errb bytes.Buffer
	if code := Main(context.Background(), []string{"healthcheck", "--url", "http://" + dead + "/healthz", "--timeout", "2s"}, env(nil), io.Discard, &errb); code != exitFail {
		t.Fatalf("healthcheck against a dead port exited %d", code)
	}
	if !strings.Contains(errb.String(), dead) {
		t.Fatalf("healthcheck error %q does not name the URL", errb.String())
	}
}

func TestServeFailsOnBrokenFixtures(t *testing.T) {
	dir := t.TempDir()
	var errb bytes.Buffer
	code := Main(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--fixtures", dir}, env(nil), io.Discard, &errb)
	if code != exitFail || !strings.Contains(errb.String(), "clients.yaml") {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
}

func TestContractCommand(t *testing.T) {
	dir := t.TempDir()
	bin := testenv.ContractSuite(t)
	f, o := serveFlags(env(nil), io.Discard)
	if err := f.parse([]string{"--addr", "127.0.0.1:0", "--seed", "5"}); err != nil {
		t.Fatal(err)
	}
	addr := startServe(t, o)
	var out bytes.Buffer
	report := dir + "/report.xml"
	code := Main(context.Background(), []string{"contract", "--binary", bin, "--base-url", "http://" + addr,
		"--client-id", "demo-client", "--client-secret", "demo-secret", "--control-url", "http://" + addr + "/_mock",
		"--junit", report, "--label-filter", "readonly || control"}, env(nil), &out, &out)
	if code != 0 {
		t.Fatalf("contract against a running mock exited %d:\n%s", code, out.String())
	}
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), "<testsuites") {
		t.Fatalf("JUnit report: %v %.200s", err, b)
	}
	out.Reset()
	if code := Main(context.Background(), []string{"contract", "--binary", dir + "/missing"}, env(nil), &out, &out); code == 0 {
		t.Fatal("a missing suite binary succeeded")
	}
}

func TestScenarioCommand(t *testing.T) {
	f, o := serveFlags(env(nil), io.Discard)
	if err := f.parse([]string{"--addr", "127.0.0.1:0", "--seed", "5"}); err != nil {
		t.Fatal(err)
	}
	addr := startServe(t, o)
	report := t.TempDir() + "/scenarios.xml"
	var out bytes.Buffer
	code := Main(context.Background(), []string{"scenario", "run", "--target", "http://" + addr, "--junit", report, "../../scenarios"}, env(nil), &out, &out)
	if code != 0 {
		t.Fatalf("the library against a separately started serve exited %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "16 passed, 0 failed") {
		t.Fatalf("summary: %s", out.String()[max(0, out.Len()-300):])
	}
	if _, err := os.Stat(report); err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		"validate the library": {[]string{"scenario", "validate", "../../scenarios"}, 0, "16 valid, 0 invalid"},
		"list":                 {[]string{"scenario", "list", "../../scenarios/wrong-credentials.yaml"}, 0, "Wrong credentials"},
		"no such path":         {[]string{"scenario", "run", "nope/"}, exitUsage, "no such file"},
		"unknown subcommand":   {[]string{"scenario", "dance", "../../scenarios"}, exitUsage, "unknown subcommand"},
		"in-process run":       {[]string{"scenario", "run", "../../scenarios/wrong-credentials.yaml"}, 0, "1 passed, 0 failed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if code := Main(context.Background(), tc.args, env(nil), &out, &out); code != tc.wantCode || !strings.Contains(out.String(), tc.wantOut) {
				t.Fatalf("exit %d (want %d), output:\n%s", code, tc.wantCode, out.String())
			}
		})
	}
}
