package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/coverage"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/redact"
	"github.com/equalture/equalture-mock/internal/spec"
)

// Judging behaviour: from what passes through it, the proxy keeps its model of each application,
// token and webhook up to date and reports, with the evidence, every rule of the contract the
// target breaks — x-lifecycle (a 2xx in a state that does not allow it, a status that cannot
// follow the one before, results that change), x-token-ttl and x-challenge (a token accepted
// after its lifetime, a 401 with another challenge), and the order and signatures of webhook
// events.

// arrival is when an exchange reached the proxy (on its clock), and its number in the run.
type arrival struct {
	seq int64
	at  time.Time
}

func (in arrival) evidence(format string, args ...any) dispatch.Evidence {
	return dispatch.Evidence{Exchange: in.seq, Time: in.at, What: fmt.Sprintf(format, args...)}
}

// stamp renders evidence for a message: "exchange 12 at 09:00:01.250".
func stamp(ev dispatch.Evidence) string {
	return fmt.Sprintf("exchange %d at %s", ev.Exchange, ev.Time.UTC().Format("15:04:05.000"))
}

// tokenKey is what the model keeps of a token: a hash, never the token.
func tokenKey(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:16])
}

// bearer returns the Bearer token of r, read as the mock reads it (auth.BearerToken).
func bearer(r *http.Request) (string, bool) { return auth.BearerToken(r.Header.Get("Authorization")) }

// clientOf names the client a request is from: the Basic username, the client a Bearer token
// was issued to through the proxy, or else what the token claims.
func (p *Proxy) clientOf(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		return id
	}
	if tok, ok := bearer(r); ok {
		if t, ok := p.model.tokens.get(tokenKey(tok)); ok {
			return t.client
		}
	}
	return auth.Identify(r)
}

// shaped says the answer is the target's own, not one the mock was told to give (a Prefer
// header or a fault rule): only those say anything about its state.
func shaped(c *dispatch.Call, ex *exchange) bool {
	return c.Request.Header.Get("Prefer") != "" || ex.header.Get(fault.Header) != ""
}

// field returns a top-level string field of a JSON object.
func field(body []byte, name string) string {
	var v map[string]any
	_ = json.Unmarshal(body, &v)
	s, _ := v[name].(string)
	return s
}

func is2xx(status int) bool { return status >= 200 && status < 300 }

// behave judges an exchange of the vendor API by the rules of behaviour and learns from it.
func (p *Proxy) behave(c *dispatch.Call, ex *exchange, body []byte, decoded bool) {
	if c.Op == "" || p.lc == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	end := ex.answered
	m := p.model
	rule, governed := p.lc.Rule(c.Op)
	ref := c.Params["reference_id"]
	if ex.status == 0 || !decoded || shaped(c, ex) {
		// An answer the proxy did not see whole may have moved the application unseen.
		if governed && rule.To != "" && ref != "" && ex.status == 0 {
			if a, ok := m.apps.get(ref); ok {
				a.k = knowledge{}
			}
		}
		return
	}
	client := p.clientOf(c.Request)
	if !ex.learned {
		p.learnMoves(c, ex, body, client)
	}
	p.recordAccount(c, ex, body, client)
	if m.moving > 0 {
		return
	}
	p.judgeToken(c, ex)
	if !governed {
		return
	}
	name := operation(c)
	if rule.Creates || ref == "" {
		return
	}
	switch {
	case is2xx(ex.status):
		a := m.app(ref, client)
		if rule.Reports != "" {
			// A state the lifecycle does not know is the answer's finding (a guess contradicted):
			// the model then knows nothing of it.
			st := field(body, rule.Reports)
			if !slices.Contains(p.lc.States, st) {
				a.k = knowledge{}
			} else {
				ev := ex.in.evidence("%s answered %d %s", c.Op, ex.status, clipN(body, 120))
				if old := m.observe(a, []string{st}, ex.in.seq, end, ev); old != nil {
					c.Violations = append(c.Violations, p.backwards(name, st, *old, ev))
				}
			}
		}
		if len(rule.Requires) > 0 {
			p.judgeAllowed(c, ex, a, rule, name, end)
		}
		if rule.Stable {
			p.judgeStable(c, ex, a, body, name)
		}
		if rule.To != "" {
			m.settle(a, rule.To, end, ex.in.evidence("%s answered %d", c.Op, ex.status))
		}
	case rule.Conflict != 0 && len(rule.Requires) > 0:
		a, ok := m.apps.get(ref)
		if !ok || !a.k.known() || !a.k.before(ex.in.seq) {
			return
		}
		reach := m.reach(a.k.states)
		allowed := intersect(reach, rule.Requires)
		switch {
		case ex.status == rule.Conflict && len(allowed) == len(reach):
			c.Violations = append(c.Violations, dispatch.Violation{Kind: dispatch.KindState,
				Message: fmt.Sprintf("%s answered %d, but the application is %s (%s), a state the contract allows it in (x-lifecycle requires %s)",
					name, ex.status, strings.Join(a.k.states, " or "), stamp(a.k.ev), strings.Join(rule.Requires, ", ")),
				Evidence: ordered(a.k.ev, ex.in.evidence("%s answered %d", c.Op, ex.status)),
				Contract: contractAt(c) + "/x-lifecycle"})
		case ex.status != rule.Conflict && len(allowed) == 0 && c.Invalid == nil && stateStatus(ex.status):
			p.keep(contractAt(c)+"/x-lifecycle/conflict",
				"value", "", strconv.Itoa(ex.status), fmt.Sprintf("%s refused in state %s", c.Op, strings.Join(a.k.states, " or ")))
			c.Violations = append(c.Violations, dispatch.Violation{Kind: dispatch.KindInferred,
				Message: fmt.Sprintf("the contract guessed %d for %s when the application is %s (x-lifecycle conflict); the service answered %d",
					rule.Conflict, name, strings.Join(a.k.states, " or "), ex.status),
				Evidence: ordered(a.k.ev, ex.in.evidence("%s answered %d %s", c.Op, ex.status, clipN(body, 120))),
				Contract: contractAt(c) + "/x-lifecycle/conflict"})
		}
	}
}

// learnFirst makes the proxy learn from the answers a client acts on next — a token, a creation,
// a webhook registered or deleted — before the client gets them: what it does next is judged by
// them.
func (p *Proxy) learnFirst(c *dispatch.Call, ex *exchange) {
	if p.lc == nil {
		return
	}
	switch rule, _ := p.lc.Rule(c.Op); {
	case rule.Creates, p.kinds[p.schemes[c.Op]] == "basic", c.Op == webhookOf, c.Op == "deleteWebhook", c.Op == "deleteWebhooks":
		ex.learn = func(body []byte) {
			if shaped(c, ex) {
				return
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			p.learnMoves(c, ex, body, p.clientOf(c.Request))
		}
	}
}

// learnMoves learns from a token issued, a creation, and webhooks registered or deleted.
func (p *Proxy) learnMoves(c *dispatch.Call, ex *exchange, body []byte, client string) {
	if !is2xx(ex.status) {
		return
	}
	if p.kinds[p.schemes[c.Op]] == "basic" {
		if tok := field(body, "access_token"); tok != "" {
			p.model.tokens.put(tokenKey(tok), &token{client: client, issued: p.opts.Clock.Now(),
				ev: ex.in.evidence("%s answered %d (a token for %s)", c.Op, ex.status, orUnknown(client))})
		}
		return
	}
	if rule, _ := p.lc.Rule(c.Op); rule.Creates {
		if ref := field(body, "reference_id"); ref != "" {
			m := p.model
			m.newApp(ref, client, ex.nonce != "", ex.answered, ex.in.evidence("%s answered %d (created %s)", c.Op, ex.status, ref))
			if ex.nonce != "" {
				m.relayed.put(ex.nonce, ref)
			}
		}
		return
	}
	switch c.Op {
	case webhookOf, "deleteWebhook", "deleteWebhooks":
		p.learnWebhooks(c, ex, body, client)
	}
}

// stateStatus reports whether a 4xx can be the target's answer to a state it refuses: not one
// of the statuses that say something else (bad input, credentials, unknown, limits).
func stateStatus(status int) bool {
	switch status {
	case 400, 401, 403, 404, 405, 406, 413, 415, 429:
		return false
	}
	return status >= 400 && status < 500
}

// contractAt is where openapi.yaml states c's operation: "openapi.yaml#/paths/~1connect_ats…/get".
func contractAt(c *dispatch.Call) string {
	return "openapi.yaml" + spec.OperationPointer(c.Route.Path, c.Request.Method)
}

// backwards is the violation of a state that cannot follow what the proxy knew.
func (p *Proxy) backwards(name, st string, old knowledge, ev dispatch.Evidence) dispatch.Violation {
	return dispatch.Violation{Kind: dispatch.KindState,
		Message: fmt.Sprintf("%s answered status %s, but the application was %s (%s: %s): the lifecycle has no way from there to %s",
			name, st, strings.Join(old.states, " or "), stamp(old.ev), old.ev.What, st),
		Evidence: ordered(old.ev, ev),
		Contract: "openapi.yaml#/x-lifecycle"}
}

// judgeAllowed judges a 2xx of an operation that requires states: the application must be able
// to be in one of them — by moves nobody calls the API for, and that nothing the proxy watches
// would have announced.
func (p *Proxy) judgeAllowed(c *dispatch.Call, ex *exchange, a *app, rule spec.OpRule, name string, end int64) {
	m := p.model
	if !a.k.known() || !a.k.before(ex.in.seq) {
		m.observe(a, rule.Requires, ex.in.seq, end, ex.in.evidence("%s answered %d", c.Op, ex.status))
		return
	}
	where := contractAt(c) + "/x-lifecycle/requires"
	ev := ex.in.evidence("%s answered %d", c.Op, ex.status)
	switch {
	case len(intersect(m.reach(a.k.states), rule.Requires)) == 0:
		c.Violations = append(c.Violations, dispatch.Violation{Kind: dispatch.KindState,
			Message: fmt.Sprintf("%s answered %d while the application is %s (%s: %s); the contract allows it only when %s (x-lifecycle), and nothing can have moved it there",
				name, ex.status, strings.Join(a.k.states, " or "), stamp(a.k.ev), a.k.ev.What, strings.Join(rule.Requires, " or ")),
			Evidence: ordered(a.k.ev, ev), Contract: where})
	case len(intersect(m.unannounced(a), rule.Requires)) == 0:
		c.Violations = append(c.Violations, dispatch.Violation{Kind: dispatch.KindState,
			Message: fmt.Sprintf("%s answered %d while the application was last seen %s (%s: %s) and nothing announced a move to %s since, though its announcements go through this proxy; the contract allows it only when %s (x-lifecycle)",
				name, ex.status, strings.Join(a.k.states, " or "), stamp(a.k.ev), a.k.ev.What, strings.Join(rule.Requires, " or "), strings.Join(rule.Requires, " or ")),
			Evidence: ordered(a.k.ev, ev), Contract: where})
	}
	m.observe(a, rule.Requires, ex.in.seq, end, ev)
}

// judgeStable judges an answer the contract says never changes: the same request (its query)
// gets the same body as the first time.
func (p *Proxy) judgeStable(c *dispatch.Call, ex *exchange, a *app, body []byte, name string) {
	canon, err := canonical(body)
	if err != nil {
		return
	}
	key := c.Request.URL.RawQuery
	sum := sha256.Sum256(canon)
	first, ok := a.results[key]
	switch {
	case !ok && len(a.results) < maxResultKeys:
		if a.results == nil {
			a.results = make(map[string]resultsSeen)
		}
		a.results[key] = resultsSeen{sum: sum, ev: ex.in.evidence("%s answered %d", c.Op, ex.status)}
	case ok && first.sum != sum:
		c.Violations = append(c.Violations, dispatch.Violation{Kind: dispatch.KindState,
			Message: fmt.Sprintf("%s answered other results than at %s (the same request%s): the contract says they do not change once completed (x-lifecycle stable); now %s",
				name, stamp(first.ev), queryNote(key), clipN(body, 160)),
			Evidence: ordered(first.ev, ex.in.evidence("%s answered %d", c.Op, ex.status)),
			Contract: contractAt(c) + "/x-lifecycle/stable"})
	}
}

func queryNote(q string) string {
	if q == "" {
		return ""
	}
	return ", ?" + q
}

// canonical re-encodes JSON with sorted keys, so equal values compare equal.
func canonical(b []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// judgeToken judges the token rules: a token the proxy saw issued must not be accepted after its
// documented lifetime, and a 401 carries the documented challenge.
func (p *Proxy) judgeToken(c *dispatch.Call, ex *exchange) {
	m := p.model
	switch kind := p.kinds[p.schemes[c.Op]]; {
	case kind == "bearer" && is2xx(ex.status) && m.ttl > 0 && m.clockMoved == nil:
		tok, ok := bearer(c.Request)
		if !ok {
			return
		}
		t, ok := m.tokens.get(tokenKey(tok))
		if !ok {
			return
		}
		if age := ex.in.at.Sub(t.issued); age > m.ttl+tokenGrace {
			c.Violations = append(c.Violations, dispatch.Violation{Kind: dispatch.KindToken,
				Message: fmt.Sprintf("%s answered %d to a token issued %s before (%s), past its documented lifetime of %s (x-token-ttl)",
					operation(c), ex.status, age.Round(time.Second), stamp(t.ev), m.ttl),
				Evidence: ordered(t.ev, ex.in.evidence("%s answered %d", c.Op, ex.status)),
				Contract: "openapi.yaml#/components/securitySchemes/" + p.schemes[c.Op] + "/x-token-ttl"})
		}
	}
	if ex.status == http.StatusUnauthorized {
		p.judgeChallenge(c, ex)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown client"
	}
	return s
}

// judgeChallenge compares a 401's WWW-Authenticate with the documented challenge: another scheme
// breaks the contract; another realm, or a refused token without the documented error, is news
// about what the contract guessed.
func (p *Proxy) judgeChallenge(c *dispatch.Call, ex *exchange) {
	want, ok := p.opts.Contract.Challenge(c.Op)
	got := ex.header.Get("WWW-Authenticate")
	if !ok || got == "" { // a missing header is the response schema's finding
		return
	}
	scheme, params := parseChallenge(got)
	where := contractAt(c) + "/responses/401/x-challenge"
	ev := []dispatch.Evidence{ex.in.evidence("%s answered 401 with WWW-Authenticate: %s", c.Op, clipN([]byte(got), 160))}
	add := func(kind, format string, args ...any) {
		c.Violations = append(c.Violations, dispatch.Violation{Kind: kind, Message: fmt.Sprintf(format, args...), Evidence: ev, Contract: where})
	}
	if !strings.EqualFold(scheme, want.Scheme) {
		add(dispatch.KindToken, "%s answered 401 with a %q challenge; the contract documents %s (x-challenge): %s", operation(c), scheme, want.Scheme, got)
		return
	}
	kind := func(part string) string {
		if want.Guessed(part) {
			return dispatch.KindInferred
		}
		return dispatch.KindToken
	}
	if want.Realm != "" && params["realm"] != want.Realm {
		if want.Guessed("realm") {
			realm, _ := json.Marshal(params["realm"])
			p.keep(where+"/realm", "value", "", string(realm), "the 401 challenge's realm")
		}
		add(kind("realm"), "the contract guessed realm %q for %s's challenge (x-challenge); the service answered %q: %s", want.Realm, c.Op, params["realm"], got)
	}
	if _, sent := bearer(c.Request); sent && want.Refused != "" && params["error"] != want.Refused {
		add(kind("refused"), "the contract guessed error=%q for a refused token in %s's challenge (x-challenge); the service answered %q: %s", want.Refused, c.Op, params["error"], got)
	}
}

// parseChallenge reads one challenge: its scheme and its auth-params (RFC 9110 §11.3).
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := make(map[string]string)
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimLeft(strings.TrimSpace(rest), ",") {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if strings.HasPrefix(v, `"`) {
			end := 1
			for end < len(v) && (v[end] != '"' || v[end-1] == '\\') {
				end++
			}
			params[k] = strings.ReplaceAll(v[1:min(end, len(v))], `\"`, `"`)
			rest = v[min(end+1, len(v)):]
			continue
		}
		val, after, _ := strings.Cut(v, ",")
		params[k] = strings.TrimSpace(val)
		rest = after
	}
	return scheme, params
}

// learnWebhooks keeps the relayed webhooks up to date: registered (with the secret the client
// sent or the target generated), updated, deleted.
func (p *Proxy) learnWebhooks(c *dispatch.Call, ex *exchange, body []byte, client string) {
	if !is2xx(ex.status) {
		return
	}
	m := p.model
	label := c.Params["label"]
	switch c.Op {
	case webhookOf:
		if ex.nonce == "" {
			return
		}
		key := client + "\x00" + label
		secret := field(c.Body, "secret")
		if secret == "" {
			secret = field(body, "secret")
		}
		var h *hook
		m.hooks.each(func(old *hook) {
			if old.id == key {
				h = old
			}
		})
		if h == nil {
			h = &hook{id: key, client: client, label: label}
		}
		h.active = true
		h.ev = ex.in.evidence("%s answered %d (webhook %q)", c.Op, ex.status, label)
		if h.answered == 0 {
			h.answered = ex.answered
		}
		if secret != "" {
			h.secret = secret
		}
		m.hooks.put(ex.nonce, h)
		// Applications created after the registration was answered, judged before it was: the
		// webhook heard of them from their creation too, unless an event came already.
		m.apps.each(func(a *app) {
			if a.created && a.client == client && a.createdSeq > h.answered && len(a.signalled) == 0 {
				a.heardBy(h, m.lc.Initial, a.k.ev)
			}
		})
	default: // deleteWebhook, deleteWebhooks
		m.hooks.each(func(h *hook) {
			if h.client == client && (label == "" || h.label == label) {
				h.active = false
			}
		})
	}
}

// behaveControl learns from what the mock's control API (passed through to a mock behind the
// proxy) says and does: application states it reports, resets, clock moves.
func (p *Proxy) behaveControl(c *dispatch.Call, ex *exchange, moving bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if moving {
		p.model.moving--
	}
	if p.clc == nil || c.Op == "" || !is2xx(ex.status) || !ex.done {
		return
	}
	rule, ok := p.clc.Rule(c.Op)
	if !ok {
		return
	}
	body := ex.body.Bytes()
	end := ex.answered
	m := p.model
	ev := ex.in.evidence("%s (control API) answered %d %s", c.Op, ex.status, clipN(body, 120))
	switch {
	case rule.Resets:
		m.forget()
	case rule.Clock != "":
		if m.clockMoved == nil {
			m.clockMoved = &ev
		}
		// Time going back can undo what only time did (an expiry): what the proxy knew no longer holds.
		if now, err := time.Parse(time.RFC3339Nano, field(body, rule.Clock)); err != nil || now.Before(p.targetNow) {
			m.apps.clear()
		} else {
			p.targetNow = now
		}
	case rule.Reports != "":
		if ref := c.Params["reference_id"]; ref != "" {
			if st := field(body, rule.Reports); slices.Contains(p.lc.States, st) {
				m.settle(m.app(ref, ""), st, end, ev)
			}
		}
	}
}

// moving notes a control API request that moves the target's clock or resets it: until its
// answer is judged, what the proxy sees may already follow the move, so nothing is judged (nor
// learnt) by what it knew before. It reports whether c is one.
func (p *Proxy) moving(c *dispatch.Call) bool {
	if p.clc == nil || c.Op == "" {
		return false
	}
	if rule, ok := p.clc.Rule(c.Op); !ok || rule.Clock == "" && !rule.Resets {
		return false
	}
	p.mu.Lock()
	p.model.moving++
	p.mu.Unlock()
	return true
}

// behaveResults learns from a results callback: the application announced as completed.
func (p *Proxy) behaveResults(t target, body []byte, in arrival) []dispatch.Violation {
	if p.lc == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.model
	m.heardResults = true
	ref, ok := m.relayed.get(t.nonce)
	if ok {
		p.recordResults(ref, fixtures.Locales[0], body) // callbacks come in the default locale
	}
	if m.moving > 0 {
		return nil
	}
	if t.nonce == "" || !ok {
		return nil
	}
	a, ok := m.apps.get(ref)
	if !ok {
		return nil
	}
	return p.signal(a, resultsCallback, "the results callback", in)
}

// signal learns from the first announcement of a move (a results callback, an event) about a:
// it moved there, and it may have moved on since. It returns the violation when a cannot have.
func (p *Proxy) signal(a *app, name, what string, in arrival) []dispatch.Violation {
	m := p.model
	if a.signalled[name] {
		return nil // a retry, or the same event again
	}
	if a.signalled == nil {
		a.signalled = make(map[string]bool)
	}
	a.signalled[name] = true
	tr := m.lc.Signalled(name)
	if tr == nil {
		return nil
	}
	ev := in.evidence("%s about %s", what, a.ref)
	old := m.observe(a, m.entered(tr.To), in.seq, p.seq.Load(), ev)
	if old == nil {
		return nil
	}
	return []dispatch.Violation{{Kind: dispatch.KindState,
		Message: fmt.Sprintf("%s announced %s %s, but the application was %s (%s: %s): the lifecycle has no way from there to %s",
			what, a.ref, tr.To, strings.Join(old.states, " or "), stamp(old.ev), old.ev.What, tr.To),
		Evidence: ordered(old.ev, ev), Contract: "openapi.yaml#/x-lifecycle/transitions"}}
}

// behaveEvent judges a webhook event the target sent to a relayed webhook: its signature with
// the webhook's secret, its order among the events the webhook had about the application, and
// what it announces.
func (p *Proxy) behaveEvent(t target, event string, h http.Header, body []byte, in arrival) []dispatch.Violation {
	if p.lc == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.model
	m.heardEvents = true
	hk, ok := m.hooks.get(t.nonce)
	var out []dispatch.Violation
	if ok && hk.secret != "" && h.Get("webhook-signature") != "" { // a missing one is the contract's finding
		if err := verify(hk.secret, h, body); err != nil {
			out = append(out, dispatch.Violation{Kind: dispatch.KindEvent,
				Message:  fmt.Sprintf("%s to webhook %q: the signature does not verify with the webhook's secret (registered at %s): %v", eventName(event), hk.label, stamp(hk.ev), err),
				Evidence: ordered(hk.ev, in.evidence("%s event", eventName(event))),
				Contract: "openapi.yaml#/components/parameters/WebhookSignature"})
		}
	}
	var env struct {
		ID   string `json:"id"`
		Data struct {
			ReferenceID string `json:"reference_id"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &env) != nil || env.Data.ReferenceID == "" {
		return out
	}
	tr := m.lc.Signalled(event)
	if tr == nil || m.moving > 0 {
		return out
	}
	// An application the proxy has not seen created yet (its creation maybe judged later) is
	// known from here on: its creation then judges no webhook's order.
	a := m.app(env.Data.ReferenceID, hookClient(hk))
	ev := in.evidence("%s event %s to webhook %q", event, env.ID, hookLabel(hk))
	if ok {
		out = append(out, p.order(a, hk, event, env.ID, tr, ev)...)
	}
	return append(out, p.signal(a, event, event+" event", in)...)
}

func hookClient(h *hook) string {
	if h == nil {
		return ""
	}
	return h.client
}

func hookLabel(h *hook) string {
	if h == nil {
		return ""
	}
	return h.label
}

// order judges an event's place among the events one webhook had about an application since
// its creation: the moves before it that events announce must have been announced first, and
// none can come after a later state. A type already seen is a redelivery, not judged.
func (p *Proxy) order(a *app, hk *hook, event, id string, tr *spec.Transition, ev dispatch.Evidence) []dispatch.Violation {
	m := p.model
	v, ok := a.hooks[hk.id]
	if !ok || slices.Contains(v.types, event) {
		return nil
	}
	v.types = append(v.types, event)
	before, prev := v.states, v.ev
	v.states, v.ev = []string{tr.To}, ev
	where := "openapi.yaml#/x-lifecycle/transitions"
	if !slices.Contains(m.reach(before), tr.To) {
		return []dispatch.Violation{{Kind: dispatch.KindEvent,
			Message: fmt.Sprintf("%s about %s reached webhook %q out of order: the webhook's events had announced %s (%s: %s), and the lifecycle has no way back to %s",
				event, a.ref, hk.label, strings.Join(before, " or "), stamp(prev), prev.What, tr.To),
			Evidence: ordered(prev, ev), Contract: where}}
	}
	// The moves on the way that an event announces must each have had their event.
	quiet := m.lc.Reachable(before, func(_, to string, t *spec.Transition) bool {
		return t != nil && (to == tr.To || !announcedByEvent(t))
	})
	if slices.Contains(quiet, tr.To) {
		return nil
	}
	var missing []string
	for _, t := range m.lc.Transitions {
		if t.To != tr.To && announcedByEvent(&t) && slices.Contains(m.reach(before), t.To) && slices.Contains(m.reach([]string{t.To}), tr.To) {
			for _, s := range t.Signals {
				if s != resultsCallback {
					missing = append(missing, s)
				}
			}
		}
	}
	return []dispatch.Violation{{Kind: dispatch.KindEvent,
		Message: fmt.Sprintf("%s about %s reached webhook %q without a preceding %s: the webhook heard of the application from its creation (%s: %s)",
			event, a.ref, hk.label, strings.Join(missing, " or "), stamp(prev), prev.What),
		Evidence: ordered(prev, ev), Contract: where}}
}

// announcedByEvent reports whether a webhook event announces t.
func announcedByEvent(t *spec.Transition) bool {
	return slices.ContainsFunc(t.Signals, func(s string) bool { return s != resultsCallback })
}

// ordered returns evidence oldest first (exchanges are judged as they end, not as they arrive).
func ordered(evs ...dispatch.Evidence) []dispatch.Evidence {
	slices.SortStableFunc(evs, func(a, b dispatch.Evidence) int { return int(a.Exchange - b.Exchange) })
	return evs
}

// clipN cuts a body to n runes for evidence, secrets in it replaced by hints.
func clipN(b []byte, n int) string {
	s := string(redact.JSON(b))
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// callbackOutcome counts what the ATS answered a relayed callback (the results callback, or an
// event of type callback).
func (p *Proxy) callbackOutcome(callback string, status int, err error) {
	p.coverage.Callback(callback, coverage.OutcomeOf(status, err, false))
}

// reasons are the documented reasons an answer met, as far as the proxy can tell them: a 401's
// from the credentials sent (none, malformed, a token past its lifetime, a refused secret), a
// state conflict's from what the model knows for certain, a 422's from the fields it names.
func (p *Proxy) reasons(c *dispatch.Call, res dispatch.Result) []string {
	switch res.Status {
	case http.StatusUnauthorized:
		if _, _, ok := c.Request.BasicAuth(); ok {
			return []string{auth.ReasonInvalid}
		}
		tok, ok := bearer(c.Request)
		switch {
		case !ok:
			return []string{auth.ReasonMissing}
		case strings.Count(tok, ".") != 2:
			return []string{auth.ReasonMalformed}
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if t, ok := p.model.tokens.get(tokenKey(tok)); ok && p.model.ttl > 0 && p.model.clockMoved == nil &&
			p.opts.Clock.Now().Sub(t.issued) > p.model.ttl {
			return []string{auth.ReasonExpired}
		}
	case http.StatusUnprocessableEntity:
		var body struct {
			Errors map[string]json.RawMessage `json:"errors"`
		}
		if json.Unmarshal(res.Body, &body) == nil {
			var out []string
			for f := range body.Errors {
				if f != "detail" {
					out = append(out, f)
				}
			}
			return out
		}
	default:
		if p.lc == nil {
			return nil
		}
		if rule, ok := p.lc.Rule(c.Op); ok && rule.Conflict == res.Status && c.Params["reference_id"] != "" {
			p.mu.Lock()
			defer p.mu.Unlock()
			if a, ok := p.model.apps.get(c.Params["reference_id"]); ok && len(a.k.states) == 1 {
				return a.k.states
			}
		}
	}
	return nil
}
