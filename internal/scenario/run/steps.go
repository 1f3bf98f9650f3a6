package run

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/jsonpath"
	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/scenario"
)

// DefaultRequestTimeout is a request's timeout when the step sets none.
const DefaultRequestTimeout = 30 * time.Second

// controlTimeout lets a control call's ?wait= (at most a minute) run out.
const controlTimeout = 75 * time.Second

// DefaultWait is how long callback and wait steps wait when they set no timeout.
const DefaultWait = 10 * time.Second

// request sends a request step to the vendor API (or a link) and checks the answer.
func (r *state) request(st scenario.Step) (string, error) {
	q := st.Request
	target, err := r.vars.Text(q.URL)
	if err != nil {
		return "", err
	}
	if target == "" {
		p, err := r.vars.Text(q.Path)
		if err != nil {
			return "", err
		}
		target = r.base + p
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %v", target, err)
	}
	if len(q.Query) > 0 {
		vals := u.Query()
		for _, k := range slices.Sorted(maps.Keys(q.Query)) {
			v, err := r.vars.Text(q.Query[k])
			if err != nil {
				return "", err
			}
			vals.Set(k, v)
		}
		u.RawQuery = vals.Encode()
	}
	var body []byte
	switch {
	case q.JSON != nil:
		v, err := r.vars.Tree(q.JSON)
		if err != nil {
			return "", err
		}
		if body, err = json.Marshal(v); err != nil {
			return "", err
		}
	case q.Body != "":
		s, err := r.vars.Text(q.Body)
		if err != nil {
			return "", err
		}
		body = []byte(s)
	}
	method := strings.ToUpper(q.Method)
	req, err := http.NewRequestWithContext(r.ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	if body == nil {
		req.Body, req.GetBody, req.ContentLength = nil, nil, 0
	}
	if q.JSON != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch q.Auth.Kind {
	case "basic":
		id, secret := scenario.Text(r.vars["client_id"]), scenario.Text(r.vars["client_secret"])
		if c := q.Auth.Basic; c != nil {
			if id, err = r.vars.Text(c.ID); err != nil {
				return "", err
			}
			if secret, err = r.vars.Text(c.Secret); err != nil {
				return "", err
			}
		}
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	case "bearer":
		tok, err := r.vars.Text("${access_token}")
		if q.Auth.Bearer != "" {
			tok, err = r.vars.Text(q.Auth.Bearer)
		}
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case "header":
		h, err := r.vars.Text(q.Auth.Header)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", h)
	}
	for _, k := range slices.Sorted(maps.Keys(q.Headers)) {
		v, err := r.vars.Text(q.Headers[k])
		if err != nil {
			return "", err
		}
		req.Header.Set(k, v)
	}
	timeout := time.Duration(q.Timeout)
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	what := method + " " + r.show(u)
	start := time.Now()
	a, err := r.do(req, timeout)
	if err != nil {
		return what + " → no answer", r.noAnswer(st, err, timeout, time.Since(start))
	}
	what += fmt.Sprintf(" → %d", a.status)
	if st.Expect != nil && st.Expect.Error != "" {
		return what, fmt.Errorf("expected %s, got an answer: %d %s", errorWant(st.Expect.Error, timeout), a.status, clip(a.body))
	}
	if a.violation != "" {
		return what, fmt.Errorf("the answer breaks openapi.yaml: %s\nanswer: %d %s", a.violation, a.status, clip(a.body))
	}
	if a.status == http.StatusOK {
		if v, ok := decodeJSON(a.body); ok {
			if tok, found := jsonpath.Lookup(v, "access_token"); found {
				if s, isString := tok.(string); isString && s != "" {
					r.vars["access_token"] = s
				}
			}
		}
	}
	return what, r.check(st, a, true, nil)
}

// show is a URL for progress lines: the path when it is on the target, long query values cut.
func (r *state) show(u *url.URL) string {
	v := *u
	if q := v.Query(); len(q) > 0 {
		for k, vals := range q {
			for i, x := range vals {
				if len(x) > 24 {
					vals[i] = x[:12] + "…"
				}
			}
			q[k] = vals
		}
		v.RawQuery = q.Encode()
	}
	segs := strings.Split(v.Path, "/")
	for i, seg := range segs {
		if len(seg) > 40 {
			segs[i] = seg[:12] + "…"
		}
	}
	v.Path, v.RawPath = strings.Join(segs, "/"), ""
	s, _ := url.PathUnescape(v.String())
	if rest, ok := strings.CutPrefix(s, r.base); ok && s != "" {
		return rest
	}
	return s
}

func errorWant(kind string, timeout time.Duration) string {
	if kind == "timeout" {
		return fmt.Sprintf("no answer within the %s timeout", timeout)
	}
	return "a connection error (no answer)"
}

// noAnswer judges a request that got no answer.
func (r *state) noAnswer(st scenario.Step, err error, timeout, took time.Duration) error {
	var ne net.Error
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
	want := ""
	if st.Expect != nil {
		want = st.Expect.Error
	}
	switch {
	case want == "timeout" && timedOut:
		return nil
	case want == "connection" && !timedOut:
		return nil
	case timedOut:
		return fmt.Errorf("no answer within the step's timeout of %s (set request.timeout, or expect: {error: timeout})", timeout)
	case want != "":
		return fmt.Errorf("expected %s, got %v after %s", errorWant(want, timeout), err, took.Round(time.Millisecond))
	}
	return fmt.Errorf("no answer: %v", err)
}

// control sends a control action's request to the control API.
func (r *state) control(st scenario.Step) (string, error) {
	call, err := st.Control.Call(r.vars)
	if err != nil {
		return "", err
	}
	a, err := r.controlRequest(call.Method, call.Path, call.Body, controlTimeout)
	if err != nil {
		return call.What, err
	}
	return call.What + fmt.Sprintf(" → %d", a.status), r.check(st, a, true, nil)
}

// controlRequest sends a request to the control API.
func (r *state) controlRequest(method, path string, body any, timeout time.Duration) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(r.ctx, method, r.base+"/_mock"+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+r.AdminToken)
	}
	a, err := r.do(req, timeout)
	if err != nil {
		return a, fmt.Errorf("control API %s /_mock%s: no answer: %v", method, path, err)
	}
	if a.status == http.StatusUnauthorized {
		return a, fmt.Errorf("the control API wants the admin token (--admin-token): %d %s", a.status, clip(a.body))
	}
	return a, nil
}

// receiver sets up the runner's receiver for a path.
func (r *state) receiver(st scenario.Step) (string, error) {
	rs := st.Receiver
	p, err := r.vars.Text(rs.Path)
	if err != nil {
		return "", err
	}
	respond := rs.Respond
	if rs.Down {
		respond = []scenario.Answer{scenario.Down}
	}
	plan := make([]receiver.Answer, len(respond))
	for i, a := range respond {
		plan[i] = receiver.Answer(a)
		if a == scenario.Down {
			plan[i] = receiver.Down
		}
	}
	r.Receiver.Set(r.prefix+p, plan, time.Duration(rs.Delay))
	parts := make([]string, len(respond))
	for i, a := range respond {
		parts[i] = a.String()
	}
	what := p + " answers "
	switch {
	case len(parts) == 0:
		what += "200"
	case rs.Down:
		what = p + " drops every connection"
	default:
		what += strings.Join(parts, ", ")
	}
	if rs.Delay > 0 {
		what += " after " + rs.Delay.String()
	}
	return what, nil
}

// callback waits for callbacks at the runner's receiver — of one event type, with `type` — and
// checks the Count-th; with `secret`, the signature of each it counted.
func (r *state) callback(st scenario.Step) (string, error) {
	cb := st.Callback
	n := max(cb.Count, 1)
	timeout := time.Duration(cb.Timeout)
	if timeout <= 0 {
		timeout = DefaultWait
	}
	p, err := r.vars.Text(cb.Path)
	if err != nil {
		return "", err
	}
	typ, err := r.vars.Text(cb.Type)
	if err != nil {
		return "", err
	}
	secret, err := r.vars.Text(cb.Secret)
	if err != nil {
		return "", err
	}
	var match func(receiver.Callback) bool
	noun := "callback"
	if typ != "" {
		match, noun = func(c receiver.Callback) bool { return c.Event == typ }, typ+" event"
	}
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	got, err := r.Receiver.WaitMatch(ctx, r.prefix+p, n, match)
	if err != nil {
		hint := fmt.Sprintf("is the application's callback_url ${receiver}%s, and has it been completed?", p)
		if typ != "" {
			hint = fmt.Sprintf("is a webhook registered with the url ${receiver}%s, and has the application had the event?", p)
		}
		return "", fmt.Errorf("expected %s %d at %s within %s, the receiver got %d\n(%s Retries wait for the mock's clock: advance it)",
			noun, n, p, timeout, len(got), hint)
	}
	for i, c := range got[:n] {
		if c.Violation != "" {
			return "", fmt.Errorf("%s %d to %s: %s\npayload: %s", noun, i+1, p, c.Violation, clip(c.Body))
		}
		if secret == "" {
			continue
		}
		if c.Event == "" {
			return "", fmt.Errorf("%s %d to %s is no webhook event, so it has no signature to check with the secret: %s %s", noun, i+1, p, c.Method, clip(c.Body))
		}
		if err := c.Verify(secret); err != nil {
			return "", fmt.Errorf("%s %d to %s: the signature does not verify with the secret: %v", noun, i+1, p, err)
		}
	}
	c := got[n-1]
	what := fmt.Sprintf("%s %d at %s, answered %s", noun, n, p, c.Answer)
	if secret != "" {
		what += ", signed"
	}
	a := answer{status: int(c.Answer), header: c.Header, body: c.Body}
	return what, r.check(st, a, false, func(e *scenario.Expect) []string {
		if e.Attempts != nil && *e.Attempts != len(got) {
			return []string{fmt.Sprintf("attempts: expected %d callbacks at %s, got %d", *e.Attempts, p, len(got))}
		}
		return nil
	})
}

// wait asks the control API for deliveries, emails or journal entries until there are enough.
func (r *state) wait(st scenario.Step) (string, error) {
	w := st.Wait
	what, filters, key := w.Records()
	least := 1
	if w.Min != nil {
		least = *w.Min
	}
	timeout := time.Duration(w.Timeout)
	if timeout <= 0 {
		timeout = DefaultWait
	}
	q := url.Values{}
	var shown []string
	for _, k := range slices.Sorted(maps.Keys(filters)) {
		v, err := r.vars.Text(filters[k])
		if err != nil {
			return "", err
		}
		q.Set(k, v)
		shown = append(shown, k+"="+v)
	}
	q.Set("min", strconv.Itoa(least))
	desc := "wait for " + what
	if len(shown) > 0 {
		desc += " " + strings.Join(shown, ", ")
	}
	deadline := time.Now().Add(timeout)
	for {
		left := max(time.Until(deadline), 0)
		q.Set("wait", min(left, 60*time.Second).Round(time.Millisecond).String())
		a, err := r.controlRequest(http.MethodGet, "/"+what+"?"+q.Encode(), nil, left+10*time.Second)
		if err != nil {
			return desc, err
		}
		if a.status != http.StatusOK {
			return desc, fmt.Errorf("control API GET /_mock/%s: %d %s", what, a.status, clip(a.body))
		}
		v, _ := decodeJSON(a.body)
		items, _ := jsonpath.Lookup(v, key)
		list, _ := items.([]any)
		if len(list) >= least {
			return fmt.Sprintf("%s → %d", desc, len(list)), r.check(st, a, true, nil)
		}
		if time.Now().After(deadline) {
			return desc, fmt.Errorf("waited %s for at least %d %s matching %s, found %d\nanswer: %s",
				timeout, least, key, orAll(shown), len(list), clip(a.body))
		}
		select { // a target that does not wait is asked again, not hammered
		case <-time.After(100 * time.Millisecond):
		case <-r.ctx.Done():
			return desc, r.ctx.Err()
		}
	}
}

func orAll(filters []string) string {
	if len(filters) == 0 {
		return "anything"
	}
	return strings.Join(filters, ", ")
}
