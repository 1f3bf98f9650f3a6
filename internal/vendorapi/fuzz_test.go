package vendorapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// FuzzVendorAPI throws arbitrary requests at the mock: whatever comes in, it answers below 500
// and never panics. `go test` runs the seed corpus; `go test -fuzz FuzzVendorAPI ./internal/vendor`
// explores further.
func FuzzVendorAPI(f *testing.F) {
	h := inProcess(f)
	tok := token(f, h)
	seeds := []struct {
		method, path, ctype, body string
		auth                      uint8
	}{
		{"POST", "/connect_ats/applications", "application/json", testenv.CreateBody(testenv.EngineerJob, ""), 1},
		{"POST", "/connect_ats/applications", "application/json", `{"job_id":null,"applicant_details":[]}`, 1},
		{"POST", "/connect_ats/applications", "application/json", `{"job_id":"` + testenv.EngineerJob + `","callback_url":"http://[::1","applicant_details":{"first_name":"\u0000","last_name":"x","email":"a@b.c"}}`, 1},
		{"POST", "/connect_ats/applications", "application/json; charset=utf-16", "\xff\xfe{", 1},
		{"POST", "/connect_ats/applications", "multipart/form-data; boundary=x", "--x\r\n", 1},
		{"POST", "/connect_ats/applications/" + testenv.UnknownUUID + "/hire_applicant", "application/json", `{"add_to_team":{"a":1},"start_date":17}`, 1},
		{"GET", "/connect_ats/applications/%2e%2e/status", "", "", 1},
		{"GET", "/connect_ats/applications/" + testenv.UnknownUUID + "/results?locale=%zz", "", "", 1},
		{"DELETE", "/connect_ats/applications//anonymize_application", "", "", 1},
		{"GET", "/connect_ats/jobs", "", "", 2},
		{"POST", "/connect_ats/access_token", "", "", 0},
		{"PATCH", "/connect_ats/jobs", "application/json", "{}", 1},
		{"GET", "/en/assessments/1/token/SFMyNTY.e30.x", "", "", 0},
		{"GET", "/en/candidate_results/x/summary?token=%%", "", "", 0},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.ctype, s.body, s.auth)
	}
	f.Fuzz(func(t *testing.T, method, path, ctype, body string, auth uint8) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#") {
			t.Skip()
		}
		req, err := http.NewRequest(method, "http://mock"+path, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		switch auth % 3 {
		case 0:
			req.SetBasicAuth("demo-client", "demo-secret")
		case 1:
			req.Header.Set("Authorization", "Bearer "+tok)
		default:
			req.Header.Set("Authorization", "Bearer "+body)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s (%s) %q answered %d: %s", method, path, ctype, body, rec.Code, rec.Body)
		}
	})
}

// inProcess is the whole mock as a handler, without a listener, on a frozen clock: for the fuzzer
// and the benchmarks, where sockets would only measure the kernel.
func inProcess(tb testing.TB) http.Handler {
	tb.Helper()
	a, err := app.New(context.Background(), app.Options{
		Seed:       3,
		SigningKey: []byte("in-process"),
		Clock:      clock.NewFrozen(testenv.T0),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = a.Close(context.Background()) })
	return a.Handler
}

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
		return true
	}
	return false
}

func token(tb testing.TB, h http.Handler) string {
	req := httptest.NewRequest(http.MethodPost, "/connect_ats/access_token", nil)
	req.SetBasicAuth(testenv.DemoID, testenv.DemoSecret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		tb.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	i := strings.Index(body, "SFMyNTY.")
	return body[i:strings.LastIndexByte(body, '"')]
}
