package contract

import (
	"encoding/json"
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

var _ = Describe("Results callbacks", Label("callback", "control", "destructive"), func() {
	It("PUTs the results to callback_url when the applicant completes", func() {
		requireControl()
		tok := token()
		path := callbackPath("cb")
		ref := create(tok, "email", path)
		control(http.MethodPost, "/applications/"+ref+"/complete", "")
		cb := awaitCallbacks(path, 1)[0]
		Expect(cb.Method).To(Equal(http.MethodPut))
		Expect(cb.Header.Get("Content-Type")).To(HavePrefix("application/json"))
		results := call(http.MethodGet, appPath(ref, "results"), "", Bearer(tok)).JSON()
		Expect(cb.Body).To(MatchJSON(mustJSON(results)), "the callback carries what GET results answers")
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
		Expect(got[0].Answer).To(Equal(callback.Answer(http.StatusInternalServerError)))
		Expect(got[1].Header.Get("X-Equalture-Delivery-Id")).To(Equal(got[0].Header.Get("X-Equalture-Delivery-Id")),
			"a retry is the same delivery")
		ds := deliveries("reference_id=" + ref + "&status=delivered&wait=10s")
		Expect(ds).To(HaveLen(1), "the delivery log of %s", ref)
		Expect(ds[0].Attempts).To(HaveLen(2))
		Expect(ds[0].Attempts[0].StatusCode).To(Equal(http.StatusInternalServerError))
		Expect(ds[0].Attempts[1].StatusCode).To(Equal(http.StatusOK))
	})
})
