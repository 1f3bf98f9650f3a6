package contract

import (
	"net/http"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The answers an ATS depends on most come only after an application is completed. Against the real
// service these specs read applications already completed on the account
// (EQUALTURE_CONTRACT_COMPLETED_REF); against the mock they complete one through the control API.
var _ = Describe("Completed applications", Label("readonly"), func() {
	var (
		tok  string
		refs []string
	)
	BeforeEach(func() {
		refs = completedRefs()
		tok = token()
	})

	It("answer status completed or hired", func() {
		for _, ref := range refs {
			r := call(http.MethodGet, appPath(ref, "status"), "", Bearer(tok))
			expectStatus(r, http.StatusOK)
			expectField(r, "status", BeElementOf("completed", "hired"))
		}
	})

	It("answer results in every documented locale, with an absolute results_url", func() {
		for _, ref := range refs {
			for _, locale := range documentedLocales() {
				r := call(http.MethodGet, appPath(ref, "results")+"?locale="+locale, "", Bearer(tok))
				expectStatus(r, http.StatusOK)
				expectAbsoluteURL(r, "results_url")
				expectField(r, "fit", BeElementOf("low", "medium", "high"))
				expectField(r, "detailed_scores", Not(BeNil()))
			}
		}
	})

	It("answer a public link in every documented locale: an absolute url, a ttl in minutes", func() {
		for _, ref := range refs {
			for _, locale := range documentedLocales() {
				r := call(http.MethodGet, appPath(ref, "public_link")+"?locale="+locale, "", Bearer(tok))
				expectStatus(r, http.StatusOK)
				expectAbsoluteURL(r, "url")
				expectField(r, "ttl", WithTransform(minutes, BeNumerically(">", 0)))
				expectField(r, "ttl_units", Equal("minutes"))
			}
		}
	})
})

// minutes reads a public link's ttl, a string of digits ("120", as the seed sends it and the
// contract declares it); -1 when it is not one.
func minutes(v any) float64 {
	if s, ok := v.(string); ok {
		if n, err := strconv.Atoi(s); err == nil {
			return float64(n)
		}
	}
	return -1
}

// Hiring changes the application for good: against the real service it needs a completed, not yet
// hired application of a test account (EQUALTURE_CONTRACT_HIREABLE_REF), used up by one run.
var _ = Describe("Hiring a completed application", Label("destructive"), func() {
	It("hires it with the seed's string boolean and a start date, after which its status is hired", func() {
		ref := hireableRef()
		tok := token()
		start := time.Now().UTC().AddDate(0, 0, 14).Format(time.DateOnly)
		r := call(http.MethodPost, appPath(ref, "hire_applicant"), `{"add_to_team": "true", "start_date": "`+start+`"}`, Bearer(tok))
		expectStatus(r, http.StatusOK)
		expectField(r, "reference_id", Equal(ref))
		expectField(r, "message", And(BeAssignableToTypeOf(""), Not(BeEmpty())))
		status := call(http.MethodGet, appPath(ref, "status"), "", Bearer(tok))
		expectStatus(status, http.StatusOK)
		expectField(status, "status", Equal("hired"))
	})
})
