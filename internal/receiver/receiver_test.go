package receiver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/spec"
)

const (
	secret   = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	started  = `{"id":"5f0c6f5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f","type":"assessment_started","data":{"reference_id":"d2c37d4d-b8d4-46a9-b230-42a246ad6153","application_start_date":"2025-02-17T11:58:11"}}`
	finished = `{"id":"6f0c6f5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f","type":"assessment_finished","data":{"reference_id":"d2c37d4d-b8d4-46a9-b230-42a246ad6153"}}`
	results  = `{"results_url":"https://dashboard.equalture.com/a","scores":{},"fit":"low","detailed_scores":[]}`
)

func newReceiver(t *testing.T) *receiver.Receiver {
	t.Helper()
	sp, err := spec.Load(context.Background(), assets.VendorSpec())
	if err != nil {
		t.Fatal(err)
	}
	r, err := receiver.New("127.0.0.1:0", "", sp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// send makes a request to the receiver, signing it with key when key is set.
func send(t *testing.T, r *receiver.Receiver, method, path, body, key string) {
	t.Helper()
	req, _ := http.NewRequest(method, r.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		id := "msg_1"
		if e := (receiver.Callback{Body: []byte(body)}).Envelope(); e.ID != "" {
			id = e.ID
		}
		sig, err := delivery.Sign(key, id, "1764331200", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", "1764331200")
		req.Header.Set("webhook-signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestReceiverJudgesResultsAndEvents(t *testing.T) {
	tests := map[string]struct {
		method, body, key string
		secret            string // the path's secret, when the receiver knows it
		event             string
		want              string // a substring of the violation; "" when none
	}{
		"results":                        {http.MethodPut, results, "", "", "", ""},
		"results POSTed":                 {http.MethodPost, results, "", "", "", "callback arrived as POST; the contract says PUT"},
		"an event, signed":               {http.MethodPost, started, secret, secret, "assessment_started", ""},
		"an event, the secret not known": {http.MethodPost, finished, secret, "", "assessment_finished", ""},
		"an event signed with another":   {http.MethodPost, finished, "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtYmJiYmJi", secret, "assessment_finished", "does not verify with the webhook's secret"},
		"an event unsigned":              {http.MethodPost, started, "", "", "assessment_started", "header webhook-id missing"},
		"an event PUT":                   {http.MethodPut, started, secret, "", "", `field "results_url" can't be blank`},
		"the documentation's other name": {http.MethodPost, strings.Replace(started, "assessment_started", "application_started", 1), secret, "", "application_started", `event type "application_started" is not one the contract documents (assessment_finished, assessment_started)`},
		"an event without its data":      {http.MethodPost, `{"id":"5f0c6f5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f","type":"assessment_finished"}`, secret, "", "assessment_finished", `field "data" can't be blank`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := newReceiver(t)
			if tc.secret != "" {
				r.SetSecret("/hooks", tc.secret)
			}
			send(t, r, tc.method, "/hooks", tc.body, tc.key)
			got := r.Received("/hooks")
			if len(got) != 1 {
				t.Fatalf("received %d", len(got))
			}
			if got[0].Event != tc.event {
				t.Fatalf("event %q, want %q", got[0].Event, tc.event)
			}
			if tc.want == "" && got[0].Violation != "" || !strings.Contains(got[0].Violation, tc.want) {
				t.Fatalf("violation %q, want %q", got[0].Violation, tc.want)
			}
		})
	}
}

func TestWaitMatch(t *testing.T) {
	r := newReceiver(t)
	isFinished := func(cb receiver.Callback) bool { return cb.Event == delivery.EventFinished }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type result struct {
		got []receiver.Callback
		err error
	}
	done := make(chan result, 1)
	go func() {
		got, err := r.WaitMatch(ctx, "/hooks", 1, isFinished)
		done <- result{got, err}
	}()
	send(t, r, http.MethodPost, "/hooks", started, secret)
	send(t, r, http.MethodPost, "/hooks", finished, secret)
	if res := <-done; res.err != nil || len(res.got) != 1 || res.got[0].Envelope().Type != delivery.EventFinished {
		t.Fatalf("WaitMatch = %+v, %v", res.got, res.err)
	}
	over, stop := context.WithCancel(context.Background())
	stop() // both arrived already: what matches is there at once
	if got, err := r.WaitMatch(over, "/hooks", 2, isFinished); err == nil || len(got) != 1 {
		t.Fatalf("WaitMatch for two finished events of one = %d, %v", len(got), err)
	}
	if got, err := r.WaitMatch(over, "/hooks", 2, nil); err != nil || len(got) != 2 {
		t.Fatalf("WaitMatch without a filter = %d, %v", len(got), err)
	}
}
