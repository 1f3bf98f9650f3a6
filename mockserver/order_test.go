package mockserver_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/mockserver"
)

// arrivals is a receiver for webhook events and results callbacks that notes, per application,
// what reached it, in arrival order ("assessment_started", "assessment_finished", "results"),
// each event's signature verified. It answers 200.
type arrivals struct {
	*httptest.Server
	secret string

	mu  sync.Mutex
	got map[string][]string // reference id → what arrived
	bad []string            // what should not have arrived
}

func newArrivals(t *testing.T, secret string) *arrivals {
	a := &arrivals{secret: secret, got: make(map[string][]string)}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		defer a.mu.Unlock()
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/results":
			// The results name their application at the end of their results_url (its dashboard
			// page).
			var res struct {
				ResultsURL string `json:"results_url"`
			}
			if json.Unmarshal(body, &res) != nil || res.ResultsURL == "" {
				a.bad = append(a.bad, "results without a results_url: "+string(body))
			}
			ref := res.ResultsURL[strings.LastIndex(res.ResultsURL, "/")+1:]
			a.got[ref] = append(a.got[ref], "results")
		case r.Method == http.MethodPost && r.URL.Path == "/events":
			var e delivery.Envelope
			if _, err := delivery.Verify(a.secret, r.Header, body); err != nil || json.Unmarshal(body, &e) != nil {
				a.bad = append(a.bad, fmt.Sprintf("an event not signed or not JSON (%v): %s", err, body))
			}
			a.got[e.Data.ReferenceID] = append(a.got[e.Data.ReferenceID], e.Type)
		default:
			a.bad = append(a.bad, r.Method+" "+r.URL.Path)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(a.Close)
	return a
}

// first returns where each of what arrived for ref first arrived (-1: never).
func (a *arrivals) first(ref string) (started, finished, results int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	started, finished, results = -1, -1, -1
	for i, what := range a.got[ref] {
		switch {
		case what == delivery.EventStarted && started < 0:
			started = i
		case what == delivery.EventFinished && finished < 0:
			finished = i
		case what == "results" && results < 0:
			results = i
		}
	}
	return started, finished, results
}

// orderedConfig is the mock of the ordering test: a frozen clock (only the test moves
// applications), a journal of one entry (the test makes thousands of requests).
var orderedConfig = mockserver.Config{SigningKey: []byte("k"), JournalSize: 1,
	Clock: mockserver.Clock{Start: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Frozen: true}}

// TestEventsArriveInLifecycleOrder is the bug of issue 17 as it was found: hundreds of applications,
// each started and completed at the same moment (the applicant opening the link while the
// console completes it), 16 requests in flight (race), a webhook registered with a real receiver. For
// every application, assessment_started reaches the webhook before assessment_finished, and the
// results PUT (to its callback URL) comes after assessment_finished's first attempt; nothing
// arrives about a transition the mock does not hold. In memory, on a data dir, and on a data dir
// with the mock shut down halfway (deliveries pending) and started again on it.
func TestEventsArriveInLifecycleOrder(t *testing.T) {
	const (
		apps   = 400
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	)
	for _, tc := range []struct {
		name             string
		dataDir, restart bool
	}{{"memory", false, false}, {"data dir", true, false}, {"data dir, restarted halfway", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newArrivals(t, secret)
			dir := ""
			if tc.dataDir {
				dir = t.TempDir()
			}
			mock := start(t, dir, orderedConfig)
			bearer := mock.token("demo-client")
			if code, err := mock.do(http.MethodPut, "/connect_ats/webhooks/ats", bearer, map[string]string{"url": rcv.URL + "/events", "secret": secret}, nil); code != http.StatusCreated {
				t.Fatalf("register the webhook: %d %v", code, err)
			}
			refs := make([]string, apps)
			for i := range refs {
				var app struct {
					ReferenceID string `json:"reference_id"`
				}
				body := map[string]any{"job_id": engineerJob, "callback_url": rcv.URL + "/results", "invitation_type": "one_time_link",
					"applicant_details": map[string]string{"first_name": "Ada", "last_name": fmt.Sprint(i), "email": "ada@example.com"}}
				if code, err := mock.do(http.MethodPost, "/connect_ats/applications", bearer, body, &app); code != http.StatusCreated {
					t.Fatalf("create %d: %d %v", i, code, err)
				}
				refs[i] = app.ReferenceID
			}

			if tc.restart {
				race(t, mock, refs[:apps/2])
				mock.stop() // deliveries in flight finish, those pending stay pending
				mock = start(t, dir, orderedConfig)
				race(t, mock, refs[apps/2:])
			} else {
				race(t, mock, refs)
			}

			// Every application is completed (each completion was answered 200): three deliveries
			// each, all delivered.
			var got struct {
				Deliveries []json.RawMessage `json:"deliveries"`
			}
			if _, err := mock.do(http.MethodGet, fmt.Sprintf("/_mock/callbacks?status=delivered&min=%d&wait=60s", 3*apps), "", nil, &got); err != nil || len(got.Deliveries) != 3*apps {
				t.Fatalf("%d deliveries delivered, want %d (%v)", len(got.Deliveries), 3*apps, err)
			}
			var list struct {
				Applications []struct {
					ReferenceID string `json:"reference_id"`
					Status      string `json:"status"`
				} `json:"applications"`
			}
			if _, err := mock.do(http.MethodGet, "/_mock/applications", "", nil, &list); err != nil {
				t.Fatal(err)
			}
			stored := map[string]string{}
			for _, a := range list.Applications {
				stored[a.ReferenceID] = a.Status
			}
			rcv.mu.Lock()
			bad := rcv.bad
			for ref := range rcv.got {
				if stored[ref] != "completed" {
					bad = append(bad, fmt.Sprintf("%s arrived about %s, which is %q", rcv.got[ref], ref, stored[ref]))
				}
			}
			rcv.mu.Unlock()
			if len(bad) > 0 {
				t.Fatalf("arrived: %s", strings.Join(bad, "; "))
			}
			for _, ref := range refs {
				started, finished, results := rcv.first(ref)
				if started < 0 || finished < 0 || results < 0 || !(started < finished && finished < results) {
					rcv.mu.Lock()
					t.Errorf("%s: arrived %v; want assessment_started, assessment_finished, results", ref, rcv.got[ref])
					rcv.mu.Unlock()
				}
			}
		})
	}
}

// race starts and completes each of refs at the same moment, inFlight requests at once; every
// completion must be answered 200, every start 200 or 409 (the completion came first).
func race(t *testing.T, mock *running, refs []string) {
	t.Helper()
	const pairs = 8
	work := make(chan string)
	errs := make(chan error, 2*len(refs))
	var wg sync.WaitGroup
	for range pairs {
		wg.Go(func() {
			for ref := range work {
				var pair sync.WaitGroup
				for _, action := range []string{"start", "complete"} {
					pair.Go(func() {
						code, err := mock.do(http.MethodPost, "/_mock/applications/"+ref+"/"+action, "", nil, nil)
						switch {
						case err != nil:
							errs <- err
						case action == "complete" && code != http.StatusOK, action == "start" && code != http.StatusOK && code != http.StatusConflict:
							errs <- fmt.Errorf("%s %s: %d", action, ref, code)
						}
					})
				}
				pair.Wait()
			}
		})
	}
	for _, ref := range refs {
		work <- ref
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
