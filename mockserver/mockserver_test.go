package mockserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/mockserver"
)

func TestNewRefusesImpossibleSettings(t *testing.T) {
	tests := map[string]mockserver.Option{
		"negative token TTL":   mockserver.WithTokenTTL(-time.Minute),
		"zero invitation TTL":  mockserver.WithInvitationTTL(0),
		"negative retry delay": mockserver.WithCallbackSchedule(0, -time.Second),
		"jitter of 1":          mockserver.WithCallbackJitter(1),
		"success 3xx":          mockserver.WithCallbackSuccess("3xx"),
		"missing fixtures":     mockserver.WithFixturesDir(t.TempDir()),
	}
	for name, opt := range tests {
		t.Run(name, func(t *testing.T) {
			if s, err := mockserver.New(opt); err == nil {
				_ = s.Close(context.Background())
				t.Fatal("New accepted it")
			}
		})
	}
}

func TestOptionsReachTheMock(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s, err := mockserver.New(mockserver.WithFrozenClock(t0), mockserver.WithAdminToken("s3cret"),
		mockserver.WithTokenTTL(time.Minute), mockserver.WithPublicURL("https://mock.example"))
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
	s, err := mockserver.New(mockserver.WithMaxBodyBytes(100))
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
		s, err := mockserver.New(mockserver.WithSigningKey([]byte("k")))
		if err != nil {
			b.Fatal(err)
		}
		_ = s.Close(context.Background())
	}
}

// The mock embedded in a Go program: one handler serves the vendor API, the control API, the
// pages behind the links and /healthz.
func Example() {
	mock, err := mockserver.New(mockserver.WithSeed(1), mockserver.WithFrozenClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)))
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
