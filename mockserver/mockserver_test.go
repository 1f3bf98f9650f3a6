package mockserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/mockserver"
)

// A Config New cannot run fails New, and a file it cannot read too (Validate checks values only).
func TestNewRefusesWhatItCannotRun(t *testing.T) {
	if s, err := mockserver.New(mockserver.Config{FixturesDir: t.TempDir()}); err == nil {
		_ = s.Close(context.Background())
		t.Fatal("New accepted a fixtures directory without fixtures")
	}
	var ce *mockserver.ConfigError
	if s, err := mockserver.New(mockserver.Config{TokenTTL: -time.Minute}); !errors.As(err, &ce) || ce.Field != "TokenTTL" {
		if s != nil {
			_ = s.Close(context.Background())
		}
		t.Fatalf("New with a negative token TTL: %v, want the ConfigError Validate gives", err)
	}
}

func TestConfigReachesTheMock(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s, err := mockserver.New(mockserver.Config{Clock: mockserver.Clock{Start: t0, Frozen: true}, AdminToken: "s3cret",
		TokenTTL: time.Minute, PublicURL: "https://mock.example"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	do := func(method, path string, auth ...string) (int, string) {
		req := httptest.NewRequest(method, path, nil)
		if len(auth) == 2 {
			req.SetBasicAuth(auth[0], auth[1])
		} else if len(auth) == 1 {
			req.Header.Set("Authorization", "Bearer "+auth[0])
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	if code, _ := do(http.MethodGet, "/_mock/clock"); code != http.StatusUnauthorized {
		t.Fatalf("control API without the admin token: %d", code)
	}
	if code, body := do(http.MethodGet, "/_mock/clock", "s3cret"); code != 200 || !strings.Contains(body, `"now":"2026-03-02T10:00:00Z"`) || !strings.Contains(body, `"frozen":true`) {
		t.Fatalf("clock: %d %s", code, body)
	}
	code, body := do(http.MethodPost, "/connect_ats/access_token", "demo-client", "demo-secret")
	if code != 200 {
		t.Fatalf("token: %d %s", code, body)
	}
	tok := body[strings.Index(body, "SFMyNTY."):strings.LastIndexByte(body, '"')]
	if code, _ := do(http.MethodGet, "/connect_ats/jobs", tok); code != 200 {
		t.Fatalf("jobs with a fresh token: %d", code)
	}
	if code, _ := do(http.MethodPost, "/_mock/clock/advance", "s3cret"); code != http.StatusBadRequest {
		t.Fatalf("advance without a body: %d", code) // the control contract requires {"by": ...}
	}
}

func TestMaxBodyBytes(t *testing.T) {
	s, err := mockserver.New(mockserver.Config{MaxBodyBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	for _, path := range []string{"/connect_ats/applications", "/_mock/faults"} {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"job_id":"`+strings.Repeat("x", 200)+`"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if path == "/connect_ats/applications" && rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s with 210 bytes over a 100-byte limit: %d %s", path, rec.Code, rec.Body)
		}
		if path == "/_mock/faults" && rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("the control API has its own 1 MiB limit: %s answered %d %s", path, rec.Code, rec.Body)
		}
	}
}

// BenchmarkStartup measures building a mock in a process that has loaded its contracts (the
// first mock of a process also loads them: BenchmarkLoadContracts in internal/spec): fixtures,
// signer, store, dispatcher, the three faces.
func BenchmarkStartup(b *testing.B) {
	for b.Loop() {
		s, err := mockserver.New(mockserver.Config{SigningKey: []byte("k")})
		if err != nil {
			b.Fatal(err)
		}
		_ = s.Close(context.Background())
	}
}

// The mock embedded in a Go program: one handler serves the vendor API, the control API, the
// pages behind the links and /healthz.
func Example() {
	mock, err := mockserver.New(mockserver.Config{Seed: 1, Clock: mockserver.Clock{Start: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), Frozen: true}})
	if err != nil {
		panic(err)
	}
	defer mock.Close(context.Background())
	srv := httptest.NewServer(mock) // or http.ListenAndServe(":8080", mock)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/connect_ats/access_token", nil)
	req.SetBasicAuth("demo-client", "demo-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("token:", resp.Status, resp.Header.Get("Cache-Control"))

	resp, err = http.Get(srv.URL + "/connect_ats/jobs")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("jobs without a token:", resp.Status, resp.Header.Get("WWW-Authenticate"))
	// Output:
	// token: 200 OK no-store
	// jobs without a token: 401 Unauthorized Bearer realm="equalture"
}

// The Server's methods move the mock without HTTP: here the applicant completes the assessment,
// and the results reach the ATS's callback endpoint.
func ExampleServer_Complete() {
	mock, err := mockserver.New(mockserver.Config{Seed: 1})
	if err != nil {
		panic(err)
	}
	defer mock.Close(context.Background())
	srv := httptest.NewServer(mock)
	defer srv.Close()
	callbacks := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer callbacks.Close()

	// The ATS invites an applicant (the vendor API, over HTTP).
	tok, _ := mock.Token("demo-client", "demo-secret")
	jobs, _ := mock.Jobs("demo-client")
	body := fmt.Sprintf(`{"job_id":%q,"callback_url":%q,"applicant_details":{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com"}}`,
		jobs[0].ID, callbacks.URL+"/applications/42")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/connect_ats/applications", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	ref := mock.Applications("demo-client")[0].ReferenceID

	// The applicant completes the assessment (the mock, from Go).
	app, err := mock.Complete(ref, mockserver.Completion{Fit: mockserver.FitHigh})
	if err != nil {
		panic(err)
	}
	fmt.Println("application:", app.Status)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dl, err := mock.WaitForDelivery(ctx, mockserver.DeliveryFilter{ReferenceID: ref, Kind: mockserver.DeliveryResults, Status: mockserver.DeliveryDelivered})
	if err != nil {
		panic(err)
	}
	fmt.Println("results:", dl.Method, strings.TrimPrefix(dl.URL, callbacks.URL), dl.Status, "after", len(dl.Attempts), "attempt")
	fmt.Println("requests the ATS sent:", len(mock.Journal("")))
	// Output:
	// application: completed
	// results: PUT /applications/42 delivered after 1 attempt
	// requests the ATS sent: 1
}
