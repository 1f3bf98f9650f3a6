package contract

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	callback "github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/spec"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/equalture/equalture-mock/internal/apiclient"
	"github.com/equalture/equalture-mock/internal/contracttest"
)

// safeLabels is the label filter against a target without a control API (the real service) when
// none is given: nothing that creates, hires or anonymizes.
const safeLabels = "!destructive && !control"

// The suite's shorthands for the validating client's types.
type (
	Auth     = apiclient.Option
	Response = apiclient.Response
)

var (
	Basic  = apiclient.Basic
	Bearer = apiclient.Bearer
	Header = apiclient.Header
)

var (
	cfg      contracttest.Config
	local    bool // no base URL: the suite runs its own mock
	api      *apiclient.Client
	ctl      *apiclient.Client // the mock's control API; nil without one
	receiver *callback.Receiver
	jobID    string
	seq      atomic.Int64
	// setupProblem says how the shared set-up (a token, the job to apply to) broke: the specs that
	// need it skip, and the suite reports it once, after the last spec.
	setupProblem string
)

func init() { contracttest.RegisterFlags(flag.CommandLine, &cfg) }

func TestContract(t *testing.T) {
	RegisterFailHandler(Fail)
	cfg.ApplyEnv(os.Getenv)
	local = cfg.BaseURL == ""
	suiteConfig, reporterConfig := GinkgoConfiguration()
	if !local && cfg.ControlURL == "" && suiteConfig.LabelFilter == "" {
		suiteConfig.LabelFilter = safeLabels
		if suiteConfig.ParallelProcess == 1 {
			fmt.Printf("No control API configured: treating %s as the real service and running only safe specs (label filter %q).\n"+
				"Choose with -ginkgo.label-filter, e.g. '!control' on a test account to create applications too.\n\n", cfg.BaseURL, safeLabels)
		}
	}
	RunSpecs(t, "Equalture Open Assessment API contract", suiteConfig, reporterConfig)
}

// target is what process 1 settles and shares with every parallel process.
type target struct{ BaseURL, ControlURL, JobID, SetupProblem string }

var _ = SynchronizedBeforeSuite(func() []byte {
	configure()
	if local {
		// Under -p the mock runs in process 1 and serves every process until the last is done.
		startLocalMock()
	}
	connect()
	jobID = cfg.JobID
	problem := checkSetup()
	b, err := json.Marshal(target{cfg.BaseURL, cfg.ControlURL, jobID, problem})
	Expect(err).NotTo(HaveOccurred())
	return b
}, func(b []byte) {
	var t target
	Expect(json.Unmarshal(b, &t)).To(Succeed())
	configure()
	cfg.BaseURL, cfg.ControlURL, jobID, setupProblem = t.BaseURL, t.ControlURL, t.JobID, t.SetupProblem
	connect()
	suiteConfig, _ := GinkgoConfiguration()
	if err := cfg.ForProcess(suiteConfig.ParallelProcess, suiteConfig.ParallelTotal); err != nil {
		Fail("contract suite configuration: " + err.Error())
	}
	var err error
	receiver, err = callback.New(cfg.ReceiverAddr, cfg.ReceiverURL, api.Contract)
	Expect(err).NotTo(HaveOccurred(), "callback receiver on %s", cfg.ReceiverAddr)
	DeferCleanup(receiver.Close)
	By(fmt.Sprintf("target %s, control API %q, receiver %s, job %q", cfg.BaseURL, cfg.ControlURL, receiver.URL, jobID))
})

var _ = SynchronizedAfterSuite(func() {
	// Callbacks nobody waits for (those of specs about something else) are checked too.
	if receiver != nil {
		Expect(receiver.Violations()).To(BeEmpty(), "callbacks the suite received broke openapi.yaml")
	}
}, func() {
	// Once, in process 1: a broken set-up is one failure, not one per spec.
	if setupProblem != "" {
		Fail("the shared set-up is broken, so every spec that needs a token or a job was skipped:\n" + setupProblem)
	}
})

// checkSetup gets what most specs share — a token, and the job to apply to when none is
// configured — and says how it broke ("" when it did not).
func checkSetup() string {
	ctx := context.Background()
	r, err := api.Do(ctx, http.MethodPost, "/connect_ats/access_token", nil, Basic(cfg.ClientID, cfg.ClientSecret))
	switch {
	case err != nil:
		return "cannot get a token: " + err.Error()
	case breaks(r):
		return "the token answer breaks openapi.yaml: " + r.Violation + "\n" + r.String()
	case r.Status != http.StatusOK || r.Field("access_token") == "":
		return "no token for " + cfg.ClientID + ": " + r.String()
	}
	if jobID != "" {
		return ""
	}
	jobs, err := api.Do(ctx, http.MethodGet, "/connect_ats/jobs", nil, Bearer(r.Field("access_token")))
	var list []struct{ ID string }
	switch {
	case err != nil:
		return "cannot list the jobs: " + err.Error()
	case breaks(jobs):
		return "the jobs answer breaks openapi.yaml: " + jobs.Violation + "\n" + jobs.String()
	case jobs.Status != http.StatusOK || json.Unmarshal(jobs.Body, &list) != nil:
		return "cannot list the jobs: " + jobs.String()
	}
	if len(list) > 0 {
		jobID = list[0].ID
	}
	return ""
}

// requireSetup skips a spec that needs the shared set-up when it is broken (reported once).
func requireSetup() {
	GinkgoHelper()
	if setupProblem != "" {
		first, _, _ := strings.Cut(setupProblem, "\n")
		Skip("the shared set-up is broken (reported once, after the last spec): " + first)
	}
}

// requireJob skips a spec that needs a job to apply to when there is none.
func requireJob() {
	GinkgoHelper()
	requireSetup()
	if jobID == "" {
		Skip("the client has no job to apply to: set EQUALTURE_CONTRACT_JOB_ID")
	}
}

// configure checks the settings, failing the suite with what is missing.
func configure() {
	GinkgoHelper()
	if err := cfg.Complete(local); err != nil {
		Fail("contract suite configuration:\n" + err.Error())
	}
}

// connect builds the clients of the vendor and control APIs, each checking answers against its contract.
func connect() {
	GinkgoHelper()
	vendor, err := spec.Vendor()
	Expect(err).NotTo(HaveOccurred())
	// Each request is bounded by the client's Timeout, which names the operation that ran out.
	httpc := &http.Client{}
	timeout := cfg.Parsed.RequestTimeout
	api = &apiclient.Client{Base: cfg.BaseURL, Contract: vendor, HTTP: httpc, Timeout: timeout}
	ctl = nil
	if cfg.ControlURL != "" {
		control, err := spec.Control()
		Expect(err).NotTo(HaveOccurred())
		ctl = &apiclient.Client{Base: cfg.ControlURL, Contract: control, HTTP: httpc, Prefix: "/_mock", Timeout: timeout}
		if cfg.ControlToken != "" {
			ctl.Options = []Auth{Bearer(cfg.ControlToken)}
		}
	}
}

// breaks says r breaks the contract in a way that fails a run: any violation but one of what the
// contract only guessed while the suite only warns about those.
func breaks(r Response) bool {
	return r.Violation != "" && (r.Guesses == "" || cfg.Parsed.FailOnInferred)
}

// call sends a vendor API request and fails the spec if the answer breaks the contract.
func call(method, path, body string, auth ...Auth) Response {
	GinkgoHelper()
	r, err := api.Do(context.Background(), method, path, []byte(body), auth...)
	if err != nil { // the error names the operation (and the timeout, when it ran out)
		Fail(fmt.Sprintf("calling %s %s: %v", method, path, err))
	}
	if r.Violation != "" && r.Guesses != "" {
		guessed(r.Guesses)
		return r
	}
	Expect(r.Violation).To(BeEmpty(), "the answer to %s %s breaks openapi.yaml", method, path)
	return r
}

// guessed reports that the target does otherwise than a part openapi.yaml only guessed
// (x-inferred): news about the contract, not necessarily a broken service. It is a report entry
// (a JUnit property named "inferred") and, with EQUALTURE_CONTRACT_INFERRED=fail (the default
// against the mock), a failure of its own kind.
func guessed(news string) {
	GinkgoHelper()
	AddReportEntry("inferred", news)
	if cfg.Parsed.FailOnInferred {
		Fail("openapi.yaml only guessed this (x-inferred), and the target does otherwise — news about the contract, " +
			"not necessarily a broken service (EQUALTURE_CONTRACT_INFERRED=warn reports it without failing):\n" + news)
	}
	fmt.Fprintf(GinkgoWriter, "NEWS about openapi.yaml (x-inferred; EQUALTURE_CONTRACT_INFERRED=fail to fail on it): %s\n", news)
}

// expectConflict fails the spec unless r refuses its operation in the application's state with
// the status x-lifecycle names; another 4xx is news about what the contract guessed (409 or 422).
func expectConflict(r Response) {
	GinkgoHelper()
	op, _, _ := strings.Cut(r.Operation, " ")
	rule, ok := api.Contract.Lifecycle().Rule(op)
	Expect(ok).To(BeTrue(), "openapi.yaml states no x-lifecycle for %s", op)
	if r.Status != rule.Conflict && r.Status >= 400 && r.Status < 500 && r.Status != http.StatusUnauthorized && r.Status != http.StatusNotFound {
		guessed(fmt.Sprintf("the contract guessed %d for %s in a state it is not allowed in (openapi.yaml x-lifecycle conflict of %s, x-inferred); the service answered %s",
			rule.Conflict, op, op, r))
		return
	}
	expectStatus(r, rule.Conflict)
}

// expectStatus fails the spec unless r has status want.
func expectStatus(r Response, want int) {
	GinkgoHelper()
	Expect(r.Status).To(Equal(want), "%s", r)
}

// expectField fails the spec unless the top-level field of r's body matches m; the failure names
// the operation, the field and the answer.
func expectField(r Response, field string, m types.GomegaMatcher) {
	GinkgoHelper()
	Expect(r.JSON()[field]).To(m, "field %q of the answer: %s", field, r)
}

// expectHeader is expectField for a response header.
func expectHeader(r Response, name string, m types.GomegaMatcher) {
	GinkgoHelper()
	Expect(r.Header.Get(name)).To(m, "header %s of the answer: %s", name, r)
}

// expectErrors fails the spec unless r's error body holds messages for field ("detail" too).
func expectErrors(r Response, field string) {
	GinkgoHelper()
	Expect(r.ErrorMessages(field)).NotTo(BeEmpty(), "errors.%s of the answer: %s", field, r)
}

// expectAbsoluteURL fails the spec unless field of r is an absolute http(s) URL.
func expectAbsoluteURL(r Response, field string) {
	GinkgoHelper()
	expectField(r, field, WithTransform(absoluteURL, BeTrue()))
}

// absoluteURL reports whether v is an absolute http(s) URL.
func absoluteURL(v any) bool {
	s, _ := v.(string)
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// tokenTTL is the access tokens' lifetime openapi.yaml documents (x-token-ttl).
func tokenTTL() time.Duration {
	GinkgoHelper()
	ttl, ok := api.Contract.TokenTTL()
	Expect(ok).To(BeTrue(), "openapi.yaml documents no token lifetime (x-token-ttl)")
	return ttl
}

func token() string {
	GinkgoHelper()
	requireSetup()
	r := call(http.MethodPost, "/connect_ats/access_token", "", Basic(cfg.ClientID, cfg.ClientSecret))
	expectStatus(r, http.StatusOK)
	return r.Field("access_token")
}

func token2() string {
	GinkgoHelper()
	r := call(http.MethodPost, "/connect_ats/access_token", "", Basic(cfg.Client2ID, cfg.Client2Secret))
	expectStatus(r, http.StatusOK)
	return r.Field("access_token")
}

// applicant is a create-application body marked as contract-test data.
func applicant(invitation, callbackURL string) string {
	id := fmt.Sprintf("%d-%d-%d", time.Now().Unix(), GinkgoParallelProcess(), seq.Add(1))
	b, _ := json.Marshal(map[string]any{
		"job_id":          jobID,
		"callback_url":    callbackURL,
		"invitation_type": invitation,
		"applicant_details": map[string]string{
			"first_name": "Contract",
			"last_name":  "Test " + time.Now().UTC().Format(time.RFC3339),
			"email":      "contract-test+" + id + "@example.com",
		},
	})
	return string(b)
}

// create makes an application and returns its reference_id.
func create(tok, invitation, callbackPath string) string {
	GinkgoHelper()
	r := call(http.MethodPost, "/connect_ats/applications", applicant(invitation, receiver.URL+callbackPath), Bearer(tok))
	expectStatus(r, http.StatusCreated)
	return r.Field("reference_id")
}

// callbackPath is a receiver path of its own for one spec's callbacks.
func callbackPath(kind string) string {
	return fmt.Sprintf("/contract/%s/%d/%d", kind, GinkgoParallelProcess(), seq.Add(1))
}

// awaitCallbacks waits for the first n callbacks to path (up to the callback timeout) and fails
// the spec if one breaks the contract's callback schema.
func awaitCallbacks(path string, n int) []callback.Callback {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Parsed.CallbackTimeout)
	defer cancel()
	got, err := receiver.Wait(ctx, path, n)
	Expect(err).NotTo(HaveOccurred(), "waiting %s for %d callback(s) at %s (EQUALTURE_CONTRACT_CALLBACK_TIMEOUT), got %d",
		cfg.Parsed.CallbackTimeout, n, receiver.URL+path, len(got))
	for i, cb := range got {
		Expect(cb.Violation).To(BeEmpty(), "callback %d to %s", i+1, path)
	}
	return got
}

func requireControl() {
	GinkgoHelper()
	if ctl == nil {
		Skip("needs the mock's control API: set EQUALTURE_CONTRACT_CONTROL_URL (only the mock has one)")
	}
}

// control calls the mock's control API, checks the answer against control-openapi.yaml and
// returns it decoded.
func control(method, path, body string) map[string]any {
	GinkgoHelper()
	requireControl()
	r, err := ctl.Do(context.Background(), method, path, []byte(body))
	if err != nil {
		Fail(fmt.Sprintf("calling the control API, %s %s: %v", method, path, err))
	}
	Expect(r.Status).To(BeNumerically("<", 300), "control API: %s", r)
	Expect(r.Violation).To(BeEmpty(), "the control API's answer to %s %s breaks control-openapi.yaml", method, path)
	return r.JSON()
}

// completedRefs returns applications that are completed (or hired) on the target: the configured
// ones, or else one completed now through the control API; without either the spec is skipped.
func completedRefs() []string {
	GinkgoHelper()
	if refs := cfg.Parsed.CompletedRefs; len(refs) > 0 {
		return refs
	}
	if ctl == nil {
		Skip("needs applications already completed on the target: set EQUALTURE_CONTRACT_COMPLETED_REF to their reference ids (comma-separated)")
	}
	return []string{completeOne()}
}

// hireableRef returns a completed, not yet hired application: the configured one, or one completed
// now through the control API; without either the spec is skipped.
func hireableRef() string {
	GinkgoHelper()
	if cfg.HireableRef != "" {
		return cfg.HireableRef
	}
	if ctl == nil {
		Skip("needs a completed application the suite may hire: set EQUALTURE_CONTRACT_HIREABLE_REF")
	}
	return completeOne()
}

// completeOne creates an application and completes it through the mock's control API.
func completeOne() string {
	GinkgoHelper()
	requireJob()
	ref := create(token(), "email", callbackPath("completed"))
	control(http.MethodPost, "/applications/"+ref+"/complete", "")
	return ref
}

// documentedLocales are the locales the contract documents for the locale parameter (its examples).
func documentedLocales() []string {
	GinkgoHelper()
	p := api.Contract.Doc.Components.Parameters["Locale"]
	Expect(p).NotTo(BeNil(), "openapi.yaml documents no Locale parameter")
	var out []string
	for _, ex := range p.Value.Examples {
		if s, ok := ex.Value.Value.(string); ok {
			out = append(out, s)
		}
	}
	Expect(out).NotTo(BeEmpty(), "openapi.yaml documents no locale (examples of the Locale parameter)")
	sort.Strings(out)
	return out
}

func appPath(ref, action string) string {
	return "/connect_ats/applications/" + ref + "/" + strings.TrimPrefix(action, "/")
}
