package proxy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/proxy"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// An account unlike the mock's own: its client, jobs, and a trait the mock's catalogue lacks.
const (
	acmeClients = `clients:
  - client_id: acme-ats
    client_secret: acme-secret
    name: ACME
    webhook_secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
    jobs:
      - id: 11111111-2222-4333-8444-555555555555
        name: Rocket engineer
        assessment_id: 4242
        competency_profile:
          - {trait: grit, priority: high, range: [4, 5]}
          - {trait: working_memory, priority: low, range: [1, 2, 3, 4, 5]}
      - id: 66666666-7777-4888-9999-000000000000
        name: Anvil tester
        assessment_id: 4343
        competency_profile:
          - {trait: working_memory, priority: medium, range: [3, 4]}
`
	acmeTraits = `traits:
  - code: grit
    name: {en: Grit, nl: Doorzettingsvermogen}
    buckets:
      en: [Gives up, Wavers, Steady, Persistent, Relentless]
      nl: [Geeft op, Twijfelt, Standvastig, Volhardend, Onvermoeibaar]
  - code: working_memory
    name: {en: Working memory, nl: Werkgeheugen}
    buckets:
      en: [Low, Below average, Average, Above average, High]
      nl: [Laag, Onder gemiddeld, Gemiddeld, Boven gemiddeld, Hoog]
`
	rocket = "11111111-2222-4333-8444-555555555555"
)

// TestRecordedFixturesRoundTrip records an account through the proxy (a mock with fixtures of its
// own), serves the recording from a second mock, and wants the same jobs, assessment ids and
// trait names — never the secrets.
func TestRecordedFixturesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"clients.yaml": acmeClients, "traits.yaml": acmeTraits} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	account := testenv.New(t, func(o *app.Options) { o.FixturesDir = dir })
	w := startAt(t, account.URL, func(o *proxy.Options) { o.RecordFixtures = true })
	tok := tokenThrough(t, w, "acme-ats", "acme-secret")
	jobs := w.do(t, "GET", "/connect_ats/jobs", "", "Authorization", "Bearer "+tok)
	created := w.do(t, "POST", "/connect_ats/applications",
		`{"job_id":"`+rocket+`","callback_url":"http://127.0.0.1:9/cb","invitation_type":"one_time_link","applicant_details":{"first_name":"W","last_name":"E","email":"w@example.com"}}`,
		"Authorization", "Bearer "+tok)
	ref := fieldOf(created.body, "reference_id")
	if w.do(t, "POST", "/_mock/applications/"+ref+"/complete", "").status != 200 {
		t.Fatal("complete")
	}
	en := w.do(t, "GET", "/connect_ats/applications/"+ref+"/results", "", "Authorization", "Bearer "+tok)
	w.do(t, "GET", "/connect_ats/applications/"+ref+"/results?locale=nl", "", "Authorization", "Bearer "+tok)
	w.settle(t, 0)

	recorded := t.TempDir()
	if err := w.proxy.WriteFixtures(recorded); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"clients.yaml", "traits.yaml"} {
		b, _ := os.ReadFile(filepath.Join(recorded, name))
		if strings.Contains(string(b), "acme-secret") || strings.Contains(string(b), "whsec_") {
			t.Fatalf("%s holds a secret:\n%s", name, b)
		}
	}
	fx, err := fixtures.Load(os.DirFS(recorded))
	if err != nil {
		t.Fatalf("the recording does not load: %v", err)
	}
	grit, _ := fx.Trait("grit")
	if grit.Name["nl"] != "Doorzettingsvermogen" || grit.Name["en"] != "Grit" {
		t.Errorf("grit recorded as %+v", grit)
	}
	if j, _ := fx.Job("acme-ats", rocket); j.AssessmentID != 4242 || len(j.Profile) != 2 || j.Profile[0].Trait != "grit" || !reflect.DeepEqual(j.Profile[0].Range, []int{4, 5}) {
		t.Errorf("the rocket job recorded as %+v", j)
	}
	// The recording, served: the same jobs, links to the same assessment, results with the same
	// trait names.
	mirror := testenv.New(t, func(o *app.Options) { o.FixturesDir = recorded })
	mtok := mirror.Token("acme-ats", proxy.PlaceholderSecret)
	if got := mirror.Do("GET", "/connect_ats/jobs", "", testenv.Bearer(mtok)); string(got.Body) != jobs.body {
		t.Fatalf("the mirror lists\n%s\nthe account\n%s", got.Body, jobs.body)
	}
	mref, mv := mirror.Create(mtok, rocket, "one_time_link")
	if link, _ := mv["assessment_url"].(string); !strings.Contains(link, "/assessments/4242/") {
		t.Errorf("the mirror's link %s", link)
	}
	mirror.Complete(mref)
	names := func(body []byte) []string {
		var r struct {
			DetailedScores []struct {
				TraitCode string `json:"trait_code"`
			} `json:"detailed_scores"`
		}
		_ = json.Unmarshal(body, &r)
		var out []string
		for _, d := range r.DetailedScores {
			out = append(out, d.TraitCode)
		}
		return out
	}
	mres := mirror.Do("GET", "/connect_ats/applications/"+mref+"/results", "", testenv.Bearer(mtok))
	if got, want := names(mres.Body), names([]byte(en.body)); !reflect.DeepEqual(got, want) || len(want) != 2 {
		t.Errorf("the mirror's results name %v, the account's %v", got, want)
	}
	if !strings.Contains(string(mres.Body), `"Grit"`) {
		t.Errorf("the mirror's results: %s", mres.Body)
	}
}

func tokenThrough(t *testing.T, w *world, id, secret string) string {
	t.Helper()
	a := w.do(t, "POST", "/connect_ats/access_token", "", "Authorization", "Basic "+basic(id, secret))
	tok := fieldOf(a.body, "access_token")
	if a.status != 200 || tok == "" {
		t.Fatalf("token: %d %s", a.status, a.body)
	}
	return tok
}
