package spec_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/testenv"
)

func load(t *testing.T, doc []byte) *spec.Spec {
	t.Helper()
	s, err := spec.Load(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContractsLoadAndValidate(t *testing.T) {
	for name, doc := range map[string][]byte{"openapi.yaml": assets.VendorSpec(), "control-openapi.yaml": assets.ControlSpec()} {
		t.Run(name, func(t *testing.T) {
			s := load(t, doc)
			if got := s.Doc.OpenAPI; got != "3.0.3" {
				t.Fatalf("openapi = %s, want 3.0.3 (kin-openapi is slow on 3.1)", got)
			}
			for id, op := range s.Operations() {
				if op.Summary == "" {
					t.Errorf("operation %s has no summary", id)
				}
			}
		})
	}
}

// TestIndependentLinter runs Redocly's linter (installed by `make tools`, which make test runs) on
// both contracts and wants neither errors nor warnings.
func TestIndependentLinter(t *testing.T) {
	bin := testenv.Redocly.Require(t)
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "lint", "--format=stylish", "--config", "tools/lint/redocly.yaml", "openapi.yaml", "control-openapi.yaml")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redocly lint failed: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, " warning ") || strings.Contains(line, " error ") {
			t.Errorf("redocly: %s", strings.TrimSpace(line))
		}
	}
}

func TestCheckHandlers(t *testing.T) {
	s := load(t, assets.VendorSpec())
	all := make([]string, 0)
	for id := range s.Operations() {
		all = append(all, id)
	}
	if err := s.CheckHandlers(all); err != nil {
		t.Fatalf("every operation bound: %v", err)
	}
	err := s.CheckHandlers(append(all[1:], "deleteEverything"))
	if err == nil || !strings.Contains(err.Error(), `operation "`+all[0]+`" has no handler`) || !strings.Contains(err.Error(), `handler "deleteEverything" names no operation`) {
		t.Fatalf("CheckHandlers with a missing and an extra handler = %v", err)
	}
}

func TestValidateResponseNamesTheProblem(t *testing.T) {
	s := load(t, assets.VendorSpec())
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	tests := map[string]struct {
		method, path string
		status       int
		header       http.Header
		body         string
		want         []string // substrings of the error; none for a valid response
	}{
		"valid jobs": {http.MethodGet, "/connect_ats/jobs", 200, jsonHeader, `[{"id":"0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01","name":"Engineer"}]`, nil},
		"missing required field": {http.MethodPost, "/connect_ats/applications", 201, jsonHeader, `{"assessment_url":"https://x.example/a"}`,
			[]string{"createApplication", "201", `"reference_id"`, "can't be blank"}},
		"wrong type": {http.MethodGet, "/connect_ats/jobs", 200, jsonHeader, `[{"id":"0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01","name":3}]`,
			[]string{"listJobs", `"0.name"`, "must be a string"}},
		"unknown status value": {http.MethodGet, "/connect_ats/applications/d2c37d4d-b8d4-46a9-b230-42a246ad6153/status", 200, jsonHeader, `{"status":"pending"}`,
			[]string{"getStatus", `"status"`, "must be one of invited", `(got "pending")`}},
		"a number where the contract wants an enum string": {http.MethodGet, "/connect_ats/applications/d2c37d4d-b8d4-46a9-b230-42a246ad6153/status", 200, jsonHeader, `{"status":3}`,
			[]string{"getStatus", `field "status" is invalid`, "(got 3)"}},
		"bad uuid format": {http.MethodGet, "/connect_ats/jobs", 200, jsonHeader, `[{"id":"42","name":"x"}]`,
			[]string{"listJobs", `"0.id"`, "UUID"}},
		"bad uri format": {http.MethodPost, "/connect_ats/applications", 201, jsonHeader, `{"reference_id":"d2c37d4d-b8d4-46a9-b230-42a246ad6153","assessment_url":"/en/assessments/1"}`,
			[]string{"createApplication", `field "assessment_url" is invalid: must be an absolute URL`}},
		"undocumented status": {http.MethodGet, "/connect_ats/jobs", 418, jsonHeader, `{}`,
			[]string{"listJobs", "418", "status is not supported", "documents for listJobs (200, 400, 401, 413, 429, 500, 503)"}},
		"401 without WWW-Authenticate": {http.MethodGet, "/connect_ats/jobs", 401, jsonHeader, `{"errors":{"detail":"no"}}`,
			[]string{"listJobs", "401", "WWW-Authenticate"}},
		"wrong error shape": {http.MethodGet, "/connect_ats/applications/d2c37d4d-b8d4-46a9-b230-42a246ad6153/results", 404, jsonHeader, `{"error":"Not Found"}`,
			[]string{"getResults", "404", `"errors"`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			err := s.ValidateResponse(context.Background(), req, tc.status, tc.header, []byte(tc.body))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("valid response refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid response accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestCallbackSchema(t *testing.T) {
	s := load(t, assets.VendorSpec())
	schema, err := s.CallbackSchema("createApplication", "applicationResults")
	if err != nil {
		t.Fatal(err)
	}
	// The seed's payload, with its typos kept where they are data ("Bahavioural").
	seed := `{"results_url":"https://dashboard.equalture.com/applications/d2c37d4d-b8d4-46a9-b230-42a246ad6153",
	  "scores":{"Cognitive trait":"(5) Very flexible","Bahavioural style":"(2) Somewhat intuitive"},"fit":"low",
	  "detailed_scores":[{"competency_profile":{"priority":"low","range":[1,2,3,4,5]},"trait_bucket_description":"(3) Neutraal",
	  "trait_bucket_score":3,"trait_code":"problem_solving_style","trait_name":"Probleemoplossende stijl"}]}`
	var v map[string]any
	if err := json.Unmarshal([]byte(seed), &v); err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateValue(schema, v); err != nil {
		t.Fatalf("the seed's callback payload is refused: %v", err)
	}
	delete(v, "fit")
	v["detailed_scores"].([]any)[0].(map[string]any)["trait_bucket_score"] = 9
	err = s.ValidateValue(schema, v)
	if err == nil || !strings.Contains(err.Error(), `"fit"`) || !strings.Contains(err.Error(), `"detailed_scores.0.trait_bucket_score"`) {
		t.Fatalf("broken payload: %v", err)
	}
}

func TestValidateCallback(t *testing.T) {
	s := load(t, assets.VendorSpec())
	valid := `{"results_url":"https://dashboard.equalture.com/a","scores":{},"fit":"low","detailed_scores":[]}`
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	tests := map[string]struct {
		method string
		header http.Header
		body   string
		want   []string // substrings of the error; none for a valid callback
	}{
		"valid":              {http.MethodPut, jsonHeader, valid, nil},
		"a POST":             {http.MethodPost, jsonHeader, valid, []string{"callback arrived as POST", "the contract says PUT"}},
		"not JSON":           {http.MethodPut, http.Header{"Content-Type": {"text/plain"}}, valid, []string{"Content-Type is text/plain", "application/json"}},
		"malformed":          {http.MethodPut, jsonHeader, `{"fit":`, []string{"callback body is not JSON"}},
		"missing fit":        {http.MethodPut, jsonHeader, strings.Replace(valid, `"fit":"low",`, "", 1), []string{"applicationResults", `field "fit" can't be blank`}},
		"fit out of enum":    {http.MethodPut, jsonHeader, strings.Replace(valid, `"low"`, `"great"`, 1), []string{`field "fit" is invalid: must be one of low, medium, high`, `(got "great")`}},
		"relative dashboard": {http.MethodPut, jsonHeader, strings.Replace(valid, "https://dashboard.equalture.com/a", "/a", 1), []string{`"results_url"`, "absolute URL", `(got "/a")`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := s.ValidateCallback("createApplication", "applicationResults", tc.method, tc.header, []byte(tc.body))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("valid callback refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid callback accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if err := s.ValidateCallback("createApplication", "nope", http.MethodPut, jsonHeader, []byte(valid)); err == nil {
		t.Error("an unknown callback is accepted")
	}
}

func TestExamplesCoverEveryDocumentedStatus(t *testing.T) {
	s := load(t, assets.VendorSpec())
	for id, byStatus := range s.Examples() {
		for status, body := range byStatus {
			req := exampleRequest(t, s, id)
			h := http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {"Bearer"}}
			if err := s.ValidateResponse(context.Background(), req, status, h, body); err != nil {
				t.Errorf("%s %d: the contract's own example breaks it: %v", id, status, err)
			}
		}
	}
}

func exampleRequest(t *testing.T, s *spec.Spec, id string) *http.Request {
	t.Helper()
	op := s.Operations()[id]
	path := strings.ReplaceAll(op.Path, "{reference_id}", "d2c37d4d-b8d4-46a9-b230-42a246ad6153")
	return httptest.NewRequest(op.Method, path, nil)
}

const (
	ref = "d2c37d4d-b8d4-46a9-b230-42a246ad6153"
	job = "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01"
)

// validate sends a real request through FindRoute and ValidateRequest and returns the API error.
func validate(t *testing.T, s *spec.Spec, method, path, contentType, body string, auth openapi3filter.AuthenticationFunc) *apierr.Error {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	route, err := s.FindRoute(r)
	if err != nil {
		t.Fatalf("FindRoute: %v", err)
	}
	err = s.ValidateRequest(context.Background(), r, route, auth)
	if err == nil {
		return nil
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("ValidateRequest returned %T %v, want an *apierr.Error", err, err)
	}
	return ae
}

func TestValidateRequestStatuses(t *testing.T) {
	vendor := load(t, assets.VendorSpec())
	control := load(t, assets.ControlSpec())
	noAuth := openapi3filter.NoopAuthenticationFunc
	createBody := `{"job_id":"` + job + `","callback_url":"https://ats.example/cb","invitation_type":"email",` +
		`"applicant_details":{"first_name":"Rembrandt","last_name":"van Rijn","email":"rembrandt@example.com"}}`
	create := "/connect_ats/applications"
	hire := "/connect_ats/applications/" + ref + "/hire_applicant"
	tests := map[string]struct {
		spec              *spec.Spec
		method, path      string
		contentType, body string
		auth              openapi3filter.AuthenticationFunc
		wantStatus        int                 // 0: the request is valid
		wantDetail        string              // exact, when set
		wantFields        map[string][]string // exact, when set
	}{
		"valid": {spec: vendor, method: http.MethodPost, path: create, contentType: "application/json", body: createBody},
		"json with charset and capitals": {spec: vendor, method: http.MethodPost, path: create,
			contentType: "Application/JSON; charset=utf-8", body: createBody},

		"our auth error wins": {spec: vendor, method: http.MethodGet, path: "/connect_ats/jobs",
			auth: func(context.Context, *openapi3filter.AuthenticationInput) error {
				return apierr.New(apierr.Unauthorized, "Token expired")
			},
			wantStatus: 401, wantDetail: "Token expired"},

		"text/plain": {spec: vendor, method: http.MethodPost, path: create, contentType: "text/plain", body: createBody,
			wantStatus: 415, wantDetail: `Unsupported Content-Type "text/plain": send application/json`},
		"no Content-Type": {spec: vendor, method: http.MethodPost, path: create, body: createBody,
			wantStatus: 415, wantDetail: `Unsupported Content-Type "": send application/json`},
		"xml with charset": {spec: vendor, method: http.MethodPost, path: create, contentType: "application/xml; charset=utf-8", body: createBody,
			wantStatus: 415, wantDetail: `Unsupported Content-Type "application/xml; charset=utf-8": send application/json`},
		"not a media type": {spec: vendor, method: http.MethodPost, path: create, contentType: "json", body: createBody,
			wantStatus: 415, wantDetail: `Unsupported Content-Type "json": send application/json`},

		"malformed JSON": {spec: vendor, method: http.MethodPost, path: create, contentType: "application/json", body: `{"job_id":`,
			wantStatus: 400, wantDetail: "Malformed JSON: unexpected EOF"},
		"malformed JSON, broken media type parameter": {spec: vendor, method: http.MethodPost, path: create, contentType: "application/json; charset",
			body: `{"job_id":`, wantStatus: 400, wantDetail: "Malformed JSON: unexpected EOF"},
		"trailing comma": {spec: vendor, method: http.MethodPost, path: create, contentType: "application/json", body: `{"job_id":"x",}`,
			wantStatus: 400, wantDetail: "Malformed JSON: invalid character '}' looking for beginning of object key string"},

		"missing body": {spec: vendor, method: http.MethodPost, path: create, contentType: "application/json",
			wantStatus: 400, wantDetail: "Missing request body: send a JSON object"},
		"missing body, any Content-Type": {spec: vendor, method: http.MethodPost, path: create, contentType: "text/plain",
			wantStatus: 400, wantDetail: "Missing request body: send a JSON object"},

		"path parameter not a UUID": {spec: vendor, method: http.MethodGet, path: "/connect_ats/applications/42/status",
			wantStatus: 400, wantDetail: "Bad Request", wantFields: map[string][]string{"reference_id": {"is invalid: must be a UUID"}}},
		"query parameter pattern": {spec: vendor, method: http.MethodGet, path: "/connect_ats/applications/" + ref + "/results?locale=english",
			wantStatus: 400, wantDetail: "Bad Request", wantFields: map[string][]string{"locale": {"has invalid format"}}},
		"query parameter not an integer": {spec: control, method: http.MethodGet, path: "/_mock/journal?status=abc",
			wantStatus: 400, wantDetail: "Bad Request", wantFields: map[string][]string{"status": {"is invalid: an invalid integer"}}},
		"parameters before the body": {spec: vendor, method: http.MethodPost, path: "/connect_ats/applications/42/hire_applicant",
			contentType: "application/json", body: `{"add_to_team":"maybe"}`,
			wantStatus: 400, wantDetail: "Bad Request", wantFields: map[string][]string{"reference_id": {"is invalid: must be a UUID"}}},

		"schema errors by dotted path": {spec: vendor, method: http.MethodPost, path: create, contentType: "application/json",
			body:       `{"job_id":3,"invitation_type":"sms","applicant_details":{"first_name":"","email":"rembrandt"}}`,
			wantStatus: 422, wantFields: map[string][]string{
				"job_id":                       {"is invalid: must be a string"},
				"callback_url":                 {"can't be blank"},
				"invitation_type":              {"is invalid: must be one of email, one_time_link"},
				"applicant_details.first_name": {"can't be blank"},
				"applicant_details.last_name":  {"can't be blank"},
				"applicant_details.email":      {"is invalid: must be an email address like name@example.com"},
			}},
		"whole body of the wrong type": {spec: vendor, method: http.MethodPost, path: create, contentType: "application/json", body: `[]`,
			wantStatus: 422, wantFields: map[string][]string{"body": {"is invalid: must be an object"}}},
		"x-error-message": {spec: control, method: http.MethodPost, path: "/_mock/clock/advance", contentType: "application/json", body: `{"by":"soon"}`,
			wantStatus: 422, wantFields: map[string][]string{"by": {"is invalid: must be a duration like 15m1s"}}},

		"our uuid format": {spec: vendor, method: http.MethodPost, path: create, contentType: "application/json",
			body:       strings.Replace(createBody, job, "42", 1),
			wantStatus: 422, wantFields: map[string][]string{"job_id": {"is invalid: must be a UUID"}}},
		"our date format": {spec: vendor, method: http.MethodPost, path: hire, contentType: "application/json",
			body:       `{"add_to_team":true,"start_date":"2025-13-01"}`,
			wantStatus: 422, wantFields: map[string][]string{"start_date": {"is invalid: must be an ISO 8601 date (YYYY-MM-DD)"}}},
		"kin-openapi's date-time format": {spec: control, method: http.MethodPost, path: "/_mock/clock/set", contentType: "application/json",
			body:       `{"now":"yesterday"}`,
			wantStatus: 422, wantFields: map[string][]string{"now": {"is invalid: must be a valid date-time"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			auth := tc.auth
			if auth == nil {
				auth = noAuth
			}
			got := validate(t, tc.spec, tc.method, tc.path, tc.contentType, tc.body, auth)
			if tc.wantStatus == 0 {
				if got != nil {
					t.Fatalf("valid request refused: %v", got)
				}
				return
			}
			if got == nil {
				t.Fatalf("invalid request accepted, want %d", tc.wantStatus)
			}
			if status := apierr.Status(got.Code); status != tc.wantStatus {
				t.Fatalf("status = %d (%v), want %d", status, got, tc.wantStatus)
			}
			if tc.wantDetail != "" && got.Detail != tc.wantDetail {
				t.Errorf("detail = %q, want %q", got.Detail, tc.wantDetail)
			}
			if tc.wantFields != nil && !reflect.DeepEqual(got.Fields, tc.wantFields) {
				t.Errorf("fields = %q, want %q", got.Fields, tc.wantFields)
			}
		})
	}
}

func TestValidateRequestUnauthorized(t *testing.T) {
	s := load(t, assets.VendorSpec())
	refuse := func(context.Context, *openapi3filter.AuthenticationInput) error { return errors.New("no token") }
	got := validate(t, s, http.MethodGet, "/connect_ats/jobs", "", "", refuse)
	if got == nil || apierr.Status(got.Code) != 401 {
		t.Fatalf("refused auth = %v, want 401", got)
	}
	if got, want := got.Header.Get("WWW-Authenticate"), `Bearer realm="equalture"`; got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
}

// The webhook events are callbacks of registerWebhook named by their type, judged like the
// results callback plus the Standard Webhooks headers they require.
func TestValidateWebhookEvents(t *testing.T) {
	s := load(t, assets.VendorSpec())
	if got, want := strings.Join(s.Callbacks("registerWebhook"), " "), "assessment_finished assessment_started"; got != want {
		t.Fatalf("callbacks of registerWebhook = %q, want %q", got, want)
	}
	signed := func(drop string, set ...string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}, "Webhook-Id": {"5f0c6f5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f"},
			"Webhook-Timestamp": {"1764331200"}, "Webhook-Signature": {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}}
		h.Del(drop)
		for i := 0; i+1 < len(set); i += 2 {
			h.Set(set[i], set[i+1])
		}
		return h
	}
	const (
		started  = `{"id":"5f0c6f5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f","type":"assessment_started","data":{"reference_id":"d2c37d4d-b8d4-46a9-b230-42a246ad6153","application_start_date":"2025-02-17T11:58:11"}}`
		finished = `{"id":"5f0c6f5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f","type":"assessment_finished","data":{"reference_id":"d2c37d4d-b8d4-46a9-b230-42a246ad6153"}}`
	)
	tests := map[string]struct {
		event, method string
		header        http.Header
		body          string
		want          []string // substrings of the error; none for a valid event
	}{
		"started":                      {"assessment_started", http.MethodPost, signed(""), started, nil},
		"finished":                     {"assessment_finished", http.MethodPost, signed(""), finished, nil},
		"a start date with a zone":     {"assessment_started", http.MethodPost, signed(""), strings.Replace(started, `11:58:11"`, `11:58:11.5+01:00"`, 1), nil},
		"two signatures":               {"assessment_started", http.MethodPost, signed("", "Webhook-Signature", "v1,Zm9v v1,YmFy"), started, nil},
		"a PUT":                        {"assessment_started", http.MethodPut, signed(""), started, []string{"callback arrived as PUT", "the contract says POST"}},
		"unsigned":                     {"assessment_started", http.MethodPost, signed("Webhook-Signature"), started, []string{"header webhook-signature missing"}},
		"no webhook-id":                {"assessment_finished", http.MethodPost, signed("Webhook-Id"), finished, []string{"header webhook-id missing"}},
		"a timestamp in milliseconds?": {"assessment_finished", http.MethodPost, signed("", "Webhook-Timestamp", "1764331200.5"), finished, []string{"header webhook-timestamp breaks the contract"}},
		"a signature of another kind":  {"assessment_finished", http.MethodPost, signed("", "Webhook-Signature", "sha256=abc"), finished, []string{"header webhook-signature breaks the contract"}},
		"the other type":               {"assessment_started", http.MethodPost, signed(""), finished, []string{`field "type" is invalid`}},
		"no start date":                {"assessment_started", http.MethodPost, signed(""), strings.Replace(started, `,"application_start_date":"2025-02-17T11:58:11"`, "", 1), []string{`"data.application_start_date" can't be blank`}},
		"a start date that is a date":  {"assessment_started", http.MethodPost, signed(""), strings.Replace(started, `T11:58:11"`, `"`, 1), []string{`"data.application_start_date"`, "2025-02-17T11:58:11"}},
		"an id that is no UUID":        {"assessment_finished", http.MethodPost, signed(""), strings.Replace(finished, `5f0c6f5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f`, "evt_1", 1), []string{`field "id"`, "UUID"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := s.ValidateCallback("registerWebhook", tc.event, tc.method, tc.header, []byte(tc.body))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("valid event refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid event accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestVendorContractSuitsClientGenerators holds openapi.yaml to the rules that keep generated
// clients compiling and typed as the service behaves (tools/codegen generates and runs them; these
// fail faster, naming the rule): no component is named like the types oapi-codegen derives from
// an operation (CreateApplicationResponse, HireApplicantParams…), so none starts with an
// operationId; every enum names its constants (x-enum-varnames), so oapi-codegen never emits
// unprefixed ones that change when another enum appears; no request field has a default, which
// openapi-typescript makes required; no oneOf, which generators turn into opaque unions.
func TestVendorContractSuitsClientGenerators(t *testing.T) {
	s := load(t, assets.VendorSpec())
	var prefixes []string
	for id := range s.Operations() {
		prefixes = append(prefixes, strings.ToUpper(id[:1])+id[1:])
	}
	for _, cbs := range []string{"receiveApplicationResults", "receiveAssessmentStarted", "receiveAssessmentFinished"} {
		prefixes = append(prefixes, strings.ToUpper(cbs[:1])+cbs[1:])
	}
	c := s.Doc.Components
	names := map[string][]string{"schemas": slices.Collect(maps.Keys(c.Schemas)), "responses": slices.Collect(maps.Keys(c.Responses)),
		"parameters": slices.Collect(maps.Keys(c.Parameters)), "headers": slices.Collect(maps.Keys(c.Headers))}
	for kind, list := range names {
		for _, name := range list {
			for _, p := range prefixes {
				if strings.HasPrefix(name, p) {
					t.Errorf("components/%s/%s starts with the operationId %s: oapi-codegen names types %s…", kind, name, p, p)
				}
			}
		}
	}
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, sc *openapi3.Schema)
	walk = func(where string, sc *openapi3.Schema) {
		if sc == nil || seen[sc] {
			return
		}
		seen[sc] = true
		if len(sc.Enum) > 0 {
			names, _ := sc.Extensions["x-enum-varnames"].([]any)
			if len(names) != len(sc.Enum) {
				t.Errorf("%s: enum %v without an x-enum-varnames name for each value", where, sc.Enum)
			}
		}
		if sc.Default != nil {
			t.Errorf("%s: default %v (openapi-typescript makes the field required; say the default in the description)", where, sc.Default)
		}
		if len(sc.OneOf) > 0 || len(sc.AnyOf) > 0 {
			t.Errorf("%s: oneOf/anyOf (declare the one type the service sends and clients should send)", where)
		}
		for name, p := range sc.Properties {
			walk(where+"."+name, p.Value)
		}
		if sc.Items != nil {
			walk(where+"[]", sc.Items.Value)
		}
		if sc.AdditionalProperties.Schema != nil {
			walk(where+".*", sc.AdditionalProperties.Schema.Value)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Schemas)) {
		walk(name, c.Schemas[name].Value)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Parameters)) {
		walk("parameter "+name, c.Parameters[name].Value.Schema.Value)
	}
}
