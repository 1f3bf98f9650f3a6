// Package proxy is the validating reverse proxy behind `equalture-mock proxy`: an ATS points at it
// instead of the Equalture service, and it forwards every exchange unchanged while judging it
// against openapi.yaml with the mock's own code — routing and request validation through
// internal/dispatch, answers through spec.ValidateResponse (as apiclient judges the suite's), callbacks
// through spec.ValidateCallback. Violations are logged, kept in a journal served under the control
// API's /_mock/journal, counted per operation and reported as JSON or JUnit.
//
// With a relay URL it also relays results callbacks: the callback_url of createApplication is
// rewritten to an endpoint of the proxy (the only change it ever makes to a body), and each PUT the
// target sends there is validated and forwarded unchanged to the original callback_url, whose
// answer goes back to the target.
package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/control"
	"github.com/equalture/equalture-mock/internal/coverage"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/vendorapi"
)

// DefaultMaxBodyBytes limits request bodies (and relayed callbacks) when Options say nothing.
const DefaultMaxBodyBytes = 1 << 20

// maxValidated is the largest answer the proxy validates; a longer one is streamed through
// unjudged, with a warning.
const maxValidated = 4 << 20

// journalCapture is how much of each answer the journal keeps (as the mock's does).
const journalCapture = 64 << 10

// Options configure a Proxy.
type Options struct {
	// Target is the service to forward to: an absolute http(s) URL, optionally with a base path.
	Target string
	// Contract is openapi.yaml; ControlContract is control-openapi.yaml, whose journal operations the
	// proxy serves.
	Contract, ControlContract *spec.Spec
	// Journal keeps the exchanges (journal.New(0, 0) when nil).
	Journal *journal.Journal
	// Clock stamps journal entries (a running clock when nil).
	Clock clock.Clock
	// MaxBodyBytes limits request and callback bodies: 413 beyond, nothing forwarded.
	MaxBodyBytes int64
	// RelayURL, when set, turns the callback relay on: the base URL at which the target reaches
	// this proxy (callbacks come to RelayURL/_relay/…).
	RelayURL string
	// RelaySecret signs relay URLs, so the relay forwards only to callback_urls that went through
	// the proxy (random when empty: relay URLs then die with the process).
	RelaySecret []byte
	// StrictRequests counts requests that break the contract as violations; by default they are
	// noted and only the target's handling of them is judged (a documented 4xx is fine, a 2xx is a
	// violation), so a client may send invalid requests on purpose.
	StrictRequests bool
	// RecordFixtures makes the proxy record what the account shows of itself (clients, jobs,
	// the traits its results name; never a secret), for WriteFixtures.
	RecordFixtures bool
	// AdminToken, when set, guards the proxy's control API (/_mock: its journal, and what it
	// forwards to a mock behind it) like the mock's: "Authorization: Bearer <token>" on every
	// request, wrong tokens backing off per client address. Forwarded requests keep their
	// Authorization, so a mock behind the proxy with an admin token wants the same one.
	AdminToken string
	// Transport sends requests to the target and to callback URLs (a clone of
	// http.DefaultTransport when nil).
	Transport http.RoundTripper
	Logger    *slog.Logger
}

// Proxy is the validating reverse proxy.
type Proxy struct {
	opts     Options
	log      *slog.Logger
	vendor   *dispatch.Dispatcher // the vendor API: every operation forwarded and judged
	control  *dispatch.Dispatcher // /_mock: the journal served here, the rest forwarded
	upstream *httputil.ReverseProxy
	relay    *relay // nil when off
	stats    *stats
	// lc and clc are the vendor's and the control API's lifecycle rules (nil when the contract
	// states none); schemes and kinds the security scheme each operation asks for first, and
	// its kind ("basic", "bearer").
	lc, clc   *spec.Lifecycle
	schemes   map[string]string
	kinds     map[string]string
	seq       atomic.Int64 // numbers the exchanges, in the order they arrive
	mu        sync.Mutex   // guards model and targetNow
	model     *model
	targetNow time.Time // the target's clock as its control API last said

	coverage    *coverage.Recorder // what the traffic met of the contract
	recording   *recording         // nil unless RecordFixtures (guarded by mu)
	sugMu       sync.Mutex
	suggestions map[string]*suggestion // for --suggest, by place in the contract

	busyMu sync.Mutex
	busy   int           // exchanges in flight (not yet judged)
	idle   chan struct{} // closed when busy drops to 0
}

var _ http.Handler = (*Proxy)(nil)

// ParseTarget checks a target URL: absolute http(s) with a host.
func ParseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL (like https://api.example.com)", raw)
	}
	return u, nil
}

// New builds a proxy.
func New(o Options) (*Proxy, error) {
	if o.Contract == nil || o.ControlContract == nil {
		return nil, errors.New("proxy: no contract")
	}
	target, err := ParseTarget(o.Target)
	if err != nil {
		return nil, fmt.Errorf("proxy: target %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Journal == nil {
		o.Journal = journal.New(0, 0)
	}
	if o.Clock == nil {
		o.Clock = clock.NewVirtual()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	p := &Proxy{opts: o, log: o.Logger, stats: newStats(o.Target, o.StrictRequests),
		schemes: o.Contract.SecuritySchemes(), kinds: schemeKinds(o.Contract), suggestions: make(map[string]*suggestion),
		coverage: coverage.New(o.Contract)}
	if lc := o.Contract.Lifecycle(); len(lc.States) > 0 {
		p.lc = lc
	}
	p.clc = o.ControlContract.Lifecycle()
	ttl, _ := o.Contract.TokenTTL()
	p.model = newModel(p.lc, ttl)
	if o.RecordFixtures {
		p.recording = newRecording()
	}
	p.upstream = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			keepForwarded(pr)
		},
		Transport:      o.Transport,
		FlushInterval:  -1, // stream: every write reaches the client at once
		ModifyResponse: capture,
		ErrorHandler:   p.upstreamError,
		ErrorLog:       slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
	}
	if o.RelayURL != "" {
		if p.relay, err = newRelay(p, o.RelayURL, o.RelaySecret); err != nil {
			return nil, err
		}
	}
	handlers := make(map[string]dispatch.Handler)
	for id := range o.Contract.Operations() {
		handlers[id] = p.forward
	}
	if p.vendor, err = dispatch.New(dispatch.Options{
		Spec:          o.Contract,
		Handlers:      handlers,
		Fallback:      p.passThrough,
		ReportInvalid: true,
		Middleware:    []dispatch.Middleware{vendorapi.Lenient}, // judge requests as the service takes them
		MaxBodyBytes:  o.MaxBodyBytes,
		Authenticate:  presence(o.Contract),
		Identify:      auth.Identify,
		Observers:     []dispatch.Observer{dispatch.LogRequests(o.Logger), p.observe, o.Journal.Observer(o.Clock)},
		CaptureBytes:  journalCapture,
		Logger:        o.Logger,
	}); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if p.control, err = dispatch.New(dispatch.Options{
		Spec: o.ControlContract,
		Handlers: map[string]dispatch.Handler{
			"queryJournal":  control.QueryJournal(o.Journal, o.Logger),
			"clearJournal":  control.ClearJournal(o.Journal),
			"getCoverage":   control.GetCoverage(p.coverage),
			"resetCoverage": control.ResetCoverage(p.coverage),
		},
		Fallback:     p.forwardControl,
		Middleware:   []dispatch.Middleware{control.RequireAdmin(auth.NewAdmin(o.AdminToken, o.Clock))},
		MaxBodyBytes: o.MaxBodyBytes,
		Logger:       o.Logger,
	}); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return p, nil
}

// ServeHTTP sends relayed callbacks to the relay, the control API's paths to the journal (or on to
// the target), and everything else through the vendor API's pipeline.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.enter()
	defer p.leave()
	switch path := r.URL.Path; {
	case p.relay != nil && strings.HasPrefix(path, relayPrefix):
		p.relay.ServeHTTP(w, r)
	case strings.HasPrefix(path, control.Prefix):
		p.control.ServeHTTP(w, r)
	default:
		p.vendor.ServeHTTP(w, r)
	}
}

// enter and leave count the exchanges in flight: an answer reaches the client before the proxy
// has judged it, and Settled waits for the judging.
func (p *Proxy) enter() {
	p.busyMu.Lock()
	if p.busy == 0 {
		p.idle = make(chan struct{})
	}
	p.busy++
	p.busyMu.Unlock()
}

func (p *Proxy) leave() {
	p.busyMu.Lock()
	if p.busy--; p.busy == 0 {
		close(p.idle)
	}
	p.busyMu.Unlock()
}

// Settled returns once no exchange is in flight — every answer the proxy has given, and every
// callback it has relayed, judged and counted in the report — or when ctx is done.
func (p *Proxy) Settled(ctx context.Context) error {
	for {
		p.busyMu.Lock()
		if p.busy == 0 {
			p.busyMu.Unlock()
			return nil
		}
		idle := p.idle
		p.busyMu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// keepForwarded puts back the X-Forwarded-* headers ReverseProxy's Rewrite mode strips: the proxy
// adds none and keeps the client's.
func keepForwarded(pr *httputil.ProxyRequest) {
	for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
		if v, ok := pr.In.Header[h]; ok {
			pr.Out.Header[h] = v
		}
	}
}

// schemeKinds maps the contract's security schemes to their kind ("basic", "bearer").
func schemeKinds(sp *spec.Spec) map[string]string {
	kinds := make(map[string]string)
	for name, ref := range sp.Doc.Components.SecuritySchemes {
		if ref != nil && ref.Value != nil {
			kinds[name] = strings.ToLower(ref.Value.Scheme)
		}
	}
	return kinds
}

// presence is the proxy's authentication: it cannot verify credentials, only that the request
// carries one of the kind the operation's security scheme asks for; the target judges the rest.
func presence(sp *spec.Spec) dispatch.Authenticator {
	kinds := schemeKinds(sp)
	return func(r *http.Request, scheme string) (string, error) {
		switch kinds[scheme] {
		case "basic":
			if _, _, ok := r.BasicAuth(); !ok {
				return "", apierr.New(apierr.Unauthorized, "no Basic credentials (security scheme %s)", scheme)
			}
		case "bearer":
			if _, ok := auth.BearerToken(r.Header.Get("Authorization")); !ok {
				return "", apierr.New(apierr.Unauthorized, "no Bearer token (security scheme %s)", scheme)
			}
		}
		return auth.Identify(r), nil
	}
}

// exchange is what the proxy learns of one forwarded answer.
type exchange struct {
	in arrival
	// answered is the number of the last exchange that had arrived when the answer's headers
	// came: what it says was so before every exchange numbered higher arrived.
	answered  int64
	seqs      *atomic.Int64
	err       error // the target did not answer
	status    int
	header    http.Header
	body      bytes.Buffer // the answer, up to maxValidated
	done      bool         // the answer was read to its end
	truncated bool         // it was longer than maxValidated
	readErr   error        // reading the answer from the target failed
	// nonce is the relay's, when a URL of the request was relayed.
	nonce string
	// restore, when set, rewrites the answer for the client (the relay's URLs back to the
	// client's); the answer is then read whole before it goes on, and judged as the target sent it.
	restore func([]byte) []byte
	// learn, when set, learns from the whole answer before it goes on to the client (what the
	// client can act on next must be known first); learned says it did.
	learn   func(body []byte)
	learned bool
}

type exchangeKey struct{}

// capture is the upstream ModifyResponse: it notes the status and headers and tees the body as it
// streams to the client.
func capture(resp *http.Response) error {
	ex, _ := resp.Request.Context().Value(exchangeKey{}).(*exchange)
	if ex == nil {
		return nil
	}
	ex.status, ex.header = resp.StatusCode, resp.Header.Clone()
	if ex.seqs != nil {
		ex.answered = ex.seqs.Load()
	}
	if (ex.restore != nil || ex.learn != nil) && isIdentity(resp.Header.Get("Content-Encoding")) {
		return restoreBody(resp, ex)
	}
	resp.Body = &tee{ReadCloser: resp.Body, ex: ex}
	return nil
}

func isIdentity(enc string) bool { return enc == "" || strings.EqualFold(enc, "identity") }

// restoreBody reads an answer whole (up to maxValidated: a longer one streams on unchanged and
// unjudged), keeps it for judging, learns from it and sends on what ex.restore makes of it.
func restoreBody(resp *http.Response, ex *exchange) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxValidated+1))
	if err != nil {
		ex.readErr = err
		return err
	}
	if len(b) > maxValidated {
		ex.truncated = true
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
		return nil
	}
	resp.Body.Close()
	ex.body.Write(b)
	ex.done = true
	if ex.learn != nil {
		ex.learn(b)
		ex.learned = true
	}
	out := b
	if ex.restore != nil {
		out = ex.restore(b)
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return nil
}

// tee copies what is read from an answer into its exchange, up to maxValidated.
type tee struct {
	io.ReadCloser
	ex *exchange
}

func (t *tee) Read(b []byte) (int, error) {
	n, err := t.ReadCloser.Read(b)
	room := maxValidated - t.ex.body.Len()
	t.ex.body.Write(b[:min(n, max(room, 0))])
	t.ex.truncated = t.ex.truncated || n > room
	switch {
	case errors.Is(err, io.EOF):
		t.ex.done = true
	case err != nil:
		t.ex.readErr = err
	}
	return n, err
}

// upstreamError answers 502 when the target could not be reached (and says nothing when the client
// went away first).
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	if ex, _ := r.Context().Value(exchangeKey{}).(*exchange); ex != nil {
		ex.err = err
	}
	apierr.WriteJSON(w, http.StatusBadGateway, map[string]any{"errors": map[string]any{"detail": "Bad Gateway: the target did not answer: " + err.Error()}})
}

// send forwards r with body to the target, noting what came back in ex; the answer streams to w.
func (p *Proxy) send(w http.ResponseWriter, r *http.Request, body []byte, ex *exchange) {
	ex.seqs = &p.seq
	out := r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex))
	if len(body) > 0 {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		out.Header = r.Header.Clone()
		out.Header.Set("Content-Length", strconv.Itoa(len(body)))
	} else {
		out.Body = http.NoBody
	}
	p.upstream.ServeHTTP(w, out)
}

// forward is the handler of every operation: the request goes to the target as the client sent
// it (but for a relayed callback_url), the answer streams back, then the exchange is judged.
func (p *Proxy) forward(w http.ResponseWriter, c *dispatch.Call) error {
	body := c.Body
	ex := &exchange{in: arrival{seq: p.seq.Add(1), at: p.opts.Clock.Now()}}
	if p.relay != nil {
		if _, ok := relayedURLs[c.Op]; ok {
			body, ex.nonce = p.relay.rewrite(c.Op, body)
		}
		if c.Op == webhookOf || c.Op == listWebhooksOp {
			ex.restore = p.relay.restore // the client sees the URL it registered
		}
	}
	p.learnFirst(c, ex)
	// Deferred: an answer that breaks off midway makes ReverseProxy panic (http.ErrAbortHandler).
	defer p.judge(c, ex)
	p.send(w, c.Request, body, ex)
	return nil
}

// operation names a call for messages: "createApplication (POST /connect_ats/applications)".
func operation(c *dispatch.Call) string {
	if c.Op == "" {
		return c.Request.Method + " " + c.Request.URL.Path
	}
	return fmt.Sprintf("%s (%s %s)", c.Op, c.Request.Method, c.Route.Path)
}

// judge notes how the exchange broke the contract: the request, the answer, and an invalid request
// the target accepted.
func (p *Proxy) judge(c *dispatch.Call, ex *exchange) {
	op := operation(c)
	if c.Invalid != nil {
		c.Violate(dispatch.KindRequest, "%s: the request breaks the contract: %s", op, Problem(c.Invalid))
	}
	switch {
	case ex.err != nil:
		c.Violate(dispatch.KindUpstream, "%s: the target did not answer: %v", op, ex.err)
		return
	case ex.status == 0: // the client went away before the target answered
		return
	case ex.readErr != nil:
		c.Violate(dispatch.KindUpstream, "%s: the target's answer broke off: %v", op, ex.readErr)
		return
	}
	if c.Invalid != nil && ex.status >= 200 && ex.status < 300 {
		c.Violate(dispatch.KindAccepted, "%s answered %d to a request the contract refuses (%s)", op, ex.status, Problem(c.Invalid))
	}
	body, ok := p.decoded(ex)
	defer p.behave(c, ex, body, ok)
	if !ok {
		return
	}
	err := p.opts.Contract.ValidateResponse(c.Request.Context(), c.Request, ex.status, ex.header, body)
	var re *spec.ResponseError
	if !errors.As(err, &re) {
		if err != nil {
			c.Violate(dispatch.KindResponse, "%s; body: %s", err.Error(), clip(body))
		}
		return
	}
	broken, guessed := re.Split()
	if broken != nil {
		c.Violations = append(c.Violations, dispatch.Violation{Kind: dispatch.KindResponse,
			Message: fmt.Sprintf("%s; body: %s", broken.Error(), clip(body)), Contract: broken.Problems[0].Contract})
	}
	if guessed != nil {
		for _, pr := range guessed.Problems {
			c.Violations = append(c.Violations, dispatch.Violation{Kind: dispatch.KindInferred,
				Message:  fmt.Sprintf("%s answered %d: %s; body: %s", operation(c), ex.status, pr.Guess(), clip(body)),
				Contract: pr.Contract})
		}
		p.suggest(c, ex.status, guessed)
	}
}

// decoded is the answer's body as the contract describes it (gunzipped when it came gzipped), or
// false when it cannot be judged: too long, or in an encoding the proxy does not read.
func (p *Proxy) decoded(ex *exchange) ([]byte, bool) {
	switch {
	case ex.truncated:
		p.log.Warn("answer not validated: longer than the proxy reads", "limit_bytes", maxValidated)
		return nil, false
	case !ex.done: // the client went away: the rest was never read
		return nil, false
	}
	switch enc := strings.ToLower(ex.header.Get("Content-Encoding")); enc {
	case "", "identity":
		return ex.body.Bytes(), true
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(ex.body.Bytes()))
		if err != nil {
			p.log.Warn("answer not validated: bad gzip", "err", err)
			return nil, false
		}
		b, err := io.ReadAll(io.LimitReader(zr, maxValidated))
		if err != nil {
			p.log.Warn("answer not validated: bad gzip", "err", err)
			return nil, false
		}
		return b, true
	default:
		p.log.Warn("answer not validated: unknown Content-Encoding", "encoding", enc)
		return nil, false
	}
}

// passThrough forwards what the contract has no operation for, unvalidated, with a warning.
func (p *Proxy) passThrough(w http.ResponseWriter, c *dispatch.Call) error {
	p.log.Warn("not in the contract: passed through unvalidated", "method", c.Request.Method, "path", c.Request.URL.Path)
	ex := &exchange{}
	p.send(w, c.Request, c.Body, ex)
	if ex.err != nil {
		c.Violate(dispatch.KindUpstream, "%s: the target did not answer: %v", operation(c), ex.err)
	}
	return nil
}

// forwardControl forwards the control API's requests the proxy does not serve itself (to a mock
// behind it; the real service has none).
func (p *Proxy) forwardControl(w http.ResponseWriter, c *dispatch.Call) error {
	p.log.Debug("control API request passed through", "method", c.Request.Method, "path", c.Request.URL.Path)
	ex := &exchange{in: arrival{seq: p.seq.Add(1), at: p.opts.Clock.Now()}}
	moving := p.moving(c)
	defer p.behaveControl(c, ex, moving)
	p.send(w, c.Request, c.Body, ex)
	return nil
}

// observe logs the exchange's violations and counts it (and what it met of the contract).
func (p *Proxy) observe(c *dispatch.Call, res dispatch.Result) {
	name := ""
	if c.Op != "" {
		name = fmt.Sprintf("%s (%s %s)", c.Op, c.Request.Method, c.Route.Path)
		p.coverage.Exchange(c.Op, res.Status, p.reasons(c, res)...)
	}
	p.record(name, res.Status, c.Violations)
}

// record counts one exchange of operation name ("" for one the contract lacks) and logs its
// violations.
func (p *Proxy) record(name string, status int, vs []dispatch.Violation) {
	p.stats.add(name, vs)
	for _, v := range vs {
		level := slog.LevelWarn
		msg := "contract violation"
		if !counts(v.Kind, p.stats.strict) {
			level, msg = slog.LevelInfo, "invalid request (noted, not counted: StrictRequests is off)"
		}
		p.log.Log(context.Background(), level, msg, "kind", v.Kind, "status", status, "problem", v.Message)
	}
}

// Problem renders a request error (an *apierr.Error, as the mock would answer it) in one line:
// "field "applicant_details.email": can't be blank".
func Problem(err error) string {
	var e *apierr.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	var parts []string
	if e.Detail != "" && (len(e.Fields) == 0 || e.Detail != http.StatusText(apierr.Status(e.Code))) {
		parts = append(parts, e.Detail)
	}
	for _, f := range e.FieldNames() {
		parts = append(parts, fmt.Sprintf("field %q %s", f, strings.Join(e.Fields[f], ", ")))
	}
	return fmt.Sprintf("%d %s", apierr.Status(e.Code), strings.Join(parts, "; "))
}

// clip cuts a body for a message, secrets in it replaced by hints (a token answer's access_token).
func clip(b []byte) string { return clipN(b, 300) }
