package equaltest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/equaltest"
)

// TestInviteAndReceiveResults is the example of the Go testing page (docs), with the ATS
// integration a test would point at the mock played by the small client of example_test.go.
func TestInviteAndReceiveResults(t *testing.T) {
	mock := equaltest.Start(t)
	callbacks := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(callbacks.Close)
	callbackURL := callbacks.URL + "/applications/42"
	myats := ats{base: mock.URL, id: mock.ClientID, secret: mock.ClientSecret} // your integration, pointed at the mock

	ref := myats.invite(mock.JobIDs[0], "ada@example.com", callbackURL)
	if got := mock.Application(ref).Status; got != equaltest.StatusInvited {
		t.Fatalf("status %s after the invitation", got)
	}

	mock.CompleteWithFit(ref, equaltest.FitHigh) // the applicant finishes
	dl := mock.WaitForCallback(ref)              // the results reached callbackURL
	if dl.URL != callbackURL {
		t.Fatalf("results sent to %s", dl.URL)
	}
	if got := len(mock.Journal("createApplication")); got != 1 { // what your ATS really sent
		t.Fatalf("the ATS created %d applications", got)
	}
	if got := len(mock.Journal("createAccessToken")); got != 1 {
		t.Fatalf("the ATS authenticated %d times", got)
	}

	mock.Advance(15 * time.Minute) // tokens expire, retries come due
	mock.Settle()
	if got := len(mock.Deliveries(ref)); got != 1 {
		t.Fatalf("%d results deliveries, want 1", got)
	}
}
