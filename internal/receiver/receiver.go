// Package receiver is a callback endpoint for tests: it answers each path from a plan (statuses in
// turn, a delay, or dropping the connection), records every callback and checks it against the
// contract — a results PUT against createApplication's applicationResults, a webhook event (a POST
// whose JSON has a type) against registerWebhook's callback of that name, and its Standard
// Webhooks signature when it knows the path's secret. The contract suite and the scenario runner
// both use it.
package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/spec"
)

// The operations whose callbacks the receiver gets: the results, and the webhook events.
const (
	ResultsOperation = "createApplication"
	ResultsCallback  = "applicationResults"
	WebhookOperation = "registerWebhook"
)

// Callback is a request the receiver got.
type Callback struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	// Answer is what the receiver answered (Down: it dropped the connection).
	Answer Answer
	// Event is a webhook event's type ("" for a results callback).
	Event string
	// Violation says how the callback breaks the contract ("" when it honours it): its method,
	// headers or payload, or a signature that does not verify with the path's secret.
	Violation string
}

// Envelope decodes a webhook event's body (zero for anything else).
func (cb Callback) Envelope() delivery.Envelope {
	var e delivery.Envelope
	_ = json.Unmarshal(cb.Body, &e)
	return e
}

// Verify checks the callback's webhook signature (Standard Webhooks) with a webhook secret.
func (cb Callback) Verify(secret string) error {
	_, err := delivery.Verify(secret, cb.Header, cb.Body)
	return err
}

// Answer is a status the receiver answers, or Down (0): drop the connection without answering.
type Answer int

// Down is the Answer that drops the connection.
const Down Answer = 0

func (a Answer) String() string {
	if a == Down {
		return "down"
	}
	return strconv.Itoa(int(a))
}

// Receiver is a callback endpoint. Each path answers from its plan (200 by default)
// and every callback is checked against the contract's callback schema.
type Receiver struct {
	// URL is how the target reaches the receiver.
	URL string

	contract *spec.Spec
	base     string // the path of URL, which a proxy in front may or may not strip
	srv      *http.Server
	addr     string
	done     chan struct{}

	mu       sync.Mutex
	plans    map[string]plan
	secrets  map[string]string // path → the webhook secret its events are signed with ("": any path)
	fallback plan              // for paths without a plan of their own
	got      map[string][]Callback
	arrived  chan struct{} // closed and replaced on every callback
	watchers []func(Callback)
}

type plan struct {
	respond []Answer
	delay   time.Duration
}

// New listens on addr; publicURL (default http://<the address listened on>) is how the
// target reaches it.
func New(addr, publicURL string, contract *spec.Spec) (*Receiver, error) {
	if _, err := contract.CallbackSchema(ResultsOperation, ResultsCallback); err != nil {
		return nil, err
	}
	if len(contract.Callbacks(WebhookOperation)) == 0 {
		return nil, fmt.Errorf("receiver: the contract has no webhook events (callbacks of %s)", WebhookOperation)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		_ = ln.Close()
		return nil, fmt.Errorf("receiver URL %q is not an absolute URL", publicURL)
	}
	r := &Receiver{
		URL: strings.TrimRight(publicURL, "/"), base: strings.TrimRight(u.Path, "/"), contract: contract, done: make(chan struct{}),
		addr: ln.Addr().String(), plans: map[string]plan{}, secrets: map[string]string{}, got: map[string][]Callback{}, arrived: make(chan struct{}),
	}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(r.done)
		_ = r.srv.Serve(ln)
	}()
	return r, nil
}

// Addr is the address the receiver listens on.
func (r *Receiver) Addr() string { return r.addr }

// Close stops the receiver.
func (r *Receiver) Close() error {
	err := r.srv.Close()
	<-r.done
	return err
}

// Set makes path answer these in turn (the last one repeating; 200 when none), each after delay.
func (r *Receiver) Set(path string, respond []Answer, delay time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plans[path] = plan{respond: respond, delay: delay}
}

// SetDefault makes every path without a plan of its own answer these in turn, as Set does.
func (r *Receiver) SetDefault(respond []Answer, delay time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fallback = plan{respond: respond, delay: delay}
}

// SetSecret makes the receiver verify the signature of every event to path with secret (a
// Standard Webhooks "whsec_…" secret); one that does not verify is a violation.
func (r *Receiver) SetSecret(path, secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[path] = secret
}

// SetDefaultSecret is SetSecret for every path without a secret of its own.
func (r *Receiver) SetDefaultSecret(secret string) { r.SetSecret("", secret) }

// Watch calls fn with every callback from now on, once recorded and checked.
func (r *Receiver) Watch(fn func(Callback)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.watchers = append(r.watchers, fn)
}

// ServeHTTP records a callback, checks it and answers from the path's plan.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 4<<20))
	path := req.URL.Path
	if r.base != "" && strings.HasPrefix(path, r.base+"/") {
		path = strings.TrimPrefix(path, r.base)
	}
	cb := Callback{Method: req.Method, Path: path, Header: req.Header.Clone(), Body: body, Answer: http.StatusOK}
	r.mu.Lock()
	secret, ok := r.secrets[path]
	if !ok {
		secret = r.secrets[""]
	}
	r.mu.Unlock()
	cb.Event, cb.Violation = r.judge(req, body, secret)
	r.mu.Lock()
	p, ok := r.plans[path]
	if !ok {
		p = r.fallback
	}
	if len(p.respond) > 0 {
		cb.Answer = p.respond[min(len(r.got[path]), len(p.respond)-1)]
	}
	r.got[path] = append(r.got[path], cb)
	close(r.arrived)
	r.arrived = make(chan struct{})
	watchers := r.watchers
	r.mu.Unlock()
	for _, fn := range watchers {
		fn(cb)
	}
	if p.delay > 0 {
		t := time.NewTimer(p.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-req.Context().Done():
			return
		}
	}
	if cb.Answer == Down {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection unanswered
	}
	w.WriteHeader(int(cb.Answer))
}

// judge says which event a callback is ("" for results) and how it breaks the contract (method,
// headers, Content-Type, payload schema; the signature, when secret is set).
func (r *Receiver) judge(req *http.Request, body []byte, secret string) (event, violation string) {
	if _, ok := spec.EventType(req.Method, body); !ok {
		if err := r.contract.ValidateCallback(ResultsOperation, ResultsCallback, req.Method, req.Header, body); err != nil {
			return "", err.Error()
		}
		return "", ""
	}
	event, err := r.contract.ValidateEvent(WebhookOperation, req.Method, req.Header, body)
	if err != nil {
		return event, err.Error()
	}
	if secret != "" {
		if _, err := delivery.Verify(secret, req.Header, body); err != nil {
			return event, "the signature does not verify with the webhook's secret: " + err.Error()
		}
	}
	return event, ""
}

// Wait returns the callbacks path has received once there are at least n, or what there is when
// ctx ends (with ctx's error).
func (r *Receiver) Wait(ctx context.Context, path string, n int) ([]Callback, error) {
	return r.WaitMatch(ctx, path, n, nil)
}

// WaitMatch is Wait counting only the callbacks match accepts (all when match is nil).
func (r *Receiver) WaitMatch(ctx context.Context, path string, n int, match func(Callback) bool) ([]Callback, error) {
	for {
		r.mu.Lock()
		got, arrived := append([]Callback(nil), r.got[path]...), r.arrived
		r.mu.Unlock()
		if match != nil {
			got = slices.DeleteFunc(got, func(cb Callback) bool { return !match(cb) })
		}
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
}

// Violations lists every callback received so far that broke the contract, sorted.
func (r *Receiver) Violations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for path, cbs := range r.got {
		for i, cb := range cbs {
			if cb.Violation != "" {
				out = append(out, fmt.Sprintf("%s %s (callback %d): %s", cb.Method, path, i+1, cb.Violation))
			}
		}
	}
	sort.Strings(out)
	return out
}

// Received returns every callback to a path under prefix.
func (r *Receiver) Received(prefix string) []Callback {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Callback
	for p, cbs := range r.got {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			out = append(out, cbs...)
		}
	}
	return out
}
