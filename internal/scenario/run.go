package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/equalture/equalture-mock/contract"
	"github.com/equalture/equalture-mock/internal/spec"
)

// Runner runs scenarios against a target.
type Runner struct {
	// Target returns the base URL to run a scenario against, and a function to call when the
	// scenario is over (e.g. stopping its in-process mock).
	Target   func() (base string, done func(), err error)
	Receiver *contract.Receiver
	Contract *spec.Spec
	Out      io.Writer
	HTTP     *http.Client

	seq atomic.Int64
}

// Result is the outcome of one scenario.
type Result struct {
	Scenario *Scenario
	Failure  string // "" when it passed
	Steps    int    // steps that ran
	Duration time.Duration
}

// Passed reports whether the scenario passed.
func (r Result) Passed() bool { return r.Failure == "" }

// run is one scenario's state.
type run struct {
	*Runner
	s      *Scenario
	base   string
	vars   map[string]string
	prefix string // receiver path prefix, so scenarios never share receiver paths
}

// Run runs one scenario, printing progress.
func (rn *Runner) Run(s *Scenario) Result {
	start := time.Now()
	fmt.Fprintf(rn.Out, "▶ %s (%s)\n", s.Name, s.File)
	res := Result{Scenario: s}
	base, done, err := rn.Target()
	if err != nil {
		res.Failure = "cannot reach the target: " + err.Error()
		fmt.Fprintf(rn.Out, "  ✗ %s\n", res.Failure)
		return res
	}
	defer done()
	n := rn.seq.Add(1)
	r := &run{Runner: rn, s: s, base: strings.TrimRight(base, "/"), prefix: fmt.Sprintf("/s%d", n)}
	id, secret := s.Client.ID, s.Client.Secret
	if id == "" {
		id, secret = "demo-client", "demo-secret"
	}
	r.vars = map[string]string{
		"base_url":      r.base,
		"control_url":   r.base + "/_mock",
		"receiver":      rn.Receiver.URL + r.prefix,
		"client_id":     id,
		"client_secret": secret,
		"unique":        strconv.FormatInt(time.Now().UnixNano()%1e9, 10) + strconv.FormatInt(n, 10),
	}
	r.vars["job_id"] = r.firstJob()
	for i, st := range s.Steps {
		stepStart := time.Now()
		err := r.step(st)
		res.Steps = i + 1
		if err != nil {
			res.Failure = fmt.Sprintf("step %d %q (%s:%d): %v", i+1, st.Label(i), s.File, st.line, err)
			fmt.Fprintf(rn.Out, "  ✗ %d %s: %v\n", i+1, st.Label(i), err)
			break
		}
		fmt.Fprintf(rn.Out, "  ✓ %d %s (%s)\n", i+1, st.Label(i), time.Since(stepStart).Round(time.Millisecond))
	}
	res.Duration = time.Since(start)
	mark := "✔ passed"
	if !res.Passed() {
		mark = "✘ FAILED"
	}
	fmt.Fprintf(rn.Out, "%s %s in %s\n\n", mark, s.Name, res.Duration.Round(time.Millisecond))
	return res
}

// firstJob is the first job the scenario's client lists ("" when it cannot tell).
func (r *run) firstJob() string {
	tok, err := r.token(r.vars["client_id"], r.vars["client_secret"])
	if err != nil {
		return ""
	}
	resp, err := r.send(http.MethodGet, r.base+"/connect_ats/jobs", nil, map[string]string{"Authorization": "Bearer " + tok}, 0)
	if err != nil {
		return ""
	}
	var jobs []struct{ ID string }
	_ = json.Unmarshal(resp.body, &jobs)
	if len(jobs) == 0 {
		return ""
	}
	return jobs[0].ID
}

func (r *run) token(id, secret string) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, r.base+"/connect_ats/access_token", nil)
	req.SetBasicAuth(id, secret)
	resp, err := r.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.AccessToken == "" {
		return "", fmt.Errorf("no token for %s (%s)", id, resp.Status)
	}
	return v.AccessToken, nil
}

// expand replaces ${vars}; an unknown one is left visible.
func (r *run) expand(s string) string {
	return varRE.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := r.vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

type answer struct {
	status int
	header http.Header
	body   []byte
	req    *http.Request
}

func (a answer) json() (any, bool) {
	var v any
	if json.Unmarshal(a.body, &v) != nil {
		return nil, false
	}
	return v, true
}

func (r *run) send(method, rawURL string, body []byte, headers map[string]string, timeout time.Duration) (answer, error) {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := r.HTTP.Do(req)
	if err != nil {
		return answer{req: req}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{req: req}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b, req: req}, nil
}

func (r *run) step(st Step) error {
	switch {
	case st.Request != nil:
		return r.request(st)
	case st.Control != nil:
		return r.control(st)
	case st.Receiver != nil:
		p := r.prefix + r.expand(st.Receiver.Path)
		if len(st.Receiver.Respond) > 0 {
			r.Receiver.Script(p, st.Receiver.Respond...)
		}
		r.Receiver.Delay(p, time.Duration(st.Receiver.Delay))
		return nil
	case st.Callback != nil:
		return r.callback(st)
	}
	return errors.New("empty step")
}

func (r *run) request(st Step) error {
	q := st.Request
	target := r.expand(q.URL)
	if target == "" {
		target = r.base + r.expand(q.Path)
	}
	if len(q.Query) > 0 {
		u, err := url.Parse(target)
		if err != nil {
			return err
		}
		vals := u.Query()
		for k, v := range q.Query {
			vals.Set(k, r.expand(v))
		}
		u.RawQuery = vals.Encode()
		target = u.String()
	}
	headers := map[string]string{}
	for k, v := range q.Headers {
		headers[k] = r.expand(v)
	}
	switch q.Auth.Kind {
	case "basic":
		id, secret := r.vars["client_id"], r.vars["client_secret"]
		if q.Auth.Basic.ID != "" {
			id, secret = r.expand(q.Auth.Basic.ID), r.expand(q.Auth.Basic.Secret)
		}
		headers["Authorization"] = "Basic " + basicValue(id, secret)
	case "bearer":
		tok := r.vars["access_token"]
		if q.Auth.Bearer != "" {
			tok = r.expand(q.Auth.Bearer)
		}
		headers["Authorization"] = "Bearer " + tok
	case "header":
		headers["Authorization"] = r.expand(q.Auth.Header)
	}
	var body []byte
	switch {
	case q.JSON != nil:
		b, err := json.Marshal(normalize(expandAny(q.JSON, r.expand)))
		if err != nil {
			return err
		}
		body = b
	case q.Body != "":
		body = []byte(r.expand(q.Body))
	}
	if ct, ok := headers["Content-Type"]; ok && body != nil {
		headers["Content-Type"] = ct
	}
	a, err := r.send(strings.ToUpper(q.Method), target, body, headers, time.Duration(q.Timeout))
	if err != nil {
		return r.expectError(st, err)
	}
	if st.Expect != nil && st.Expect.Error != "" {
		return fmt.Errorf("expected a %s error, got an answer: %d %s", st.Expect.Error, a.status, clip(a.body))
	}
	if err := r.validate(a); err != nil {
		return err
	}
	if v, ok := a.json(); ok {
		if tok, found := lookup(v, "access_token"); found {
			r.vars["access_token"] = text(tok)
		}
	}
	return r.check(st, a, true)
}

func basicValue(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(id, secret)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func (r *run) expectError(st Step, err error) error {
	if st.Expect == nil || st.Expect.Error == "" {
		return err
	}
	timedOut := errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err)
	if st.Expect.Error == "timeout" && !timedOut {
		return fmt.Errorf("expected a timeout, got %v", err)
	}
	return nil
}

// validate checks a vendor API answer against the contract (pages and unknown paths aside).
func (r *run) validate(a answer) error {
	if !strings.HasPrefix(a.req.URL.Path, "/connect_ats/") || !r.Contract.Matches(a.req) || a.status == http.StatusMethodNotAllowed {
		return nil
	}
	if err := r.Contract.ValidateResponse(context.Background(), a.req, a.status, a.header, a.body); err != nil {
		return fmt.Errorf("the answer breaks openapi.yaml: %v", err)
	}
	return nil
}

// check applies the step's expectations and captures to an answer. defaultOK demands a 2xx when
// the step names no status.
func (r *run) check(st Step, a answer, defaultOK bool) error {
	var problems []string
	e := st.Expect
	switch {
	case e != nil && len(e.Status) > 0:
		ok := false
		for _, s := range e.Status {
			ok = ok || s == a.status
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("status: expected %s, got %d", statuses(e.Status), a.status))
		}
	case defaultOK && (a.status < 200 || a.status > 299):
		problems = append(problems, fmt.Sprintf("status: expected a 2xx, got %d", a.status))
	}
	v, isJSON := a.json()
	if e != nil {
		for name, m := range e.Headers {
			got := a.header.Values(name)
			var val any
			if len(got) > 0 {
				val = strings.Join(got, ", ")
			}
			if err := m.check(val, len(got) > 0, r.expand); err != nil {
				problems = append(problems, fmt.Sprintf("header %s: %v", name, err))
			}
		}
		for path, m := range e.JSON {
			got, found := lookup(v, path)
			if !isJSON {
				found = false
			}
			if err := m.check(got, found, r.expand); err != nil {
				problems = append(problems, fmt.Sprintf("json %s: %v", path, err))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\n      answer: %d %s", strings.Join(problems, "\n      "), a.status, clip(a.body))
	}
	for name, path := range st.Capture {
		if h, ok := strings.CutPrefix(path, "header:"); ok {
			r.vars[name] = a.header.Get(strings.TrimSpace(h))
			continue
		}
		got, found := lookup(v, path)
		if !found {
			return fmt.Errorf("capture %s: %s is not in the answer: %s", name, path, clip(a.body))
		}
		r.vars[name] = text(got)
	}
	return nil
}

func statuses(s Statuses) string {
	if len(s) == 1 {
		return strconv.Itoa(s[0])
	}
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = strconv.Itoa(c)
	}
	return "one of " + strings.Join(parts, ", ")
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// control turns a control action into its control API call.
func (r *run) control(st Step) error {
	c := st.Control
	method, path := http.MethodPost, ""
	var body any
	switch {
	case c.AdvanceClock != "":
		path, body = "/clock/advance", map[string]string{"by": c.AdvanceClock}
	case c.SetClock != "":
		path, body = "/clock/set", map[string]string{"now": r.expand(c.SetClock)}
	case c.FreezeClock:
		path = "/clock/freeze"
	case c.UnfreezeClock:
		path = "/clock/unfreeze"
	case c.ResetClock:
		path = "/clock/reset"
	case c.Start != "":
		path = "/applications/" + r.expand(c.Start) + "/start"
	case c.Complete != nil:
		path = "/applications/" + r.expand(c.Complete.ReferenceID) + "/complete"
		m := map[string]any{}
		if c.Complete.Fit != "" {
			m["fit"] = c.Complete.Fit
		}
		if len(c.Complete.Scores) > 0 {
			m["scores"] = c.Complete.Scores
		}
		body = m
	case c.ExpireInvitation != "":
		path = "/applications/" + r.expand(c.ExpireInvitation) + "/expire_invitation"
	case c.ExpireTokens != nil:
		path, body = "/tokens/expire", tokenTarget(c.ExpireTokens, r.expand)
	case c.RevokeTokens != nil:
		path, body = "/tokens/revoke", tokenTarget(c.RevokeTokens, r.expand)
	case c.AddFault != nil:
		path, body = "/faults", expandAny(c.AddFault, r.expand)
	case c.ClearFaults:
		method, path = http.MethodDelete, "/faults"
	case c.Redeliver != "":
		path = "/callbacks/" + r.expand(c.Redeliver) + "/redeliver"
	case c.Reset:
		path = "/reset"
	case c.Call != nil:
		method, path, body = strings.ToUpper(c.Call.Method), strings.TrimPrefix(r.expand(c.Call.Path), "/_mock"), expandAny(c.Call.JSON, r.expand)
	}
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(normalize(body)); err != nil {
			return err
		}
	}
	a, err := r.send(method, r.base+"/_mock"+path, b, nil, 70*time.Second)
	if err != nil {
		return fmt.Errorf("control API %s /_mock%s: %w", method, path, err)
	}
	if a.status == http.StatusNotFound && strings.Contains(string(a.body), "no operation") {
		return fmt.Errorf("the target has no control API at %s/_mock (is it the real service?)", r.base)
	}
	return r.check(st, a, true)
}

func tokenTarget(t *TokenTarget, expand func(string) string) any {
	if t.ClientID == "" {
		return nil
	}
	return map[string]string{"client_id": expand(t.ClientID)}
}

// callback waits for callbacks at the runner's receiver and checks the last one.
func (r *run) callback(st Step) error {
	cb := st.Callback
	n := cb.Count
	if n <= 0 {
		n = 1
	}
	timeout := time.Duration(cb.Timeout)
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	path := r.prefix + r.expand(cb.Path)
	got, err := r.Receiver.Wait(path, n, timeout)
	if err != nil {
		return fmt.Errorf("expected %d callback(s) at %s within %s, got %d", n, r.Receiver.URL+path, timeout, len(got))
	}
	for i, c := range got {
		if c.Violation != "" {
			return fmt.Errorf("callback %d: %s", i+1, c.Violation)
		}
	}
	last := got[n-1]
	return r.check(st, answer{status: last.Answered, header: last.Header, body: last.Body}, false)
}
