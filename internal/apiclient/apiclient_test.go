package apiclient_test

import (
	"cmp"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/apiclient"
	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/spec"
)

func TestClient(t *testing.T) {
	sp, err := spec.Load(context.Background(), assets.VendorSpec())
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/connect_ats/jobs":
			select { // never answers in time
			case <-release:
			case <-r.Context().Done():
			}
		case "/connect_ats/applications/d2c37d4d-b8d4-46a9-b230-42a246ad6153/status":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":3}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	defer close(release)
	tests := map[string]struct {
		path          string
		timeout       time.Duration // the client's; 10 s when 0 (a loaded machine can take more than 100 ms to answer)
		wantErr       []string
		wantOperation string
		wantViolation []string
	}{
		"a target that never answers": {path: "/connect_ats/jobs", timeout: 100 * time.Millisecond,
			wantErr:       []string{"listJobs (GET /connect_ats/jobs) did not answer within 100ms"},
			wantOperation: "listJobs (GET /connect_ats/jobs)"},
		"an answer breaking the contract": {path: "/connect_ats/applications/d2c37d4d-b8d4-46a9-b230-42a246ad6153/status",
			wantOperation: "getStatus (GET /connect_ats/applications/d2c37d4d-b8d4-46a9-b230-42a246ad6153/status)",
			wantViolation: []string{`field "status" is invalid`, "(got 3)"}},
		"a path the contract lacks": {path: "/elsewhere", wantOperation: "GET /elsewhere"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := &apiclient.Client{Base: srv.URL, Contract: sp, Timeout: cmp.Or(tc.timeout, 10*time.Second)}
			start := time.Now()
			r, err := c.Do(context.Background(), http.MethodGet, tc.path, nil)
			if tc.timeout != 0 && time.Since(start) > 5*time.Second {
				t.Fatalf("took %s: the timeout did not hold", time.Since(start))
			}
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if r.Operation != tc.wantOperation {
				t.Errorf("operation %q, want %q", r.Operation, tc.wantOperation)
			}
			for _, w := range tc.wantViolation {
				if !strings.Contains(r.Violation, w) {
					t.Errorf("violation %q does not say %q", r.Violation, w)
				}
			}
			if tc.wantViolation == nil && r.Violation != "" {
				t.Errorf("violation %q", r.Violation)
			}
		})
	}
}
