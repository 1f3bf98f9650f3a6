// Package run runs scenarios (internal/scenario) against a target — a mock started in-process
// by the caller, or one already running — one after the other: vendor API requests, control API
// actions, the callback receiver's behaviour, waits. Every vendor API answer is checked against
// openapi.yaml and every callback against its callback schema, whatever the file says. It prints
// progress lines and writes JUnit reports.
package run

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/equalture/equalture-mock/internal/apiclient"
	"github.com/equalture/equalture-mock/internal/jsonpath"
	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/redact"
	"github.com/equalture/equalture-mock/internal/scenario"
	"github.com/equalture/equalture-mock/internal/spec"
)

// Runner runs scenarios against a target, one after the other, printing progress.
type Runner struct {
	Target   Target
	Receiver *receiver.Receiver
	// Contract is openapi.yaml: every vendor API answer is checked against it.
	Contract *spec.Spec
	// Out gets the progress lines (io.Discard when nil).
	Out io.Writer
	// HTTP sends the requests; nil: a client that does not follow redirects.
	HTTP *http.Client
	// AdminToken is sent to the control API when set.
	AdminToken string

	seq atomic.Int64
}

// Result is the outcome of one scenario.
type Result struct {
	Scenario *scenario.Scenario
	// Failure is nil when the scenario passed.
	Failure  *Failure
	Steps    int // steps that passed
	Duration time.Duration
	// Output is the scenario's progress lines.
	Output string
}

// Passed reports whether the scenario passed.
func (r Result) Passed() bool { return r.Failure == nil }

// Failure says where a scenario failed and why.
type Failure struct {
	Scenario string
	Step     string // `step 5 "status is invited"`
	Where    string // file:line
	Message  string // what was expected and what happened, possibly several lines
}

// Summary is the failure on one line: the step and the first line of the message.
func (f *Failure) Summary() string {
	first, _, _ := strings.Cut(f.Message, "\n")
	return fmt.Sprintf("%s (%s): %s", f.Step, f.Where, first)
}

func (f *Failure) Error() string {
	return fmt.Sprintf("scenario %q failed at %s (%s):\n  %s", f.Scenario, f.Step, f.Where, strings.ReplaceAll(f.Message, "\n", "\n  "))
}

// state is one scenario's run.
type state struct {
	*Runner
	ctx    context.Context
	s      *scenario.Scenario
	http   *http.Client
	base   string
	vars   scenario.Vars
	prefix string // the receiver paths of this scenario start with it
	// secret names the variables captured from a secret field or header: the transcript shows
	// hints of them, as of access_token and client_secret.
	secret map[string]bool
}

// scrub replaces the values of the scenario's secrets in s — the variables holding a secret and
// the admin token — with their hints (redact.Hint), so transcripts and JUnit reports show none.
func (r *state) scrub(s string) string {
	var pairs []string
	add := func(v string) {
		if len(v) >= 4 && strings.Contains(s, v) {
			pairs = append(pairs, v, redact.Hint(v))
		}
	}
	for name, v := range r.vars {
		if str, ok := v.(string); ok && (redact.IsSecret(name) || r.secret[name]) {
			add(str)
		}
	}
	add(r.AdminToken)
	if len(pairs) == 0 {
		return s
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// writerFunc is an io.Writer made of a function.
type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// RunAll runs scenarios in order and prints a summary.
func (rn *Runner) RunAll(ctx context.Context, scenarios []*scenario.Scenario) []Result {
	start := time.Now()
	var results []Result
	for _, s := range scenarios {
		if ctx.Err() != nil {
			break
		}
		results = append(results, rn.Run(ctx, s))
	}
	rn.summary(results, time.Since(start))
	return results
}

func (rn *Runner) summary(results []Result, took time.Duration) {
	out := rn.out()
	passed := 0
	for _, r := range results {
		if r.Passed() {
			passed++
		}
	}
	if passed < len(results) {
		fmt.Fprintln(out, "Failed scenarios:")
		for _, r := range results {
			if !r.Passed() {
				fmt.Fprintf(out, "  ✘ %s (%s)\n      %s\n", r.Scenario.Name, r.Scenario.File, r.Failure.Summary())
			}
		}
	}
	fmt.Fprintf(out, "%d scenarios: %d passed, %d failed (%s)\n", len(results), passed, len(results)-passed, took.Round(time.Millisecond))
}

func (rn *Runner) out() io.Writer {
	if rn.Out == nil {
		return io.Discard
	}
	return rn.Out
}

func (rn *Runner) client() *http.Client {
	if rn.HTTP != nil {
		return rn.HTTP
	}
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Run runs one scenario: its setup, then its steps until one fails.
func (rn *Runner) Run(ctx context.Context, s *scenario.Scenario) Result {
	start := time.Now()
	var buf bytes.Buffer
	var r *state
	// scrub hides the scenario's secrets (state.scrub) in everything the run reports: the
	// transcript as it is written, and the failure.
	scrub := func(text string) string {
		if r == nil {
			return text
		}
		return r.scrub(text)
	}
	transcript := io.MultiWriter(rn.out(), &buf)
	out := writerFunc(func(p []byte) (int, error) {
		if _, err := io.WriteString(transcript, scrub(string(p))); err != nil {
			return 0, err
		}
		return len(p), nil
	})
	res := Result{Scenario: s}
	finish := func() Result {
		res.Duration = time.Since(start)
		mark := "✔ passed"
		if !res.Passed() {
			mark = "✘ FAILED"
		}
		fmt.Fprintf(out, "%s %s in %s\n\n", mark, s.Name, res.Duration.Round(time.Millisecond))
		res.Output = buf.String()
		return res
	}
	fail := func(step, line, where, msg string) {
		res.Failure = &Failure{Scenario: s.Name, Step: scrub(step), Where: where, Message: scrub(msg)}
		fmt.Fprintf(out, "  ✗ %s\n      %s\n", line, strings.ReplaceAll(msg, "\n", "\n      "))
	}
	fmt.Fprintf(out, "▶ %s (%s)\n", s.Name, s.File)
	base, stop, err := rn.Target.Start(ctx)
	if err != nil {
		fail("start", "start", s.File, "cannot start the target: "+err.Error())
		return finish()
	}
	defer stop()
	n := rn.seq.Add(1)
	r = &state{Runner: rn, ctx: ctx, s: s, http: rn.client(), base: strings.TrimRight(base, "/"), prefix: "/s" + strconv.FormatInt(n, 10), secret: map[string]bool{}}
	id, secret := "demo-client", "demo-secret"
	if c := s.Setup.Client; c != nil {
		id, secret = c.ID, c.Secret
	}
	r.vars = scenario.Vars{
		"base_url":      r.base,
		"control_url":   r.base + "/_mock",
		"receiver":      rn.Receiver.URL + r.prefix,
		"client_id":     id,
		"client_secret": secret,
		"unique":        strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 10) + strconv.FormatInt(n, 10),
	}
	if s.Uses("job_id") {
		job, err := r.firstJob()
		if err != nil {
			fail("setup", "setup: ${job_id}", s.File, "cannot look up ${job_id}: "+err.Error())
			return finish()
		}
		r.vars["job_id"] = job
	}
	for _, st := range s.Before {
		what, err := r.step(st)
		line := "setup: " + cmp.Or(what, st.Label())
		if err != nil {
			fail(st.Path, line, fmt.Sprintf("%s:%d", s.File, st.Line), err.Error())
			return finish()
		}
		fmt.Fprintf(out, "  ✓ %s\n", line)
	}
	for i, st := range s.Steps {
		t := time.Now()
		what, err := r.step(st)
		label := st.Label()
		if x, xerr := r.vars.Text(label); xerr == nil {
			label = x
		}
		line := fmt.Sprintf("%d %s", i+1, label)
		switch {
		case st.Name != "":
			line += arrow(what)
		case what != "":
			line = fmt.Sprintf("%d %s", i+1, what)
		}
		if err != nil {
			fail(fmt.Sprintf("step %d %q", i+1, label), line, fmt.Sprintf("%s:%d", s.File, st.Line), err.Error())
			return finish()
		}
		res.Steps++
		fmt.Fprintf(out, "  ✓ %s (%s)\n", line, time.Since(t).Round(time.Millisecond))
	}
	// Callbacks nobody waited for still honour the contract.
	for _, cb := range rn.Receiver.Received(r.prefix) {
		if cb.Violation != "" {
			fail("after the last step", "after the last step", s.File, fmt.Sprintf("the callback to %s: %s", strings.TrimPrefix(cb.Path, r.prefix), cb.Violation))
			return finish()
		}
	}
	return finish()
}

func arrow(what string) string {
	if what == "" {
		return ""
	}
	return " — " + what
}

// firstJob is the first job the scenario's client lists.
func (r *state) firstJob() (string, error) {
	req, err := http.NewRequestWithContext(r.ctx, http.MethodPost, r.base+"/connect_ats/access_token", nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(scenario.Text(r.vars["client_id"]), scenario.Text(r.vars["client_secret"]))
	a, err := r.do(req, 30*time.Second)
	if err != nil {
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(a.body, &tok) != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("cannot get a token for %s to list its jobs: %d %s", r.vars["client_id"], a.status, clip(a.body))
	}
	req, err = http.NewRequestWithContext(r.ctx, http.MethodGet, r.base+"/connect_ats/jobs", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if a, err = r.do(req, 30*time.Second); err != nil {
		return "", err
	}
	var jobs []struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(a.body, &jobs) != nil || len(jobs) == 0 {
		return "", fmt.Errorf("%s lists no jobs: %d %s", r.vars["client_id"], a.status, clip(a.body))
	}
	return jobs[0].ID, nil
}

// answer is an HTTP answer (or a callback, as the receiver got it).
type answer struct {
	status int
	header http.Header
	body   []byte
	// violation says how a vendor API answer breaks openapi.yaml ("" when it honours it, and for
	// anything that is not a vendor API operation: pages, the control API).
	violation string
}

// do sends req within timeout and reads the answer, checking it against the contract when it is
// a vendor API operation on the target.
func (r *state) do(req *http.Request, timeout time.Duration) (answer, error) {
	c := apiclient.Client{Base: r.base, Contract: r.Contract, HTTP: r.http, Timeout: timeout}
	resp, err := c.Send(req)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.Status, header: resp.Header, body: resp.Body, violation: resp.Violation}, nil
}

// step runs one step and says in a few words what happened.
func (r *state) step(st scenario.Step) (string, error) {
	switch {
	case st.Request != nil:
		return r.request(st)
	case st.Control != nil:
		return r.control(st)
	case st.Receiver != nil:
		return r.receiver(st)
	case st.Callback != nil:
		return r.callback(st)
	case st.Wait != nil:
		return r.wait(st)
	}
	return "", errors.New("empty step")
}

// check applies a step's expectations, then its captures, to an answer. needOK demands a 2xx
// when the step expects no status.
func (r *state) check(st scenario.Step, a answer, needOK bool, extra func(e *scenario.Expect) []string) error {
	var problems []string
	e := st.Expect
	if e == nil {
		e = &scenario.Expect{}
	}
	switch {
	case len(e.Status) > 0:
		ok := false
		for _, s := range e.Status {
			ok = ok || s == a.status
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("status: expected %s, got %d", statuses(e.Status), a.status))
		}
	case needOK && (a.status < 200 || a.status > 299):
		problems = append(problems, fmt.Sprintf("status: expected a 2xx (the step names no status), got %d", a.status))
	}
	for _, name := range slices.Sorted(maps.Keys(e.Headers)) {
		got := a.header.Values(name)
		if err := e.Headers[name].Check(strings.Join(got, ", "), len(got) > 0, r.vars, true); err != nil {
			problems = append(problems, fmt.Sprintf("header %s: %v", name, err))
		}
	}
	v, isJSON := decodeJSON(a.body)
	for _, path := range slices.Sorted(maps.Keys(e.JSON)) {
		got, found := jsonpath.Lookup(v, path)
		if !isJSON {
			problems = append(problems, fmt.Sprintf("json %s: the body is not JSON", path))
			continue
		}
		if err := e.JSON[path].Check(got, found, r.vars, false); err != nil {
			if redact.IsSecretField(path) { // the matcher's message would show the secret
				err = errors.New("the value does not match (a secret: not shown)")
			}
			problems = append(problems, fmt.Sprintf("json %s: %v", path, err))
		}
	}
	if e.Body != nil {
		if err := e.Body.Check(string(a.body), true, r.vars, true); err != nil {
			problems = append(problems, fmt.Sprintf("body: %v", err))
		}
	}
	if extra != nil {
		problems = append(problems, extra(e)...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\nanswer: %d %s", strings.Join(problems, "\n"), a.status, clip(a.body))
	}
	for _, name := range slices.Sorted(maps.Keys(st.Capture)) {
		path := st.Capture[name]
		if h, ok := strings.CutPrefix(path, "header:"); ok {
			got := a.header.Values(strings.TrimSpace(h))
			if len(got) == 0 {
				return fmt.Errorf("capture %s: the answer has no %s header", name, strings.TrimSpace(h))
			}
			r.vars[name] = got[0]
			r.secret[name] = strings.EqualFold(strings.TrimSpace(h), "Authorization")
			continue
		}
		got, found := jsonpath.Lookup(v, path)
		if !found {
			return fmt.Errorf("capture %s: %s is not in the answer: %d %s", name, path, a.status, clip(a.body))
		}
		r.vars[name] = got
		r.secret[name] = redact.IsSecretField(path)
	}
	return nil
}

func statuses(s scenario.Statuses) string {
	if len(s) == 1 {
		return strconv.Itoa(s[0])
	}
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = strconv.Itoa(c)
	}
	return "one of " + strings.Join(parts, ", ")
}
