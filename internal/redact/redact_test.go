package redact_test

import (
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/redact"
)

const (
	webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	accessToken   = "SFMyNTY.g2gDbQAAACRkZW1vLWNsaWVudG4GAHqMxSiSAWIAAAOE.HVwPMl7ou2XzdQfCkaPk5LKpK1f4y3nDDOG3tO1DHSQ"
)

func TestHint(t *testing.T) {
	for secret, want := range map[string]string{
		webhookSecret:          "whsec_MfKQ…",
		accessToken:            "SFMyNTY.g2gD…",
		"demo-secret":          "…",
		"a-long-admin-token-1": "a-lo…",
		"":                     "…",
	} {
		if got := redact.Hint(secret); got != want {
			t.Errorf("Hint(%q) = %q, want %q", secret, got, want)
		}
	}
}

func TestJSON(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"token answer":          {`{"access_token":"` + accessToken + `"}`, `{"access_token":"SFMyNTY.g2gD…"}`},
		"registration":          {`{"url": "http://ats/x",  "secret" : "` + webhookSecret + `"}`, `{"url": "http://ats/x",  "secret" : "whsec_MfKQ…"}`},
		"nested and in arrays":  {`{"a":[{"b":{"callback_token":"0123456789abcdef0123"}},"secret"]}`, `{"a":[{"b":{"callback_token":"0123…"}},"secret"]}`},
		"a hint stays":          {`{"secret_hint":"whsec_MfKQ…","label":"secret"}`, `{"secret_hint":"whsec_MfKQ…","label":"secret"}`},
		"a key spelled escaped": {`{"secr\u0065t":"` + webhookSecret + `"}`, `{"secr\u0065t":"whsec_MfKQ…"}`},
		"keys any case":         {`{"Client_Secret":"demo-secret"}`, `{"Client_Secret":"…"}`},
		"not a string":          {`{"secret":{"secret":"x"}, "password": 12}`, `{"secret":{"secret":"…"}, "password": 12}`},
		"escaped quotes":        {`{"password":"a\"b\\\"c-0123456789abcdef"}`, `{"password":"a\"b\\…"}`},
		"trailing comma":        {`{"url":"x",, "secret":"` + webhookSecret + `",}`, `{"url":"x",, "secret":"whsec_MfKQ…",}`},
		"cut short":             {`{"secret":"` + webhookSecret + `","url":"htt`, `{"secret":"whsec_MfKQ…","url":"htt`},
		"cut in the secret":     {`{"url":"x","secret":"` + webhookSecret[:20], `{"url":"x","secret":"whsec_…"`},
		"cut in an escape":      {`{"password":"0123456789abcdef\`, `{"password":"0123…"`},
		"nothing secret":        {`{"job_id":"x","callback_url":"http://a/token/b"}`, `{"job_id":"x","callback_url":"http://a/token/b"}`},
		"not JSON":              {`secret=whsec_x`, `secret=whsec_x`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := string(redact.JSON([]byte(tc.in))); got != tc.want {
				t.Fatalf("JSON(%s)\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

// A body without secrets is not copied: the journal keeps it as it came.
func TestJSONKeepsCleanBodies(t *testing.T) {
	in := []byte(`{"reference_id":"x","assessment_url":"http://m/en/assessments/1/token/SFMyNTY.a.b"}`)
	if out := redact.JSON(in); &out[0] != &in[0] {
		t.Fatal("a body without secrets was copied")
	}
	if n := testing.AllocsPerRun(100, func() { redact.JSON([]byte(`[{"id":"0b5c","name":"Engineer"}]`)) }); n > 1 {
		t.Fatalf("%v allocations for a body without secrets", n)
	}
}

func TestQueryAndURL(t *testing.T) {
	if got, want := redact.Query("access_token="+accessToken+"&locale=en"), "access_token=SFMyNTY.g2gD%E2%80%A6&locale=en"; got != want {
		t.Errorf("Query = %q, want %q", got, want)
	}
	if got := redact.Query("locale=en&status=1"); got != "locale=en&status=1" {
		t.Errorf("Query of nothing secret = %q", got)
	}
	if got := redact.URL("https://ats:hunter2-is-long-enough@ats.example/cb?x=1"); strings.Contains(got, "hunter2") || !strings.Contains(got, "ats.example/cb?x=1") {
		t.Errorf("URL = %q", got)
	}
}

// BenchmarkJSONClean is the cost on every journaled answer without secrets (the jobs list).
func BenchmarkJSONClean(b *testing.B) {
	body := []byte(`[{"id":"0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01","name":"First assessment job - Engineer"},{"id":"5d6b8a0e-2f7c-4c1e-8b1a-9f0e3d2c1b02","name":"Second job - Accountant"}]`)
	b.ReportAllocs()
	for b.Loop() {
		redact.JSON(body)
	}
}

func TestIsSecretField(t *testing.T) {
	for path, want := range map[string]bool{
		"secret": true, "webhooks.0.secret": true, `$.data["access_token"]`: true, "data['client_secret']": true,
		"webhooks.0.url": false, "secret.length": false, "": false,
	} {
		if got := redact.IsSecretField(path); got != want {
			t.Errorf("IsSecretField(%q) = %v, want %v", path, got, want)
		}
	}
}
