package mockserver_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/mockserver"
)

// A receiver of events that keeps each one's headers and body, answering 500 until told 200.
type eventSink struct {
	*switchable
	mu     sync.Mutex
	events []http.Header
	bodies [][]byte
}

func newEventSink(t *testing.T) *eventSink {
	e := &eventSink{switchable: &switchable{}}
	e.code.Store(http.StatusInternalServerError)
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.events, e.bodies = append(e.events, r.Header.Clone()), append(e.bodies, b)
		e.mu.Unlock()
		w.WriteHeader(int(e.code.Load()))
	}))
	t.Cleanup(e.Close)
	return e
}

// Webhooks live in the data dir: after a restart they are listed as before, an event pending at
// the restart resumes on the clock signed with the webhook's secret, and new events reach them.
func TestWebhooksSurviveARestart(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	sink := newEventSink(t)
	a := start(t, dir, mockserver.Config{Clock: mockserver.Clock{Start: t0, Frozen: true}, Callbacks: mockserver.CallbackPolicy{NoJitter: true}})
	demo := a.token("demo-client")
	if code := a.call(http.MethodPut, "/connect_ats/webhooks/ats", demo, map[string]string{"url": sink.URL + "/events", "secret": secret}, nil); code != http.StatusCreated {
		t.Fatalf("register: %d", code)
	}
	if code := a.call(http.MethodPut, "/connect_ats/webhooks/gone", demo, map[string]string{"url": sink.URL + "/gone"}, nil); code != http.StatusCreated {
		t.Fatalf("register: %d", code)
	}
	if code := a.call(http.MethodDelete, "/connect_ats/webhooks/gone", demo, nil, nil); code != http.StatusOK {
		t.Fatalf("delete: %d", code)
	}
	ref := a.invite(demo, "http://127.0.0.1:9/results", "one_time_link")
	a.call(http.MethodPost, "/_mock/applications/"+ref+"/start", "", nil, nil)
	a.call(http.MethodGet, "/_mock/settle", "", nil, nil) // the first attempt got its 500
	var before []map[string]any
	a.call(http.MethodGet, "/connect_ats/webhooks", demo, nil, &before)
	a.stop()

	b := start(t, dir, mockserver.Config{Callbacks: mockserver.CallbackPolicy{NoJitter: true}})
	var after []map[string]any
	b.call(http.MethodGet, "/connect_ats/webhooks", demo, nil, &after)
	if fmt.Sprint(after) != fmt.Sprint(before) || len(after) != 1 || after[0]["label"] != "ats" {
		t.Fatalf("webhooks after the restart\n  %v\nwant\n  %v", after, before)
	}
	sink.code.Store(http.StatusOK)
	b.call(http.MethodPost, "/_mock/clock/advance", "", map[string]string{"by": "5s"}, nil)
	b.call(http.MethodGet, "/_mock/settle", "", nil, nil)
	if got := b.deliveries("kind=webhook&status=delivered&wait=10s"); len(got) != 1 || len(got[0].Attempts) != 2 {
		t.Fatalf("the pending event after the restart: %+v", got)
	}
	b.call(http.MethodPost, "/_mock/applications/"+ref+"/complete", "", nil, nil)
	if got := b.deliveries("kind=webhook&status=delivered&min=2&wait=10s"); len(got) != 2 {
		t.Fatalf("a new event after the restart: %+v", got)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.events) != 3 {
		t.Fatalf("the webhook got %d attempts, want 3", len(sink.events))
	}
	for i, h := range sink.events {
		key, _ := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%s.", h.Get("webhook-id"), h.Get("webhook-timestamp"))
		mac.Write(sink.bodies[i])
		if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); h.Get("webhook-signature") != want {
			t.Fatalf("event %d is not signed with the webhook's secret: %v", i+1, h)
		}
	}
	if sink.events[0].Get("webhook-id") != sink.events[1].Get("webhook-id") {
		t.Fatal("the retry after the restart is another event")
	}
}
