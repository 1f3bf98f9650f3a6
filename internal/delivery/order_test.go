package delivery_test

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
)

// arrivals is one log of what reached any of several receivers, in arrival order: "results" for a
// results PUT, the event type for an event; each receiver answers its script of statuses.
type arrivals struct {
	mu  sync.Mutex
	got []string
}

func (a *arrivals) receiver(t *testing.T, delay time.Duration, script ...int) *httptest.Server {
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		what := "results"
		if r.Method == http.MethodPost {
			var e delivery.Envelope
			_ = json.Unmarshal(body, &e)
			what = e.Type
		}
		a.mu.Lock()
		code := script[min(n, len(script)-1)]
		n++
		a.got = append(a.got, fmt.Sprintf("%s %d", what, code))
		a.mu.Unlock()
		time.Sleep(delay) // a slow receiver: the next attempt must still wait for this one
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (a *arrivals) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.got, ", ")
}

// The events of one application reach one webhook in lifecycle order, each after the one before
// it has finished — also when the first attempt of assessment_started fails: assessment_finished
// waits for its retry. The results PUT follows the first attempt of assessment_finished, or goes
// once the event before it waits for a retry, so a failing webhook holds it back for one attempt
// at most.
func TestOrder(t *testing.T) {
	tests := map[string]struct {
		hook      []int // the webhook's answers
		start     bool  // started before the completion (else completed from invited)
		first     string
		afterFive string // after the clock moved 5 s (the first retry)
	}{
		"a healthy webhook": {
			hook: []int{200}, start: true,
			first:     "assessment_started 200, assessment_finished 200, results 200",
			afterFive: "assessment_started 200, assessment_finished 200, results 200",
		},
		"completed from invited": {
			hook:      []int{200},
			first:     "assessment_started 200, assessment_finished 200, results 200",
			afterFive: "assessment_started 200, assessment_finished 200, results 200",
		},
		"assessment_started fails once": {
			hook: []int{500, 200}, start: true,
			first:     "assessment_started 500, results 200",
			afterFive: "assessment_started 500, results 200, assessment_started 200, assessment_finished 200",
		},
		"a dead webhook": {
			hook:      []int{500},
			first:     "assessment_started 500, results 200",
			afterFive: "assessment_started 500, results 200, assessment_started 500",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, delivery.Config{Jitter: 0, Workers: 8})
			var got arrivals
			w.register("demo-client", "ats", got.receiver(t, 20*time.Millisecond, tc.hook...).URL, secretA)
			ref := w.create(got.receiver(t, 0, 200).URL, jobID)
			if tc.start {
				w.start(ref)
			}
			w.update(ref, finish)
			w.settle()
			if s := got.String(); s != tc.first {
				t.Fatalf("arrived: %s\nwant:    %s", s, tc.first)
			}
			w.clock.Advance(5 * time.Second)
			w.settle()
			if s := got.String(); s != tc.afterFive {
				t.Fatalf("after 5 s: %s\nwant:      %s", s, tc.afterFive)
			}
		})
	}
}

// While assessment_started waits for its retry, assessment_finished waits for it: the log shows
// it pending, with no attempt.
func TestALaneWaitsForItsHead(t *testing.T) {
	w := newWorld(t, delivery.Config{Jitter: 0})
	w.register("demo-client", "ats", newReceiver(t, 500, 200).URL, secretA)
	ref := w.create(newReceiver(t, 200).URL, jobID)
	w.start(ref)
	w.update(ref, finish)
	w.settle()
	finished := w.d.List(delivery.Filter{EventType: delivery.EventFinished})[0]
	if finished.Status != delivery.Pending || len(finished.Attempts) != 0 {
		t.Fatalf("assessment_finished while assessment_started waits for a retry: %+v", finished)
	}
	// Deleting the webhook cancels both, the one waiting for its turn too.
	if _, err := w.d.DeleteWebhooks("demo-client", "ats"); err != nil {
		t.Fatal(err)
	}
	for _, d := range w.d.List(delivery.Filter{Kind: delivery.KindWebhook}) {
		if d.Status != delivery.Cancelled || d.Reason != delivery.ReasonWebhookDeleted {
			t.Fatalf("after deleting the webhook: %+v", d)
		}
	}
	w.clock.Advance(time.Hour)
	w.settle()
	if n := len(w.d.List(delivery.Filter{Status: delivery.Pending})); n != 0 {
		t.Fatalf("%d deliveries still pending", n)
	}
}
