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
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/redact"
)

// relayPrefix is where relayed callbacks arrive: /_relay/<token>.
const relayPrefix = "/_relay/"

// The callback the relay judges: createApplication's applicationResults.
const (
	callbackOf   = "createApplication"
	callbackName = "applicationResults"
)

// relay rewrites callback_urls to itself and relays the callbacks the target sends there.
type relay struct {
	p      *Proxy
	base   string // the public URL of the proxy, without a trailing slash
	secret []byte
	// field is the contract's schema of callback_url: a URL is rewritten only when the original
	// and the relay URL both satisfy it, so the rewrite never turns an invalid request valid or a
	// valid one invalid.
	field *openapi3.Schema
	// opID is the callback operation's operationId, for the journal.
	opID string
	rp   *httputil.ReverseProxy
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
	op, ok := p.opts.Contract.Operations()[callbackOf]
	if !ok || op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil, fmt.Errorf("proxy: the contract has no %s with a body", callbackOf)
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || mt.Schema.Value.Properties["callback_url"] == nil {
		return nil, fmt.Errorf("proxy: %s has no callback_url", callbackOf)
	}
	if _, err := p.opts.Contract.CallbackSchema(callbackOf, callbackName); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	r := &relay{p: p, base: strings.TrimRight(publicURL, "/"), secret: secret, field: mt.Schema.Value.Properties["callback_url"].Value, opID: callbackName}
	for _, item := range op.Callbacks[callbackName].Value.Map() {
		for _, cop := range item.Operations() {
			r.opID = cop.OperationID
		}
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

// sign makes the relay token of a callback URL: the URL and its MAC, base64url.
func (r *relay) sign(callbackURL string) string {
	mac := hmac.New(sha256.New, r.secret)
	mac.Write([]byte(callbackURL))
	return base64.RawURLEncoding.EncodeToString([]byte(callbackURL)) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// open returns the callback URL a token was made for, or false for a token this relay did not make.
func (r *relay) open(token string) (*url.URL, bool) {
	enc, sig, ok := strings.Cut(token, ".")
	if !ok {
		return nil, false
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(enc)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	mac := hmac.New(sha256.New, r.secret)
	mac.Write(raw)
	if !hmac.Equal(got, mac.Sum(nil)[:16]) {
		return nil, false
	}
	u, err := url.Parse(string(raw))
	return u, err == nil
}

// rewrite replaces each top-level callback_url of a createApplication body with its relay URL,
// leaving every other byte as the client sent it. A body it cannot read, or a callback_url the
// contract refuses, stays as it is (the target refuses it then, as it would have).
func (r *relay) rewrite(body []byte) []byte {
	spans, err := topLevelValues(body, "callback_url")
	if err != nil || len(spans) == 0 {
		return body
	}
	out := make([]byte, 0, len(body)+256)
	last := 0
	for _, sp := range spans {
		var orig string
		if json.Unmarshal(body[sp.start:sp.end], &orig) != nil || r.p.opts.Contract.ValidateValue(r.field, orig) != nil {
			continue
		}
		relayed := r.base + relayPrefix + r.sign(orig)
		if err := r.p.opts.Contract.ValidateValue(r.field, relayed); err != nil {
			r.p.log.Warn("callback_url not relayed: the relay URL would break the contract", "callback_url", redact.URL(orig), "problem", err)
			continue
		}
		enc, _ := apierr.MarshalJSON(relayed) // a string always encodes
		out = append(append(out, body[last:sp.start]...), bytes.TrimSpace(enc)...)
		last = sp.end
	}
	return append(out, body[last:]...)
}

type span struct{ start, end int }

// topLevelValues finds the bytes of every value of key in the JSON object body.
func topLevelValues(body []byte, key string) ([]span, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
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
	return out, nil
}

// ServeHTTP judges a callback the target sends to a relay URL and forwards it, unchanged, to the
// callback_url it stands for; the ATS's answer goes back to the target.
func (r *relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	p := r.p
	orig, ok := r.open(strings.TrimPrefix(req.URL.Path, relayPrefix))
	if !ok {
		p.log.Warn("relay: a callback to a URL this proxy did not hand out", "path", req.URL.Path)
		apierr.Write(w, p.log, apierr.New(apierr.NotFound, "Not Found: no relayed callback_url here (was it handed out by another proxy run? set --relay-secret to keep them across restarts)"))
		return
	}
	start := p.opts.Clock.Now()
	name := fmt.Sprintf("%s (%s callback of %s)", callbackName, req.Method, callbackOf)
	entry := journal.Entry{Method: req.Method, Path: orig.Path, Query: orig.RawQuery, OperationID: r.opID}
	var (
		ex  = &exchange{}
		rec = &statusWriter{ResponseWriter: w}
	)
	defer func() {
		entry.Time, entry.Status = start, rec.status
		entry.ResponseBody = journal.Body(ex.body.Bytes()[:min(ex.body.Len(), journalCapture)])
		entry.DurationMS = float64(p.opts.Clock.Now().Sub(start).Microseconds()) / 1000
		p.opts.Journal.Record(entry)
		p.record(name, rec.status, entry.Violations)
		if ex.err != nil {
			p.log.Warn("relay: the callback_url did not answer", "callback_url", orig.Redacted(), "err", ex.err)
		}
	}()
	body, err := io.ReadAll(http.MaxBytesReader(rec, req.Body, p.opts.MaxBodyBytes))
	entry.RequestBody = body
	if err != nil {
		apierr.Write(rec, p.log, apierr.New(apierr.TooLarge, "Callback body too large or unreadable: %v", err))
		return
	}
	if err := p.opts.Contract.ValidateCallback(callbackOf, callbackName, req.Method, req.Header, body); err != nil {
		entry.Violations = append(entry.Violations, dispatch.Violation{Kind: dispatch.KindCallback,
			Message: fmt.Sprintf("%s %s to %s: %v; body: %s", name, req.Method, orig.Redacted(), err, clip(body))})
	}
	ctx := context.WithValue(context.WithValue(req.Context(), originKey{}, orig), exchangeKey{}, ex)
	out := req.WithContext(ctx)
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	r.rp.ServeHTTP(rec, out)
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
