package vendorapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/testenv"
)

// BenchmarkValidatedRequests measures whole requests through the mock's handler: routing against
// the contract, security, parameter and body validation, the handler, the journal. Run with
// -cpu 2 for this machine's budget (tens of thousands of validated requests per second).
func BenchmarkValidatedRequests(b *testing.B) {
	h := inProcess(b)
	tok := token(b, h)
	create := testenv.CreateBody(testenv.EngineerJob, "")
	req := func(method, path, body string) *http.Request {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		return r
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req(http.MethodPost, "/connect_ats/applications", create))
	ref := rec.Body.String()[len(`{"reference_id":"`) : len(`{"reference_id":"`)+36]

	cases := []struct {
		name, method, path, body string
		want                     int
	}{
		{"listJobs", http.MethodGet, "/connect_ats/jobs", "", 200},
		{"getStatus", http.MethodGet, "/connect_ats/applications/" + ref + "/status", "", 200},
		{"createApplication", http.MethodPost, "/connect_ats/applications", create, 201},
		{"invalidBody422", http.MethodPost, "/connect_ats/applications", `{"job_id":"x"}`, 422},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req(c.method, c.path, c.body))
					if rec.Code != c.want {
						b.Errorf("%s answered %d: %s", c.name, rec.Code, rec.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

// BenchmarkHandlerOnly is the mock's own cost for a validated, authenticated, journaled
// GET /connect_ats/jobs: one request reused, a writer that keeps nothing, so neither building
// requests nor recording answers is counted (they dominate BenchmarkValidatedRequests).
func BenchmarkHandlerOnly(b *testing.B) {
	h := inProcess(b)
	req := httptest.NewRequest(http.MethodGet, "/connect_ats/jobs", nil)
	req.Header.Set("Authorization", "Bearer "+token(b, h))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// discardWriter is a ResponseWriter that keeps nothing of the answer.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
