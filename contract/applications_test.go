package contract

import (
	"encoding/json"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Jobs", Label("readonly"), func() {
	It("lists the client's jobs, each with an id and a name", func() {
		r := call(http.MethodGet, "/connect_ats/jobs", "", Bearer(token()))
		expectStatus(r, http.StatusOK)
		var jobs []struct{ ID, Name string }
		Expect(json.Unmarshal(r.Body, &jobs)).To(Succeed(), "%s", r)
		if cfg.JobID != "" {
			Expect(jobs).To(ContainElement(HaveField("ID", cfg.JobID)), "EQUALTURE_CONTRACT_JOB_ID among the jobs of %s", r)
		}
	})
})

// unknownRef is a well-formed reference_id no client has.
const unknownRef = "00000000-0000-4000-8000-000000000000"

var _ = Describe("Unknown applications", Label("readonly"), func() {
	DescribeTable("answer 404 for a reference_id nobody has",
		func(action string) {
			r := call(http.MethodGet, appPath(unknownRef, action), "", Bearer(token()))
			expectStatus(r, http.StatusNotFound)
			expectErrors(r, "detail")
		},
		Entry("status", "status"),
		Entry("results", "results"),
		Entry("public_link", "public_link"),
	)
})

var _ = Describe("Applications", Label("destructive"), func() {
	var tok string
	BeforeEach(func() {
		requireJob()
		tok = token()
	})

	It("creates one by email, answering a reference_id", func() {
		ref := create(tok, "email", "/contract/email")
		r := call(http.MethodGet, appPath(ref, "status"), "", Bearer(tok))
		expectStatus(r, http.StatusOK)
		expectField(r, "status", Equal("invited"))
	})

	It("creates one with a one-time link, answering an assessment_url", func() {
		r := call(http.MethodPost, "/connect_ats/applications", applicant("one_time_link", receiver.URL+"/contract/otl"), Bearer(tok))
		expectStatus(r, http.StatusCreated)
		expectAbsoluteURL(r, "assessment_url")
	})

	DescribeTable("refuses invalid input, naming what is wrong",
		func(body func() string, contentType string, want int, field string) {
			r := call(http.MethodPost, "/connect_ats/applications", body(), Bearer(tok), Header("Content-Type", contentType))
			expectStatus(r, want)
			expectErrors(r, field)
		},
		Entry("missing email", func() string { return without(applicant("email", receiver.URL), "email") }, "application/json", 422, "applicant_details.email"),
		Entry("job_id not a UUID", func() string { return strings.Replace(applicant("email", receiver.URL), jobID, "42", 1) }, "application/json", 422, "job_id"),
		Entry("ftp callback_url", func() string { return strings.Replace(applicant("email", receiver.URL), "http://", "ftp://", 1) }, "application/json", 422, "callback_url"),
		Entry("malformed JSON", func() string { return `{"job_id":` }, "application/json", 400, "detail"),
		Entry("not JSON at all", func() string { return applicant("email", receiver.URL) }, "text/plain", 415, "detail"),
	)

	It("refuses results, public link and hiring before completion with 409", func() {
		ref := create(tok, "email", "/contract/early")
		expectConflict(call(http.MethodGet, appPath(ref, "results"), "", Bearer(tok)))
		expectConflict(call(http.MethodGet, appPath(ref, "public_link"), "", Bearer(tok)))
		expectConflict(call(http.MethodPost, appPath(ref, "hire_applicant"), `{"add_to_team":false}`, Bearer(tok)))
	})

	It("anonymizes from any state, after which it cannot be hired", func() {
		ref := create(tok, "email", "/contract/anon")
		r := call(http.MethodDelete, appPath(ref, "anonymize_application"), "", Bearer(tok))
		expectStatus(r, http.StatusOK)
		expectField(r, "reference_id", Equal(ref))
		expectField(call(http.MethodGet, appPath(ref, "status"), "", Bearer(tok)), "status", Equal("anonymized"))
		expectConflict(call(http.MethodPost, appPath(ref, "hire_applicant"), `{"add_to_team":true}`, Bearer(tok)))
	})

	It("shows results and a public link once completed, then hires", Label("control"), func() {
		requireControl()
		ref := create(tok, "email", "/contract/complete")
		control(http.MethodPost, "/applications/"+ref+"/complete", `{"fit":"high"}`)
		r := call(http.MethodGet, appPath(ref, "results")+"?locale=nl", "", Bearer(tok))
		expectStatus(r, http.StatusOK)
		expectField(r, "fit", Equal("high"))
		r = call(http.MethodGet, appPath(ref, "public_link")+"?locale=en", "", Bearer(tok))
		expectStatus(r, http.StatusOK)
		expectField(r, "ttl_units", Equal("minutes"))
		r = call(http.MethodPost, appPath(ref, "hire_applicant"), `{"add_to_team":"true","start_date":"2025-07-01"}`, Bearer(tok))
		expectStatus(r, http.StatusOK)
		expectField(call(http.MethodGet, appPath(ref, "status"), "", Bearer(tok)), "status", Equal("hired"))
		expectConflict(call(http.MethodPost, appPath(ref, "hire_applicant"), `{"add_to_team":true}`, Bearer(tok)))
	})

	It("keeps tenants apart: another client's reference_id is a 404 like an unknown one", func() {
		if cfg.Client2ID == "" {
			Skip("needs a second client: set EQUALTURE_CONTRACT_CLIENT2_ID and _SECRET")
		}
		ref := create(tok, "email", "/contract/tenant")
		other := token2()
		for _, action := range []string{"status", "results", "public_link"} {
			foreign := call(http.MethodGet, appPath(ref, action), "", Bearer(other))
			unknown := call(http.MethodGet, appPath(unknownRef, action), "", Bearer(other))
			expectStatus(foreign, http.StatusNotFound)
			Expect(string(foreign.Body)).To(Equal(string(unknown.Body)), "%s of another client's application (%s) answers what an unknown id does (%s)", action, foreign, unknown)
		}
		expectStatus(call(http.MethodDelete, appPath(ref, "anonymize_application"), "", Bearer(other)), http.StatusNotFound)
		expectField(call(http.MethodGet, appPath(ref, "status"), "", Bearer(tok)), "status", Equal("invited"))
	})
})

// without drops a field of applicant_details from a create body.
func without(body, field string) string {
	var v map[string]any
	_ = json.Unmarshal([]byte(body), &v)
	delete(v["applicant_details"].(map[string]any), field)
	b, _ := json.Marshal(v)
	return string(b)
}
