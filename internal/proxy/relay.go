package proxy

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/redact"
)

// relayPrefix is where relayed callbacks arrive: /_relay/<token>.
const relayPrefix = "/_relay/"

// What the relay relays: createApplication's results callback, and the events of the webhooks
// registerWebhook registers.
const (
	callbackOf      = "createApplication"
	resultsCallback = "applicationResults"
	webhookOf       = "registerWebhook"
	listWebhooksOp  = "listWebhooks"
)

// The kinds of relay URLs.
const (
	kindResults = 'r' // a callback_url: results PUTs
	kindWebhook = 'w' // a webhook url: event POSTs
)

// relayedURLs are the operations whose request body names a URL the relay stands in for: the
// field, and the kind of relay URL it gets.
var relayedURLs = map[string]struct {
	field string
	kind  byte
}{
	callbackOf: {"callback_url", kindResults},
	webhookOf:  {"url", kindWebhook},
}

// nonceLen is the length of a relay URL's nonce (8 random bytes, base64url).
const nonceLen = 11

// relay rewrites the URLs the target calls back — callback_url of createApplication, url of
// registerWebhook — to itself, and relays what the target sends there to the URLs they stand for.
type relay struct {
	p      *Proxy
	base   string // the public URL of the proxy, without a trailing slash
	secret []byte
	// fields are the contract's schemas of the rewritten URLs, by operation: a URL is rewritten
	// only when the original and the relay URL both satisfy it, so the rewrite never turns an
	// invalid request valid or a valid one invalid.
	fields map[string]*openapi3.Schema
	// opIDs are the callbacks' operationIds, for the journal: the results callback's, and each
	// event's by its type.
	opIDs map[string]string
	rp    *httputil.ReverseProxy
}

// target is what a relay URL stands for.
type target struct {
	kind  byte
	url   *url.URL
	nonce string // "" in a relay URL made before nonces (results only)
}

func newRelay(p *Proxy, publicURL string, secret []byte) (*relay, error) {
	if _, err := ParseTarget(publicURL); err != nil {
		return nil, fmt.Errorf("proxy: relay public URL %w", err)
	}
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("proxy: relay secret: %w", err)
		}
	}
	r := &relay{p: p, base: strings.TrimRight(publicURL, "/"), secret: secret,
		fields: make(map[string]*openapi3.Schema), opIDs: make(map[string]string)}
	ops := p.opts.Contract.Operations()
	for op, relayed := range relayedURLs {
		field := relayed.field
		o, ok := ops[op]
		if !ok || o.RequestBody == nil || o.RequestBody.Value == nil {
			return nil, fmt.Errorf("proxy: the contract has no %s with a body", op)
		}
		mt := o.RequestBody.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || mt.Schema.Value.Properties[field] == nil {
			return nil, fmt.Errorf("proxy: %s has no %s", op, field)
		}
		r.fields[op] = mt.Schema.Value.Properties[field].Value
		for name, cb := range o.Callbacks {
			for _, item := range cb.Value.Map() {
				for _, cop := range item.Operations() {
					r.opIDs[name] = cop.OperationID
				}
			}
		}
	}
	if _, err := p.opts.Contract.CallbackSchema(callbackOf, resultsCallback); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	r.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			orig, _ := pr.In.Context().Value(originKey{}).(*url.URL)
			u := *orig
			pr.Out.URL, pr.Out.Host = &u, ""
			keepForwarded(pr)
		},
		Transport:      p.opts.Transport,
		FlushInterval:  -1,
		ModifyResponse: capture,
		// The ATS did not answer: neither does the relay, so the target sees what it would have.
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if ex, _ := r.Context().Value(exchangeKey{}).(*exchange); ex != nil {
				ex.err = err
			}
			panic(http.ErrAbortHandler)
		},
	}
	return r, nil
}

type originKey struct{}

// sign makes the relay token of a URL of kind: its kind, nonce and URL, and their MAC, base64url.
func (r *relay) sign(kind byte, nonce, u string) string {
	payload := string(kind) + nonce + u
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(r.mac(payload))
}

func (r *relay) mac(payload string) []byte {
	m := hmac.New(sha256.New, r.secret)
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}

// open returns what a token stands for, or false for a token this relay did not make.
func (r *relay) open(token string) (target, bool) {
	enc, sig, ok := strings.Cut(token, ".")
	if !ok {
		return target{}, false
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(enc)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(got, r.mac(string(raw))) {
		return target{}, false
	}
	t := target{kind: kindResults}
	rest := string(raw)
	if len(rest) > nonceLen && (rest[0] == kindResults || rest[0] == kindWebhook) {
		t.kind, t.nonce, rest = rest[0], rest[1:1+nonceLen], rest[1+nonceLen:]
	}
	u, err := url.Parse(rest)
	if err != nil {
		return target{}, false
	}
	t.url = u
	return t, true
}

// relayURL returns the relay URL standing for u, or false when rawURL is not a URL.
func (r *relay) unrelay(rawURL string) (string, bool) {
	rest, ok := strings.CutPrefix(rawURL, r.base+relayPrefix)
	if !ok {
		return "", false
	}
	t, ok := r.open(rest)
	if !ok {
		return "", false
	}
	return t.url.String(), true
}

func newNonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// rewrite replaces each top-level URL field of a request body of op (relayedURLs: callback_url of
// createApplication, url of registerWebhook) with a relay URL of its kind, leaving every other
// byte as the client sent it, and returns the relay's nonce ("" when nothing was rewritten). A
// body it cannot read, or a URL the contract refuses, stays as it is (the target refuses it then,
// as it would have).
func (r *relay) rewrite(op string, body []byte) ([]byte, string) {
	field, kind := relayedURLs[op].field, relayedURLs[op].kind
	spans, err := valueSpans(body, field)
	if err != nil || len(spans) == 0 {
		return body, ""
	}
	out := make([]byte, 0, len(body)+256)
	last, nonce := 0, ""
	for _, sp := range spans {
		var orig string
		if json.Unmarshal(body[sp.start:sp.end], &orig) != nil || r.p.opts.Contract.ValidateValue(r.fields[op], orig) != nil {
			continue
		}
		if nonce == "" {
			nonce = newNonce()
		}
		relayed := r.base + relayPrefix + r.sign(kind, nonce, orig)
		if err := r.p.opts.Contract.ValidateValue(r.fields[op], relayed); err != nil {
			r.p.log.Warn(field+" not relayed: the relay URL would break the contract", field, redact.URL(orig), "problem", err)
			continue
		}
		enc, _ := apierr.MarshalJSON(relayed) // a string always encodes
		out = append(append(out, body[last:sp.start]...), bytes.TrimSpace(enc)...)
		last = sp.end
	}
	return append(out, body[last:]...), nonce
}

// restore puts back the client's URL wherever an answer (a webhook, or a list of them) shows one
// of the relay's: the client sees the URL it registered. Anything else stays byte for byte.
func (r *relay) restore(body []byte) []byte {
	var spans []span
	switch trimmed := bytes.TrimSpace(body); {
	case len(trimmed) > 0 && trimmed[0] == '{':
		spans, _ = valueSpans(body, "url")
	case len(trimmed) > 0 && trimmed[0] == '[':
		spans, _ = elementSpans(body, "url")
	}
	out := make([]byte, 0, len(body))
	last := 0
	for _, sp := range spans {
		var shown string
		if json.Unmarshal(body[sp.start:sp.end], &shown) != nil {
			continue
		}
		orig, ok := r.unrelay(shown)
		if !ok {
			continue
		}
		enc, _ := apierr.MarshalJSON(orig)
		out = append(append(out, body[last:sp.start]...), bytes.TrimSpace(enc)...)
		last = sp.end
	}
	return append(out, body[last:]...)
}

type span struct{ start, end int }

// valueSpans finds the bytes of every value of key in the JSON object body.
func valueSpans(body []byte, key string) ([]span, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	return objectSpans(dec, key)
}

// objectSpans reads the rest of an object whose '{' dec has read, finding the values of key.
func objectSpans(dec *json.Decoder, key string) ([]span, error) {
	var out []span
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if k == key {
			end := int(dec.InputOffset())
			out = append(out, span{end - len(v), end})
		}
	}
	_, err := dec.Token() // '}'
	return out, err
}

// elementSpans finds the bytes of every value of key in the objects of the JSON array body.
func elementSpans(body []byte, key string) ([]span, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, errors.New("not a JSON array")
	}
	var out []span
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if tok != json.Delim('{') {
			continue // a scalar: nothing to restore
		}
		spans, err := objectSpans(dec, key)
		if err != nil {
			return nil, err
		}
		out = append(out, spans...)
	}
	return out, nil
}

// ServeHTTP judges what the target sends to a relay URL — a results callback or a webhook event —
// and forwards it, unchanged, to the URL it stands for; the ATS's answer goes back to the target.
func (r *relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	p := r.p
	t, ok := r.open(strings.TrimPrefix(req.URL.Path, relayPrefix))
	if !ok {
		p.log.Warn("relay: a callback to a URL this proxy did not hand out", "path", req.URL.Path)
		apierr.Write(w, p.log, apierr.New(apierr.NotFound, "Not Found: no relayed callback_url here (was it handed out by another proxy run? set --relay-secret to keep them across restarts)"))
		return
	}
	in := arrival{seq: p.seq.Add(1), at: p.opts.Clock.Now()}
	orig := t.url
	entry := journal.Entry{Method: req.Method, Path: orig.Path, Query: orig.RawQuery}
	var (
		ex       = &exchange{}
		rec      = &statusWriter{ResponseWriter: w}
		name     string
		callback = resultsCallback // for coverage: the results, or the event's type
	)
	defer func() {
		entry.Time, entry.Status = in.at, rec.status
		entry.ResponseBody = journal.Body(ex.body.Bytes()[:min(ex.body.Len(), journalCapture)])
		entry.DurationMS = float64(p.opts.Clock.Now().Sub(in.at).Microseconds()) / 1000
		p.opts.Journal.Record(entry)
		p.record(name, rec.status, entry.Violations)
		p.callbackOutcome(callback, rec.status, ex.err)
		if ex.err != nil {
			p.log.Warn("relay: the URL did not answer", "url", orig.Redacted(), "err", ex.err)
		}
	}()
	body, err := io.ReadAll(http.MaxBytesReader(rec, req.Body, p.opts.MaxBodyBytes))
	entry.RequestBody = body
	name = fmt.Sprintf("%s (%s callback of %s)", resultsCallback, req.Method, callbackOf)
	entry.OperationID = r.opIDs[resultsCallback]
	if err != nil {
		apierr.Write(rec, p.log, apierr.New(apierr.TooLarge, "Callback body too large or unreadable: %v", err))
		return
	}
	switch t.kind {
	case kindWebhook:
		event, err := p.opts.Contract.ValidateEvent(webhookOf, req.Method, req.Header, body)
		callback = event
		name = fmt.Sprintf("%s (%s event of %s)", eventName(event), req.Method, webhookOf)
		entry.OperationID = r.opIDs[event]
		if err != nil {
			entry.Violations = append(entry.Violations, dispatch.Violation{Kind: dispatch.KindCallback,
				Message: fmt.Sprintf("%s to %s: %v; body: %s", name, orig.Redacted(), err, clip(body))})
		}
		entry.Violations = append(entry.Violations, p.behaveEvent(t, event, req.Header, body, in)...)
	default:
		if err := p.opts.Contract.ValidateCallback(callbackOf, resultsCallback, req.Method, req.Header, body); err != nil {
			entry.Violations = append(entry.Violations, dispatch.Violation{Kind: dispatch.KindCallback,
				Message: fmt.Sprintf("%s %s to %s: %v; body: %s", name, req.Method, orig.Redacted(), err, clip(body))})
		}
		entry.Violations = append(entry.Violations, p.behaveResults(t, body, in)...)
	}
	ctx := context.WithValue(context.WithValue(req.Context(), originKey{}, orig), exchangeKey{}, ex)
	out := req.WithContext(ctx)
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	r.rp.ServeHTTP(rec, out)
}

// eventName names an event in reports ("an event without a type" when it had none).
func eventName(event string) string {
	if event == "" {
		return "an event without a type"
	}
	return event
}

// verify checks an event's Standard Webhooks signature with its webhook's secret.
func verify(secret string, h http.Header, body []byte) error {
	_, err := delivery.Verify(secret, h, body)
	return err
}

// statusWriter notes the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController flush the streamed answer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
