package vendorapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// example is one example of openapi.yaml: where it is, its value and the schema it illustrates.
type example struct {
	value  any
	schema *openapi3.Schema
}

// contractExamples collects every example of openapi.yaml by a key that says where it is:
// "request createApplication email", "response createApplication 201 oneTimeLink", "response
// NotFound" (a shared response, once), "callback applicationResults", "parameter Locale nl",
// "schema DetailedScore.trait_bucket_description".
func contractExamples(t *testing.T, sp *spec.Spec) map[string]example {
	t.Helper()
	out := map[string]example{}
	media := func(key string, mt *openapi3.MediaType) {
		if mt == nil {
			return
		}
		var schema *openapi3.Schema
		if mt.Schema != nil {
			schema = mt.Schema.Value
		}
		if mt.Example != nil {
			out[key] = example{mt.Example, schema}
		}
		for name, ex := range mt.Examples {
			out[key+" "+name] = example{ex.Value.Value, schema}
		}
	}
	var operation func(id string, op *openapi3.Operation)
	operation = func(id string, op *openapi3.Operation) {
		if op.RequestBody != nil {
			media("request "+id, op.RequestBody.Value.Content.Get("application/json"))
		}
		for status, ref := range op.Responses.Map() {
			key := "response " + id + " " + status
			if ref.Ref != "" {
				key = "response " + strings.TrimPrefix(ref.Ref, "#/components/responses/")
			}
			media(key, ref.Value.Content.Get("application/json"))
		}
		for name, cb := range op.Callbacks {
			for _, item := range cb.Value.Map() {
				for _, cop := range item.Operations() {
					if cop.RequestBody != nil {
						media("callback "+name, cop.RequestBody.Value.Content.Get("application/json"))
					}
				}
			}
		}
	}
	for id, op := range sp.Operations() {
		operation(id, op.Operation)
	}
	for name, ref := range sp.Doc.Components.Parameters {
		p := ref.Value
		if p.Example != nil {
			out["parameter "+name] = example{p.Example, p.Schema.Value}
		}
		for ex, v := range p.Examples {
			out["parameter "+name+" "+ex] = example{v.Value.Value, p.Schema.Value}
		}
	}
	for name, ref := range sp.Doc.Components.Schemas {
		for prop, p := range ref.Value.Properties {
			if p.Value.Example != nil {
				out["schema "+name+"."+prop] = example{p.Value.Example, p.Value}
			}
		}
	}
	return out
}

// TestContractExamplesAreValid: every example of openapi.yaml is valid against its schema with the
// mock's string formats (uuid, email, uri, date), which the document's own validation leaves out.
func TestContractExamplesAreValid(t *testing.T) {
	sp, err := spec.Vendor()
	if err != nil {
		t.Fatal(err)
	}
	examples := contractExamples(t, sp)
	if len(examples) < 40 {
		t.Fatalf("found %d examples: the walk missed some", len(examples))
	}
	for _, key := range slices.Sorted(maps.Keys(examples)) {
		ex := examples[key]
		if ex.schema == nil {
			t.Errorf("%s: no schema to validate the example against", key)
			continue
		}
		if err := sp.ValidateValue(ex.schema, ex.value); err != nil {
			t.Errorf("%s: %v", key, err)
		}
	}
}

// The real service's links and the mock's differ in their base only: app.equalture.com is the
// mock's public URL, dashboard.equalture.com its /dashboard (see internal/lifecycle/links.go).
var (
	realBases = strings.NewReplacer("https://dashboard.equalture.com", "<public>/dashboard", "https://app.equalture.com", "<public>")
	// What differs from run to run, or from the real service's values: tokens, ids, times, secrets.
	variable = []struct {
		re *regexp.Regexp
		to string
	}{
		{regexp.MustCompile(`SFMyNTY\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`), "<token>"},
		{regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`), "<uuid>"},
		{regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?`), "<time>"},
		{regexp.MustCompile(`whsec_[A-Za-z0-9+/]+={0,2}`), "whsec_<secret>"},
	}
)

// normalize replaces, in every string of v, what may differ between an example and an answer of
// the mock by a placeholder; base is the mock's URL (nil for an example).
func normalize(v any, base string) any {
	switch x := v.(type) {
	case string:
		if base != "" {
			x = strings.ReplaceAll(x, base, "<public>")
		} else {
			x = realBases.Replace(x)
		}
		for _, r := range variable {
			x = r.re.ReplaceAllString(x, r.to)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e, base)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e, base)
		}
		return out
	default:
		return jsonValue(v)
	}
}

// jsonValue is v as encoding/json decodes it (numbers float64), whatever decoded it.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("unencodable %T", v)
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// examplesFixtures are the embedded fixtures plus a client whose jobs make the results examples:
// the seed's results example has one trait, its callback example two.
func examplesFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"clients.yaml", "traits.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "clients.yaml" {
			b = append(b, `
  - client_id: examples-client
    client_secret: examples-secret
    name: Examples
    jobs:
      - id: 6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a05
        name: One trait
        assessment_id: 73810
        competency_profile:
          - {trait: working_memory, priority: medium, range: [2, 3, 4, 5]}
      - id: 7a2b3c4d-5e6f-4a1b-9c2d-3e4f5a6b7c06
        name: Two traits
        assessment_id: 73811
        competency_profile:
          - {trait: problem_solving_style, priority: low, range: [1, 2, 3, 4, 5]}
          - {trait: problem_solving_ability, priority: medium, range: [1, 2, 3]}
`...)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestContractExamplesAreWhatTheMockAnswers makes the mock produce every example of openapi.yaml:
// it sends each request example (the mock must take it) and, for each response and callback
// example, the request that answers it, and compares the answer with the example, all but tokens,
// ids, times, secrets and the base URL (see normalize). An example without a producer here fails,
// so a new example needs one.
func TestContractExamplesAreWhatTheMockAnswers(t *testing.T) {
	sp, err := spec.Vendor()
	if err != nil {
		t.Fatal(err)
	}
	examples := contractExamples(t, sp)
	fixtures := examplesFixtures(t)
	h := testenv.New(t, func(o *app.Options) { o.FixturesDir = fixtures })
	demo := h.Token(testenv.DemoID, testenv.DemoSecret)
	other := h.Token(testenv.OtherID, testenv.OtherSecret)
	exampleClient := h.Token("examples-client", "examples-secret")

	used := map[string]bool{}
	// requestBody returns a request example as JSON and notes it as sent.
	requestBody := func(key string) string {
		t.Helper()
		ex, ok := examples[key]
		if !ok {
			t.Fatalf("no example %q in the contract", key)
		}
		used[key] = true
		b, err := json.Marshal(ex.value)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	decode := func(r testenv.Response) any {
		t.Helper()
		var v any
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatalf("answer %q is not JSON: %v", r.Body, err)
		}
		return v
	}
	want := func(r testenv.Response, status int) any {
		t.Helper()
		testenv.WantStatus(t, r, status)
		return decode(r)
	}
	apps := "/connect_ats/applications"
	appPath := func(ref, action string) string { return apps + "/" + ref + "/" + action }
	create := func(tok, job string) string {
		t.Helper()
		ref, _ := h.Create(tok, job, "")
		return ref
	}
	completed := func(tok, job string, scores string) string {
		t.Helper()
		ref := create(tok, job)
		testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+ref+"/complete", `{"scores":`+scores+`}`), http.StatusOK)
		return ref
	}
	const oneTraitJob, twoTraitsJob = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a05", "7a2b3c4d-5e6f-4a1b-9c2d-3e4f5a6b7c06"
	deliveries := func(query string) []map[string]any {
		t.Helper()
		var list struct{ Deliveries []map[string]any }
		r := h.Do(http.MethodGet, "/_mock/callbacks?wait=10s&min=1&"+query, "")
		testenv.WantStatus(t, r, http.StatusOK)
		if err := json.Unmarshal(r.Body, &list); err != nil || len(list.Deliveries) == 0 {
			t.Fatalf("no delivery for %s: %s", query, r.Body)
		}
		return list.Deliveries
	}
	fault := func(status int) {
		t.Helper()
		r := h.Do(http.MethodPost, "/_mock/faults", `{"path":"/connect_ats/jobs","status":`+strconv.Itoa(status)+`,"times":1}`)
		if r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Fatalf("fault rule: %d %s", r.Status, r.Body)
		}
	}
	events := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(events.Close)

	producers := map[string]func() any{
		"response AccessToken": func() any {
			return want(h.Do(http.MethodPost, "/connect_ats/access_token", "", testenv.Basic(testenv.DemoID, testenv.DemoSecret)), 200)
		},
		"response listJobs 200": func() any { return want(h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(demo)), 200) },
		"response createApplication 201 email": func() any {
			return want(h.Do(http.MethodPost, apps, requestBody("request createApplication email"), testenv.Bearer(demo)), 201)
		},
		"response createApplication 201 oneTimeLink": func() any {
			return want(h.Do(http.MethodPost, apps, requestBody("request createApplication oneTimeLink"), testenv.Bearer(demo)), 201)
		},
		"response hireApplicant 200": func() any {
			ref := completed(demo, testenv.EngineerJob, `{}`)
			return want(h.Do(http.MethodPost, appPath(ref, "hire_applicant"), requestBody("request hireApplicant"), testenv.Bearer(demo)), 200)
		},
		"response anonymizeApplication 200": func() any {
			return want(h.Do(http.MethodDelete, appPath(create(demo, testenv.EngineerJob), "anonymize_application"), "", testenv.Bearer(demo)), 200)
		},
		"response getPublicLink 200": func() any {
			ref := completed(demo, testenv.EngineerJob, `{}`)
			return want(h.Do(http.MethodGet, appPath(ref, "public_link")+"?locale=en", "", testenv.Bearer(demo)), 200)
		},
		"response getResults 200": func() any {
			ref := completed(exampleClient, oneTraitJob, `{"working_memory":3}`)
			return want(h.Do(http.MethodGet, appPath(ref, "results")+"?locale=en", "", testenv.Bearer(exampleClient)), 200)
		},
		"response getStatus 200": func() any {
			return want(h.Do(http.MethodGet, appPath(completed(demo, testenv.EngineerJob, `{}`), "status"), "", testenv.Bearer(demo)), 200)
		},
		// The webhooks of other-client, which has no applications: nothing is ever sent to them.
		"response registerWebhook 201": func() any {
			return want(h.Do(http.MethodPut, "/connect_ats/webhooks/ats-production", requestBody("request registerWebhook generatedSecret"), testenv.Bearer(other)), 201)
		},
		"response registerWebhook 200": func() any {
			return want(h.Do(http.MethodPut, "/connect_ats/webhooks/ats-production", requestBody("request registerWebhook ownSecret"), testenv.Bearer(other)), 200)
		},
		"response listWebhooks 200": func() any {
			return want(h.Do(http.MethodGet, "/connect_ats/webhooks", "", testenv.Bearer(other)), 200)
		},
		"response WebhooksDeleted": func() any {
			return want(h.Do(http.MethodDelete, "/connect_ats/webhooks/ats-production", "", testenv.Bearer(other)), 200)
		},
		"response WebhookNotFound": func() any {
			return want(h.Do(http.MethodDelete, "/connect_ats/webhooks/ats-production", "", testenv.Bearer(other)), 404)
		},
		"response WebhookConflict": func() any {
			for i := range 25 {
				testenv.WantStatus(t, h.Do(http.MethodPut, "/connect_ats/webhooks/full-"+strconv.Itoa(i), `{"url":"https://ats.example.com/equalture/events"}`, testenv.Bearer(other)), 201)
			}
			r := h.Do(http.MethodPut, "/connect_ats/webhooks/ats-production", `{"url":"https://ats.example.com/equalture/events"}`, testenv.Bearer(other))
			testenv.WantStatus(t, h.Do(http.MethodDelete, "/connect_ats/webhooks", "", testenv.Bearer(other)), 200)
			return want(r, 409)
		},
		"response WebhookUnprocessableEntity": func() any {
			return want(h.Do(http.MethodPut, "/connect_ats/webhooks/ats-production", `{"url":"ftp://ats.example.com/events"}`, testenv.Bearer(other)), 422)
		},
		"response BadRequest malformedJson": func() any {
			return want(h.Do(http.MethodPost, apps, `{"job_id":`, testenv.Bearer(demo)), 400)
		},
		"response BadRequest badParameter": func() any {
			return want(h.Do(http.MethodGet, appPath("1234-1234-4567-1111", "status"), "", testenv.Bearer(demo)), 400)
		},
		"response BasicUnauthorized": func() any {
			return want(h.Do(http.MethodPost, "/connect_ats/access_token", "", testenv.Basic(testenv.DemoID, "wrong")), 401)
		},
		"response BearerUnauthorized": func() any {
			h.Clock.Advance(16 * time.Minute)
			r := h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(demo))
			// Every token of the test expired: fresh ones for the producers that follow.
			demo, other = h.Token(testenv.DemoID, testenv.DemoSecret), h.Token(testenv.OtherID, testenv.OtherSecret)
			exampleClient = h.Token("examples-client", "examples-secret")
			return want(r, 401)
		},
		"response NotFound": func() any {
			return want(h.Do(http.MethodGet, appPath(testenv.UnknownUUID, "status"), "", testenv.Bearer(demo)), 404)
		},
		"response Conflict": func() any {
			return want(h.Do(http.MethodGet, appPath(create(demo, testenv.EngineerJob), "results"), "", testenv.Bearer(demo)), 409)
		},
		"response HireConflict": func() any {
			return want(h.Do(http.MethodPost, appPath(create(demo, testenv.EngineerJob), "hire_applicant"), `{"add_to_team":true}`, testenv.Bearer(demo)), 409)
		},
		"response PublicLinkConflict": func() any {
			return want(h.Do(http.MethodGet, appPath(create(demo, testenv.EngineerJob), "public_link"), "", testenv.Bearer(demo)), 409)
		},
		"response HireUnprocessableEntity": func() any {
			ref := completed(demo, testenv.EngineerJob, `{}`)
			return want(h.Do(http.MethodPost, appPath(ref, "hire_applicant"), `{"add_to_team":1}`, testenv.Bearer(demo)), 422)
		},
		"response PayloadTooLarge": func() any {
			return want(h.Do(http.MethodPost, apps, `{"pad":"`+strings.Repeat("a", testenv.MaxBodyBytes)+`"}`, testenv.Bearer(demo)), 413)
		},
		"response UnsupportedMediaType": func() any {
			return want(h.Do(http.MethodPost, apps, testenv.CreateBody(testenv.EngineerJob, ""), testenv.Bearer(demo), testenv.Header("Content-Type", "text/plain")), 415)
		},
		"response UnprocessableEntity": func() any {
			body := strings.Replace(strings.Replace(testenv.CreateBody(testenv.EngineerJob, ""), `,"email":"rembrandt@example.com"`, "", 1), testenv.EngineerJob, testenv.UnknownUUID, 1)
			return want(h.Do(http.MethodPost, apps, body, testenv.Bearer(demo)), 422)
		},
		"response TooManyRequests": func() any {
			fault(429)
			return want(h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(demo)), 429)
		},
		"response InternalServerError": func() any {
			fault(500)
			return want(h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(demo)), 500)
		},
		"response ServiceUnavailable": func() any {
			fault(503)
			return want(h.Do(http.MethodGet, "/connect_ats/jobs", "", testenv.Bearer(demo)), 503)
		},
		"callback applicationResults": func() any {
			ref := completed(exampleClient, twoTraitsJob, `{"problem_solving_style":3,"problem_solving_ability":5}`)
			return deliveries("kind=results&reference_id=" + ref)[0]["payload"]
		},
		"callback assessment_started": func() any {
			ref := webhookEvents(t, h, exampleClient, events.URL, twoTraitsJob)
			return deliveries("kind=webhook&event_type=assessment_started&reference_id=" + ref)[0]["payload"]
		},
		"callback assessment_finished": func() any {
			ref := webhookEvents(t, h, exampleClient, events.URL, twoTraitsJob)
			return deliveries("kind=webhook&event_type=assessment_finished&reference_id=" + ref)[0]["payload"]
		},
	}
	// Webhook answers in the order the producers above expect: registered, updated, listed,
	// deleted, not found.
	order := []string{"response registerWebhook 201", "response registerWebhook 200", "response listWebhooks 200", "response WebhooksDeleted", "response WebhookNotFound"}
	keys := append(order, slices.Sorted(maps.Keys(producers))...)
	done := map[string]bool{}
	for _, key := range keys {
		if done[key] {
			continue
		}
		done[key] = true
		ex, ok := examples[key]
		if !ok {
			t.Errorf("the contract has no example %q any more: drop its producer", key)
			continue
		}
		got, wantEx := normalize(producers[key](), h.URL), normalize(ex.value, "")
		if !reflect.DeepEqual(got, wantEx) {
			g, _ := json.MarshalIndent(got, "", "  ")
			w, _ := json.MarshalIndent(wantEx, "", "  ")
			t.Errorf("%s: the mock answers (normalized)\n%s\nthe contract's example (normalized)\n%s", key, g, w)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(examples)) {
		switch {
		case strings.HasPrefix(key, "parameter "), strings.HasPrefix(key, "schema "):
			// Values of a field, not messages: TestContractExamplesAreValid checks them.
		case strings.HasPrefix(key, "request "):
			if !used[key] {
				t.Errorf("request example %q was never sent: give it a producer", key)
			}
		case producers[key] == nil:
			t.Errorf("example %q has no producer: add the request that makes the mock answer it", key)
		}
	}
}

// webhookEvents registers a webhook of the client tok at url, then invites an applicant to job,
// starts and completes the assessment: both events go to the webhook. It returns the application.
func webhookEvents(t *testing.T, h *testenv.Env, tok, url, job string) string {
	t.Helper()
	r := h.Do(http.MethodPut, "/connect_ats/webhooks/events", `{"url":"`+url+`/events"}`, testenv.Bearer(tok))
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("webhook: %d %s", r.Status, r.Body)
	}
	ref, _ := h.Create(tok, job, "")
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+ref+"/start", ""), http.StatusOK)
	testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+ref+"/complete", ""), http.StatusOK)
	return ref
}
