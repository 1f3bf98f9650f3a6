package proxy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/proxy"
)

// recorder is an HTTP endpoint that keeps every request it gets: the ATS's callback receiver, or a
// fake target.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
	h    http.HandlerFunc
}

type recorded struct {
	method, uri string
	header      http.Header
	body        []byte
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recorded{r.Method, r.URL.RequestURI(), r.Header.Clone(), b})
	rc.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(b))
	rc.h(w, r)
}

func (rc *recorder) got() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recorded(nil), rc.reqs...)
}

const results = `{"results_url":"https://dashboard.equalture.com/a","scores":{"Working memory":"(3) Average"},"fit":"high","detailed_scores":[]}`

// relayWorld is an ATS receiver, a fake target and a relaying proxy between them. It creates one
// application through the proxy with a callback_url at the receiver and returns the relay URL the
// target got instead.
func relayWorld(t *testing.T, callbackURL func(ats string) string) (w *world, ats *recorder, target *recorder, relayed string) {
	t.Helper()
	ats = &recorder{h: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Ats", "1")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "thanks")
	}}
	atsSrv := httptest.NewServer(ats)
	t.Cleanup(atsSrv.Close)
	target = &recorder{h: respond(201, `{"reference_id":"`+ref+`"}`)}
	w = start(t, target, func(o *proxy.Options) { o.RelayURL = relayToSelf })
	cb := callbackURL(atsSrv.URL)
	body := strings.Replace(validBody, `"http://ats.example/cb"`, mustJSON(t, cb), 1)
	if a := w.do(t, "POST", "/connect_ats/applications", body); a.status != 201 {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	sent := target.got()[0].body
	var v struct {
		CallbackURL string `json:"callback_url"`
	}
	if err := json.Unmarshal(sent, &v); err != nil {
		t.Fatal(err)
	}
	// Only the callback_url's bytes differ.
	if want := strings.Replace(body, mustJSON(t, cb), mustJSON(t, v.CallbackURL), 1); string(sent) != want {
		t.Fatalf("the target got\n%s\nwant\n%s", sent, want)
	}
	return w, ats, target, v.CallbackURL
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.ReplaceAll(bytes.ReplaceAll(b, []byte(`\u0026`), []byte("&")), []byte(`\u003c`), []byte("<")))
}

// put sends a callback as the target would.
func put(t *testing.T, method, url, body string, header ...string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b, nil
}

func TestRelayForwardsCallbacksUnchangedAndJudgesThem(t *testing.T) {
	tests := map[string]struct {
		method, body string
		want         []string // in the callback finding; none for a valid callback
	}{
		"a valid callback":       {http.MethodPut, results, nil},
		"a callback without fit": {http.MethodPut, strings.Replace(results, `"fit":"high",`, "", 1), []string{"applicationResults", `field "fit" can't be blank`}},
		"a wrong type":           {http.MethodPut, strings.Replace(results, `"detailed_scores":[]`, `"detailed_scores":{}`, 1), []string{`field "detailed_scores" is invalid: must be an array`, "(got {})"}},
		"a POST":                 {http.MethodPost, results, []string{"callback arrived as POST; the contract says PUT"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w, ats, _, relayed := relayWorld(t, func(ats string) string { return ats + "/applications/42?x=1&y=2" })
			if !strings.HasPrefix(relayed, w.url+"/_relay/") {
				t.Fatalf("callback_url rewritten to %s, want the proxy's relay", relayed)
			}
			resp, b, err := put(t, tc.method, relayed, tc.body, "Authorization", "Bearer cb-token", "X-Equalture-Delivery-Id", "dlv_1")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || string(b) != "thanks" || resp.Header.Get("X-Ats") != "1" {
				t.Fatalf("the target got %d %q %v, not the ATS's answer", resp.StatusCode, b, resp.Header)
			}
			got := ats.got()
			if len(got) != 1 {
				t.Fatalf("the ATS got %d callbacks", len(got))
			}
			cb := got[0]
			if cb.method != tc.method || cb.uri != "/applications/42?x=1&y=2" || string(cb.body) != tc.body ||
				cb.header.Get("Authorization") != "Bearer cb-token" || cb.header.Get("X-Equalture-Delivery-Id") != "dlv_1" {
				t.Fatalf("the ATS got %s %s %v %s: not the callback as the target sent it", cb.method, cb.uri, cb.header, cb.body)
			}
			r := w.settle(t, 2)
			var found []dispatch.Violation
			for _, op := range r.Operations {
				if strings.HasPrefix(op.Operation, "applicationResults") {
					found = op.Findings
					if op.Exchanges != 1 {
						t.Errorf("%s: %d exchanges", op.Operation, op.Exchanges)
					}
				}
			}
			if tc.want == nil {
				if len(found) > 0 || r.Violations > 0 {
					t.Fatalf("a valid callback reported: %+v", found)
				}
				return
			}
			if len(found) != 1 || found[0].Kind != dispatch.KindCallback || r.Violations != 1 {
				t.Fatalf("findings %+v, want one callback violation", found)
			}
			for _, s := range tc.want {
				if !strings.Contains(found[0].Message, s) {
					t.Errorf("the finding does not say %q: %s", s, found[0].Message)
				}
			}
			j := w.do(t, "GET", "/_mock/journal?operation_id=receiveApplicationResults&violations=true", "")
			if !strings.Contains(j.body, `"count":1`) || !strings.Contains(j.body, `"kind":"callback"`) || !strings.Contains(j.body, `"path":"/applications/42"`) {
				t.Errorf("journal: %s", j.body)
			}
		})
	}
}

func TestRelayRefusesURLsItDidNotHandOut(t *testing.T) {
	w, ats, _, relayed := relayWorld(t, func(ats string) string { return ats + "/cb" })
	token := strings.TrimPrefix(relayed, w.url+"/_relay/")
	enc, _, _ := strings.Cut(token, ".")
	for name, url := range map[string]string{
		"no signature":    w.url + "/_relay/" + enc,
		"a forged one":    w.url + "/_relay/" + enc + ".AAAAAAAAAAAAAAAAAAAAAA",
		"garbage":         w.url + "/_relay/~~~",
		"another proxy's": w.url + "/_relay/aHR0cDovL2V2aWwuZXhhbXBsZS8.AAAAAAAAAAAAAAAAAAAAAA",
	} {
		resp, _, err := put(t, http.MethodPut, url, results)
		if err == nil && resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, resp.StatusCode)
		}
	}
	if n := len(ats.got()); n != 0 {
		t.Fatalf("the ATS got %d callbacks from relay URLs the proxy never handed out", n)
	}
}

func TestRelayLeavesCallbackURLsTheContractRefuses(t *testing.T) {
	target := &recorder{h: respond(422, `{"errors":{"callback_url":["is invalid"]}}`)}
	w := start(t, target, func(o *proxy.Options) { o.RelayURL = relayToSelf })
	body := strings.Replace(validBody, "http://ats.example/cb", "ftp://ats.example/cb", 1)
	w.do(t, "POST", "/connect_ats/applications", body)
	if got := string(target.got()[0].body); got != body {
		t.Fatalf("an invalid callback_url was rewritten: %s", got)
	}
}

// TestRelayWhenTheATSDoesNotAnswer: the relay drops the target's connection too, so the target
// sees the failed attempt it would have seen without the proxy.
func TestRelayWhenTheATSDoesNotAnswer(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := http.NewResponseController(w).Hijack()
		_ = conn.Close()
	}))
	t.Cleanup(down.Close)
	w, _, _, relayed := relayWorld(t, func(string) string { return down.URL + "/cb" })
	if resp, _, err := put(t, http.MethodPut, relayed, results); err == nil {
		t.Fatalf("the target got an answer (%d) the ATS never gave", resp.StatusCode)
	}
	r := w.settle(t, 2)
	if r.Violations != 0 {
		t.Fatalf("an ATS that does not answer is not the contract's violation: %+v", r)
	}
	if j := w.do(t, "GET", "/_mock/journal?operation_id=receiveApplicationResults", ""); !strings.Contains(j.body, `"count":1`) || !strings.Contains(j.body, `"status":0`) {
		t.Fatalf("journal: %s", j.body)
	}
}
