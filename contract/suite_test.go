package contract

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	callback "github.com/equalture/equalture-mock/internal/receiver"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	equalturemock "github.com/equalture/equalture-mock"
	"github.com/equalture/equalture-mock/internal/apiclient"
	"github.com/equalture/equalture-mock/internal/contracttest"
	"github.com/equalture/equalture-mock/internal/spec"
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
type target struct{ BaseURL, ControlURL, JobID string }

var _ = SynchronizedBeforeSuite(func() []byte {
	configure()
	if local {
		// Under -p the mock runs in process 1 and serves every process until the last is done.
		startLocalMock()
	}
	connect()
	jobID = cfg.JobID
	if jobID == "" {
		jobs := call(http.MethodGet, "/connect_ats/jobs", "", Bearer(token()))
		var list []struct{ ID string }
		Expect(json.Unmarshal(jobs.Body, &list)).To(Succeed())
		if len(list) > 0 {
			jobID = list[0].ID
		}
	}
	b, err := json.Marshal(target{cfg.BaseURL, cfg.ControlURL, jobID})
	Expect(err).NotTo(HaveOccurred())
	return b
}, func(b []byte) {
	var t target
	Expect(json.Unmarshal(b, &t)).To(Succeed())
	configure()
	cfg.BaseURL, cfg.ControlURL, jobID = t.BaseURL, t.ControlURL, t.JobID
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

// Callbacks nobody waits for (those of specs about something else) are checked too.
var _ = AfterSuite(func() {
	if receiver != nil {
		Expect(receiver.Violations()).To(BeEmpty(), "callbacks the suite received broke openapi.yaml")
	}
})

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
	vendor, err := spec.Load(context.Background(), equalturemock.VendorSpec)
	Expect(err).NotTo(HaveOccurred())
	httpc := &http.Client{Timeout: 30 * time.Second}
	api = &apiclient.Client{Base: cfg.BaseURL, Contract: vendor, HTTP: httpc}
	ctl = nil
	if cfg.ControlURL != "" {
		control, err := spec.Load(context.Background(), equalturemock.ControlSpec)
		Expect(err).NotTo(HaveOccurred())
		ctl = &apiclient.Client{Base: cfg.ControlURL, Contract: control, HTTP: httpc, Prefix: "/_mock"}
		if cfg.ControlToken != "" {
			ctl.Options = []Auth{Bearer(cfg.ControlToken)}
		}
	}
}

// call sends a vendor API request and fails the spec if the answer breaks the contract.
func call(method, path, body string, auth ...Auth) Response {
	GinkgoHelper()
	r, err := api.Do(context.Background(), method, path, []byte(body), auth...)
	Expect(err).NotTo(HaveOccurred())
	Expect(r.Violation).To(BeEmpty(), "the answer to %s %s breaks openapi.yaml", method, path)
	return r
}

// expectStatus fails the spec unless r has status want.
func expectStatus(r Response, want int) {
	GinkgoHelper()
	Expect(r.Status).To(Equal(want), "%s", r)
}

func token() string {
	GinkgoHelper()
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

// awaitCallbacks waits for the first n callbacks to path and fails the spec if one breaks the
// contract's callback schema.
func awaitCallbacks(path string, n int) []callback.Callback {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	got, err := receiver.Wait(ctx, path, n)
	Expect(err).NotTo(HaveOccurred(), "waiting for %d callback(s) at %s, got %d", n, receiver.URL+path, len(got))
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
	Expect(err).NotTo(HaveOccurred())
	Expect(r.Status).To(BeNumerically("<", 300), "control API: %s", r)
	Expect(r.Violation).To(BeEmpty(), "the control API's answer to %s %s breaks control-openapi.yaml", method, path)
	return r.JSON()
}

func appPath(ref, action string) string {
	return "/connect_ats/applications/" + ref + "/" + strings.TrimPrefix(action, "/")
}
