package contract

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return b
}

var _ = Describe("Results callbacks", Label("callback", "control", "destructive"), func() {
	It("PUTs the results to callback_url when the applicant completes", func() {
		requireControl()
		tok := token()
		path := fmt.Sprintf("/contract/cb/%d/%d", GinkgoParallelProcess(), seq.Add(1))
		ref := create(tok, "email", path)
		control(http.MethodPost, "/applications/"+ref+"/complete", "")
		got, err := receiver.Wait(path, 1, 15*time.Second)
		Expect(err).NotTo(HaveOccurred(), "no callback reached %s", receiver.URL+path)
		cb := got[0]
		Expect(cb.Method).To(Equal(http.MethodPut))
		Expect(cb.Header.Get("Content-Type")).To(HavePrefix("application/json"))
		Expect(cb.Violation).To(BeEmpty())
		results := call(http.MethodGet, appPath(ref, "results"), "", Bearer(tok)).JSON()
		Expect(cb.Body).To(MatchJSON(mustJSON(results)), "the callback carries what GET results answers")
	})

	It("retries a failed delivery until the receiver answers 200", Serial, func() {
		requireControl()
		tok := token()
		path := fmt.Sprintf("/contract/retry/%d/%d", GinkgoParallelProcess(), seq.Add(1))
		receiver.Script(path, http.StatusInternalServerError, http.StatusOK)
		ref := create(tok, "email", path)
		control(http.MethodPost, "/applications/"+ref+"/complete", "")
		_, err := receiver.Wait(path, 1, 15*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() []any { // the mock has logged the failure and planned the retry
			ds := control(http.MethodGet, "/callbacks?reference_id="+ref+"&status=pending", "")["deliveries"].([]any)
			if len(ds) == 0 {
				return nil
			}
			return ds[0].(map[string]any)["attempts"].([]any)
		}).WithTimeout(10 * time.Second).WithPolling(20 * time.Millisecond).Should(HaveLen(1))
		control(http.MethodPost, "/clock/advance", `{"by":"10s"}`) // past the 5 s retry (with jitter)
		got, err := receiver.Wait(path, 2, 15*time.Second)
		Expect(err).NotTo(HaveOccurred(), "the failed delivery was not retried")
		Expect(got[1].Violation).To(BeEmpty())
		Expect(got[1].Header.Get("X-Equalture-Delivery-Id")).To(Equal(got[0].Header.Get("X-Equalture-Delivery-Id")))
		ds := control(http.MethodGet, "/callbacks?reference_id="+ref+"&status=delivered&wait=10s", "")["deliveries"].([]any)
		Expect(ds).To(HaveLen(1))
		Expect(ds[0].(map[string]any)["attempts"]).To(HaveLen(2))
	})
})
