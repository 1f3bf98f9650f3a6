package vendorapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/testenv"
)

// Prefer answers each operation with its own example and challenge, not another operation's.
func TestPreferAnswersTheOperationsOwnExample(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	ref := "/connect_ats/applications/" + testenv.UnknownUUID
	tests := map[string]struct {
		method, path, prefer string
		auth                 []testenv.ReqOpt
		status               int
		header, body         string
	}{
		"token 401 is a Basic challenge": {http.MethodPost, "/connect_ats/access_token", "code=401", nil, 401, `Basic realm="equalture", charset="UTF-8"`, "Invalid client credentials"},
		"jobs 401 is a Bearer challenge": {http.MethodGet, "/connect_ats/jobs", "code=401", nil, 401, `Bearer realm="equalture"`, "expired"},
		"hire 422 names add_to_team":     {http.MethodPost, ref + "/hire_applicant", "code=422", []testenv.ReqOpt{testenv.Bearer(tok)}, 422, "", "add_to_team"},
		"hire 409 is about hiring":       {http.MethodPost, ref + "/hire_applicant", "code=409", []testenv.ReqOpt{testenv.Bearer(tok)}, 409, "", "cannot be hired"},
		"public link 409":                {http.MethodGet, ref + "/public_link", "code=409", []testenv.ReqOpt{testenv.Bearer(tok)}, 409, "", "Public links"},
		"results 409":                    {http.MethodGet, ref + "/results", "code=409", []testenv.ReqOpt{testenv.Bearer(tok)}, 409, "", "Results"},
		"create 422 names fields":        {http.MethodPost, "/connect_ats/applications", "code=422", []testenv.ReqOpt{testenv.Bearer(tok)}, 422, "", "job_id"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			body := ""
			if tc.method == http.MethodPost && !strings.HasSuffix(tc.path, "access_token") {
				body = `{}`
			}
			r := h.Do(tc.method, tc.path, body, append(tc.auth, testenv.Header("Prefer", tc.prefer))...)
			testenv.WantStatus(t, r, tc.status)
			if got := r.Header.Get("WWW-Authenticate"); got != tc.header {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.header)
			}
			if !strings.Contains(string(r.Body), tc.body) {
				t.Errorf("body %s does not mention %q", r.Body, tc.body)
			}
		})
	}
}
