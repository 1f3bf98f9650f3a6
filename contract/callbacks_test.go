package contract

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	callback "github.com/equalture/equalture-mock/internal/receiver"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// delivery is the part of the control API's delivery log the suite reads.
type delivery struct {
	Status        string     `json:"status"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	Attempts      []struct {
		StatusCode int `json:"status_code"`
	} `json:"attempts"`
}

// deliveries lists the mock's deliveries matching query (a control API /callbacks query string).
func deliveries(query string) []delivery {
	GinkgoHelper()
	var out struct{ Deliveries []delivery }
	Expect(json.Unmarshal(mustJSON(control(http.MethodGet, "/callbacks?"+query, "")), &out)).To(Succeed())
	return out.Deliveries
}

// described names a callback for failure messages: method, path, Content-Type and body, cut.
func described(cb callback.Callback) string {
	b := string(cb.Body)
	if len(b) > 600 {
		b = b[:600] + "…"
	}
	return fmt.Sprintf("callback %s %s (Content-Type %q) %s", cb.Method, cb.Path, cb.Header.Get("Content-Type"), b)
}

var _ = Describe("Results callbacks", Label("callback", "control", "destructive"), func() {
	It("PUTs the results to callback_url when the applicant completes", func() {
		requireControl()
		tok := token()
		path := callbackPath("cb")
		ref := create(tok, "email", path)
		control(http.MethodPost, "/applications/"+ref+"/complete", "")
		cb := awaitCallbacks(path, 1)[0]
		Expect(cb.Method).To(Equal(http.MethodPut), "the method of the %s", described(cb))
		Expect(cb.Header.Get("Content-Type")).To(HavePrefix("application/json"), "the Content-Type of the %s", described(cb))
		results := call(http.MethodGet, appPath(ref, "results"), "", Bearer(tok))
		Expect(cb.Body).To(MatchJSON(results.Body), "the %s carries what GET results answers: %s", described(cb), results)
	})

	// Serial: it moves the mock's clock, which every process shares.
	It("retries a failed delivery until the receiver answers 200", Serial, func() {
		requireControl()
		tok := token()
		path := callbackPath("retry")
		receiver.Set(path, []callback.Answer{http.StatusInternalServerError, http.StatusOK}, 0)
		ref := create(tok, "email", path)
		control(http.MethodPost, "/applications/"+ref+"/complete", "")
		awaitCallbacks(path, 1)

		By("fast-forwarding the mock's clock to the planned retry")
		var next time.Time
		Eventually(func(g Gomega) { // the mock has logged the failure and planned the retry
			ds := deliveries("reference_id=" + ref + "&status=pending")
			g.Expect(ds).To(HaveLen(1))
			g.Expect(ds[0].Attempts).To(HaveLen(1))
			g.Expect(ds[0].NextAttemptAt).NotTo(BeNil())
			next = *ds[0].NextAttemptAt
		}).WithTimeout(10 * time.Second).WithPolling(20 * time.Millisecond).Should(Succeed())
		var clock struct{ Now time.Time }
		Expect(json.Unmarshal(mustJSON(control(http.MethodGet, "/clock", "")), &clock)).To(Succeed())
		by := max(next.Sub(clock.Now), 0) + time.Second
		control(http.MethodPost, "/clock/advance", `{"by":"`+by.String()+`"}`)

		got := awaitCallbacks(path, 2)
		Expect(got[0].Answer).To(Equal(callback.Answer(http.StatusInternalServerError)), "what the receiver answered the first %s", described(got[0]))
		Expect(got[1].Header.Get("X-Equalture-Delivery-Id")).To(Equal(got[0].Header.Get("X-Equalture-Delivery-Id")),
			"header X-Equalture-Delivery-Id: a retry is the same delivery (%s, then %s)", described(got[0]), described(got[1]))
		ds := deliveries("reference_id=" + ref + "&status=delivered&wait=10s")
		Expect(ds).To(HaveLen(1), "the delivery log of %s", ref)
		Expect(ds[0].Attempts).To(HaveLen(2), "the attempts of the delivery of %s: %+v", ref, ds[0])
		Expect(ds[0].Attempts[0].StatusCode).To(Equal(http.StatusInternalServerError), "status_code of attempt 1 of %s: %+v", ref, ds[0])
		Expect(ds[0].Attempts[1].StatusCode).To(Equal(http.StatusOK), "status_code of attempt 2 of %s: %+v", ref, ds[0])
	})
})

// Against the real service nobody but a person completes an assessment: this spec creates an
// application with a one-time link and waits (EQUALTURE_CONTRACT_CALLBACK_TIMEOUT) for its results
// to reach the receiver, which the service must be able to reach (EQUALTURE_CONTRACT_RECEIVER_URL:
// a tunnel or a CI service URL). Against the mock, the control API completes it.
var _ = Describe("Results callbacks from a completion", Label("callback", "destructive"), func() {
	It("PUTs results that honour the contract to callback_url once the applicant completes", func() {
		requireJob()
		if ctl == nil && cfg.ReceiverURL == "" {
			Skip("needs a receiver the target can reach: set EQUALTURE_CONTRACT_RECEIVER_URL (a tunnel or a CI service URL in front of EQUALTURE_CONTRACT_RECEIVER_ADDR)")
		}
		tok := token()
		path := callbackPath("completion")
		r := call(http.MethodPost, "/connect_ats/applications", applicant("one_time_link", receiver.URL+path), Bearer(tok))
		expectStatus(r, http.StatusCreated)
		ref := r.Field("reference_id")
		if ctl != nil {
			control(http.MethodPost, "/applications/"+ref+"/complete", "")
		} else {
			AddReportEntry("assessment to complete", r.Field("assessment_url"))
			GinkgoWriter.Printf("Complete the assessment of application %s within %s: %s\n", ref, cfg.Parsed.CallbackTimeout, r.Field("assessment_url"))
		}
		cb := awaitCallbacks(path, 1)[0]
		Expect(cb.Method).To(Equal(http.MethodPut), "the method of the %s", described(cb))
		Expect(cb.Header.Get("Content-Type")).To(HavePrefix("application/json"), "the Content-Type of the %s", described(cb))
		var payload map[string]any
		Expect(json.Unmarshal(cb.Body, &payload)).To(Succeed(), "the %s", described(cb))
		Expect(payload["results_url"]).To(WithTransform(absoluteURL, BeTrue()), "results_url of the %s must be an absolute http(s) URL", described(cb))
		status := call(http.MethodGet, appPath(ref, "status"), "", Bearer(tok))
		expectField(status, "status", BeElementOf("completed", "hired"))
		results := call(http.MethodGet, appPath(ref, "results"), "", Bearer(tok))
		expectStatus(results, http.StatusOK)
		Expect(payload["fit"]).To(Equal(results.JSON()["fit"]), "fit of the %s and of %s", described(cb), results)
	})
})
