package equaltest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/equaltest"
)

// ats is a tiny ATS integration, the kind of code a test points at the mock.
type ats struct {
	base, id, secret string
}

func (a ats) token() string {
	req, _ := http.NewRequest(http.MethodPost, a.base+"/connect_ats/access_token", nil)
	req.SetBasicAuth(a.id, a.secret)
	var v struct {
		AccessToken string `json:"access_token"`
	}
	a.do(req, &v)
	return v.AccessToken
}

func (a ats) invite(job, email, callbackURL string) string {
	body := fmt.Sprintf(`{"job_id":%q,"callback_url":%q,"applicant_details":{"first_name":"Ada","last_name":"Lovelace","email":%q}}`, job, callbackURL, email)
	req, _ := http.NewRequest(http.MethodPost, a.base+"/connect_ats/applications", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.token())
	req.Header.Set("Content-Type", "application/json")
	var v struct {
		ReferenceID string `json:"reference_id"`
	}
	a.do(req, &v)
	return v.ReferenceID
}

func (a ats) status(ref string) string {
	req, _ := http.NewRequest(http.MethodGet, a.base+"/connect_ats/applications/"+ref+"/status", nil)
	req.Header.Set("Authorization", "Bearer "+a.token())
	var v struct {
		Status string `json:"status"`
	}
	a.do(req, &v)
	return v.Status
}

func (a ats) do(req *http.Request, v any) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		panic(err)
	}
}

// A whole integration against the mock: invite an applicant, let them complete the assessment,
// receive the results the mock PUTs to the callback URL, and check what the ATS sent. In a test,
// equaltest.Start(t) replaces NewServer and Close, and the Server's failures fail t.
func Example() {
	mock, err := equaltest.NewServer()
	if err != nil {
		panic(err)
	}
	defer mock.Close()

	// The ATS's callback endpoint: the mock PUTs the results here.
	received := make(chan string, 1)
	callbacks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var results struct {
			Fit string `json:"fit"`
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &results)
		received <- r.Method + " " + r.URL.Path + ": fit " + results.Fit
	}))
	defer callbacks.Close()

	client := ats{base: mock.URL, id: mock.ClientID, secret: mock.ClientSecret}
	ref := client.invite(mock.JobIDs[0], "ada@example.com", callbacks.URL+"/applications/42")
	fmt.Println("after inviting:", client.status(ref))

	mock.CompleteWithFit(ref, equaltest.FitHigh)
	fmt.Println(<-received)
	fmt.Println("after completing:", client.status(ref))

	dl := mock.WaitForCallback(ref)
	fmt.Println("delivery:", dl.Status, "after", len(dl.Attempts), "attempt")

	sent := mock.Journal("createApplication")
	fmt.Println("the ATS created", len(sent), "application, answered", sent[0].Status)
	fmt.Println("the ATS sent", len(mock.Journal("")), "requests in all")
	fmt.Println("invitation email:", mock.Outbox("ada@example.com")[0].Subject)
	// Output:
	// after inviting: invited
	// PUT /applications/42: fit high
	// after completing: completed
	// delivery: delivered after 1 attempt
	// the ATS created 1 application, answered 201
	// the ATS sent 6 requests in all
	// invitation email: Your assessment for First assessment job - Engineer
}

// Time moves when the test moves it: an access token lives 15 minutes on the mock's clock.
func ExampleServer_Advance() {
	mock, err := equaltest.NewServer(equaltest.WithFrozenClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)))
	if err != nil {
		panic(err)
	}
	defer mock.Close()
	tok := mock.Token()

	jobs := func() int {
		req, _ := http.NewRequest(http.MethodGet, mock.URL+"/connect_ats/jobs", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println("now:", jobs())
	now := mock.Advance(15 * time.Minute)
	fmt.Println(now.Format(time.Kitchen)+":", jobs())
	// Output:
	// now: 200
	// 9:15AM: 401
}

// An ATS that registers a webhook hears when its applicants start and finish: the mock POSTs
// assessment_started and assessment_finished to it, signed with the webhook's secret.
func ExampleServer_WaitForEvent() {
	mock, err := equaltest.NewServer()
	if err != nil {
		panic(err)
	}
	defer mock.Close()
	events := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer events.Close()

	client := ats{base: mock.URL, id: mock.ClientID, secret: mock.ClientSecret}
	req, _ := http.NewRequest(http.MethodPut, mock.URL+"/connect_ats/webhooks/ats", strings.NewReader(`{"url":"`+events.URL+`/events"}`))
	req.Header.Set("Authorization", "Bearer "+client.token())
	req.Header.Set("Content-Type", "application/json")
	var hook struct {
		Secret string `json:"secret"`
	}
	client.do(req, &hook) // the generated secret, shown this once: keep it to verify signatures
	ref := client.invite(mock.JobIDs[0], "ada@example.com", events.URL+"/applications/42")

	mock.StartAssessment(ref)
	mock.CompleteWithFit(ref, equaltest.FitHigh)
	for _, event := range []equaltest.EventType{equaltest.EventAssessmentStarted, equaltest.EventAssessmentFinished} {
		dl := mock.WaitForEvent(ref, event)
		fmt.Println(dl.EventType, "to webhook", dl.Webhook+":", dl.Status)
	}
	fmt.Println("secret:", strings.HasPrefix(hook.Secret, "whsec_"))
	// Output:
	// assessment_started to webhook ats: delivered
	// assessment_finished to webhook ats: delivered
	// secret: true
}

// A test asserts that something did not happen by settling the mock, not by sleeping: here no
// callback is sent for an application that was never completed, even a week later.
func ExampleServer_Settle() {
	mock, err := equaltest.NewServer()
	if err != nil {
		panic(err)
	}
	defer mock.Close()
	client := ats{base: mock.URL, id: mock.ClientID, secret: mock.ClientSecret}
	ref := client.invite(mock.JobIDs[0], "ada@example.com", "http://127.0.0.1:9/applications/42")

	mock.Advance(8 * 24 * time.Hour)
	mock.Settle()
	fmt.Println("callbacks:", len(mock.Deliveries(ref)))
	fmt.Println("status:", mock.Application(ref).Status)
	// Output:
	// callbacks: 0
	// status: expired
}
