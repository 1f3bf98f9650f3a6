package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	equalturemock "github.com/equalture/equalture-mock"
	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/mockserver"
)

var (
	cfg      Config
	api      *Client
	receiver *Receiver
	jobID    string
	seq      atomic.Int64
)

func init() { RegisterFlags(flag.CommandLine, &cfg) }

func TestContract(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Equalture Open Assessment API contract")
}

var _ = BeforeSuite(func() {
	local := cfg.BaseURL == ""
	Expect(cfg.Complete(local)).To(Succeed(), "contract suite configuration")
	contract, err := spec.Load(context.Background(), equalturemock.VendorSpec)
	Expect(err).NotTo(HaveOccurred())
	if local {
		startLocalMock()
	}
	receiver, err = NewReceiver(cfg.ReceiverAddr, cfg.ReceiverURL, contract)
	Expect(err).NotTo(HaveOccurred(), "callback receiver on %s", cfg.ReceiverAddr)
	DeferCleanup(receiver.Close)
	api = &Client{Base: cfg.BaseURL, Contract: contract, HTTP: &http.Client{Timeout: 30 * time.Second}}
	jobID = cfg.JobID
	if jobID == "" && cfg.ClientID != "" {
		jobs := call(http.MethodGet, "/connect_ats/jobs", "", Bearer(token()))
		var list []struct{ ID string }
		Expect(json.Unmarshal(jobs.Body, &list)).To(Succeed())
		if len(list) > 0 {
			jobID = list[0].ID
		}
	}
	By(fmt.Sprintf("target %s, control API %q, receiver %s, job %s", cfg.BaseURL, cfg.ControlURL, receiver.URL, jobID))
})

// startLocalMock runs the mock in this process, with its control API, on a free loopback port.
func startLocalMock() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	base := "http://" + ln.Addr().String()
	a, err := app.New(context.Background(), app.Options{Server: mockserver.Config{PublicURL: base, Seed: 11}})
	Expect(err).NotTo(HaveOccurred())
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	DeferCleanup(func() {
		_ = srv.Close()
		_ = a.Close(context.Background())
	})
	cfg.BaseURL, cfg.ControlURL = base, base+"/_mock"
}

// call sends a vendor API request and fails the spec if the answer breaks the contract.
func call(method, path, body string, auth ...Auth) Response {
	GinkgoHelper()
	r, err := api.Do(method, path, body, auth...)
	Expect(err).NotTo(HaveOccurred())
	Expect(r.Violation).To(BeEmpty(), "the answer to %s %s breaks openapi.yaml", method, path)
	return r
}

// expectStatus fails the spec unless r has status want.
func expectStatus(r Response, want int) {
	GinkgoHelper()
	Expect(r.Status).To(Equal(want), "answer: %s", r)
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
	n := seq.Add(1)
	b, _ := json.Marshal(map[string]any{
		"job_id":          jobID,
		"callback_url":    callbackURL,
		"invitation_type": invitation,
		"applicant_details": map[string]string{
			"first_name": "Contract",
			"last_name":  fmt.Sprintf("Test %d-%d-%d", time.Now().Unix(), GinkgoParallelProcess(), n),
			"email":      fmt.Sprintf("contract-test+%d-%d-%d@example.com", time.Now().Unix(), GinkgoParallelProcess(), n),
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

func requireControl() {
	GinkgoHelper()
	if cfg.ControlURL == "" {
		Skip("needs the mock's control API: set EQUALTURE_CONTRACT_CONTROL_URL")
	}
}

// control calls the mock's control API and returns the decoded answer.
func control(method, path, body string) map[string]any {
	GinkgoHelper()
	requireControl()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequest(method, cfg.ControlURL+path, rd)
	Expect(err).NotTo(HaveOccurred())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	Expect(resp.StatusCode).To(BeNumerically("<", 300), "control API %s %s: %s", method, path, b)
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	return v
}

func appPath(ref, action string) string {
	return "/connect_ats/applications/" + ref + "/" + strings.TrimPrefix(action, "/")
}
