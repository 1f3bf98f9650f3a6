package proxy

import (
	"container/list"
	"slices"
	"time"

	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/spec"
)

// The behaviour model: what the proxy has seen of each application, access token and webhook,
// kept to judge the target's behaviour by the contract's rules (x-lifecycle, x-token-ttl) and
// not only the shape of each answer. It is bounded (the least recently seen are forgotten first,
// and the report says how many), and it knows only what passed through the proxy: where it lacks
// evidence (an application created before it started) it judges nothing.

// Caps of what the model keeps.
const (
	maxApps   = 10000
	maxTokens = 10000
	maxHooks  = 1000
	// maxResultKeys bounds the results answers remembered per application (one per locale).
	maxResultKeys = 8
	// maxHookViews bounds the webhooks whose events are judged per application (the vendor
	// allows a client 25).
	maxHookViews = 32
)

// tokenGrace is added to the documented token lifetime before a 2xx counts as late: the target
// signs a token before the proxy sees the answer, and rounds its times.
const tokenGrace = 2 * time.Second

// bounded is a map that keeps the cap most recently touched entries.
type bounded[V any] struct {
	cap     int
	m       map[string]*list.Element
	order   list.List // front: most recently touched
	evicted int
}

type boundedEntry[V any] struct {
	key string
	v   V
}

func newBounded[V any](n int) *bounded[V] {
	return &bounded[V]{cap: n, m: make(map[string]*list.Element)}
}

// get returns the entry of key and marks it recently seen.
func (b *bounded[V]) get(key string) (V, bool) {
	e, ok := b.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	b.order.MoveToFront(e)
	return e.Value.(*boundedEntry[V]).v, true
}

// put sets key, forgetting the least recently seen entry when full.
func (b *bounded[V]) put(key string, v V) {
	if e, ok := b.m[key]; ok {
		e.Value.(*boundedEntry[V]).v = v
		b.order.MoveToFront(e)
		return
	}
	if len(b.m) >= b.cap {
		old := b.order.Back()
		b.order.Remove(old)
		delete(b.m, old.Value.(*boundedEntry[V]).key)
		b.evicted++
	}
	b.m[key] = b.order.PushFront(&boundedEntry[V]{key, v})
}

func (b *bounded[V]) clear() {
	clear(b.m)
	b.order.Init()
}

func (b *bounded[V]) each(fn func(V)) {
	for e := b.order.Front(); e != nil; e = e.Next() {
		fn(e.Value.(*boundedEntry[V]).v)
	}
}

// knowledge is what the proxy knows of an application's state: the states it may be in, and
// the exchange that said so.
type knowledge struct {
	states []string // nil: unknown
	ev     dispatch.Evidence
	// end is the number of the last exchange that had arrived when it was learnt: exchanges
	// numbered higher arrived after, the others may have run at the same time.
	end int64
}

func (k knowledge) known() bool { return len(k.states) > 0 }

// before reports whether k was learnt before exchange seq arrived (so the two are ordered:
// neither ran while the other did).
func (k knowledge) before(seq int64) bool { return seq > k.end }

// app is what the proxy knows of one application.
type app struct {
	ref, client string
	k           knowledge
	// created says the proxy saw the application created (the evidence of what came before),
	// in exchange createdSeq.
	created    bool
	createdSeq int64
	// resultsRelayed says its callback_url goes through the proxy's relay.
	resultsRelayed bool
	// signalled are the announcements (results callback, event types) the proxy has seen.
	signalled map[string]bool
	// hooks are the relayed webhooks that heard about it from its creation on, by webhook id,
	// with the state their events have announced.
	hooks map[string]*hookView
	// results are the first results answered after completion, per request (locale).
	results map[string]resultsSeen
}

// hookView is what one webhook's events have said about an application.
type hookView struct {
	hook   *hook
	states []string
	ev     dispatch.Evidence
	types  []string // the event types it had (a type again is a redelivery, not a new move)
}

type resultsSeen struct {
	sum [32]byte
	ev  dispatch.Evidence
}

// token is an access token the proxy saw issued (kept by a hash: never the token).
type token struct {
	client string
	issued time.Time
	ev     dispatch.Evidence
}

// hook is a webhook registered through the relay.
type hook struct {
	id, client, label string
	secret            string // signs the events; never reported
	active            bool
	ev                dispatch.Evidence
	// answered is the last exchange that had arrived when the registration was answered: the
	// applications created after it are heard of by the webhook from their creation.
	answered int64
}

// model holds the proxy's knowledge. Its methods are called with mu held (see Proxy.behave).
type model struct {
	lc  *spec.Lifecycle
	ttl time.Duration // 0: the contract documents none

	apps    *bounded[*app]
	tokens  *bounded[*token]
	hooks   *bounded[*hook]
	relayed *bounded[string] // results relay nonce → reference id

	// heardResults and heardEvents say the target reaches the relay: before the first callback
	// arrives, a missing announcement proves nothing (a wrong --public-url would hide them all).
	heardResults, heardEvents bool
	// clockMoved is the exchange that moved the target's clock (the mock's control API): from
	// then on token lifetimes cannot be judged by the proxy's clock.
	clockMoved *dispatch.Evidence
	// resets counts the target's resets (the mock's control API) that made the model forget.
	resets int
	// moving counts the control API's clock moves and resets in flight: nothing is judged then.
	moving int
}

func newModel(lc *spec.Lifecycle, ttl time.Duration) *model {
	return &model{lc: lc, ttl: ttl, apps: newBounded[*app](maxApps), tokens: newBounded[*token](maxTokens),
		hooks: newBounded[*hook](maxHooks), relayed: newBounded[string](maxApps)}
}

// forget drops every application, token and webhook (the target was reset).
func (m *model) forget() {
	m.apps.clear()
	m.tokens.clear()
	m.hooks.clear()
	m.relayed.clear()
	m.resets++
}

// spontaneous lets pass the moves nobody calls the API for.
func spontaneous(_, _ string, t *spec.Transition) bool { return t != nil }

// reach is every state an application in one of states may be in by now without an API call.
func (m *model) reach(states []string) []string { return m.lc.Reachable(states, spontaneous) }

// entered is every state an application is in once it has entered state (and maybe moved on).
func (m *model) entered(state string) []string { return m.lc.Reachable([]string{state}, nil) }

// observe checks that the application can be in one of states, as exchange seq (ev, learnt
// when end had arrived) says, given what the proxy knew; then it knows that. It returns the knowledge the
// observation contradicts, if any. Exchanges that overlap in time are not ordered: the proxy
// then only widens what it knows.
func (m *model) observe(a *app, states []string, seq, end int64, ev dispatch.Evidence) *knowledge {
	old := a.k
	switch {
	case !old.known():
		a.k = knowledge{states: states, ev: ev, end: end}
	case end < old.end: // judged late: what the proxy knows is newer
	case !old.before(seq):
		a.k = knowledge{states: union(m.reach(old.states), states), ev: ev, end: end}
	default:
		both := intersect(m.reach(old.states), states)
		a.k = knowledge{states: both, ev: ev, end: end}
		if len(both) == 0 {
			a.k.states = states
			return &old
		}
	}
	return nil
}

// settle says the application is in state from now (an operation moved it there).
func (m *model) settle(a *app, state string, end int64, ev dispatch.Evidence) {
	if a.k.known() && end < a.k.end {
		return // judged late: what the proxy knows is newer
	}
	a.k = knowledge{states: []string{state}, ev: ev, end: end}
}

// unannounced is every state the application may have reached unseen: by moves nobody calls the
// API for that nothing the proxy watches for it announces.
func (m *model) unannounced(a *app) []string {
	return m.lc.Reachable(a.k.states, func(_, _ string, t *spec.Transition) bool {
		return t != nil && !m.watched(a, t)
	})
}

// watched reports whether the proxy would have seen a move announced: its results callback
// goes through the relay (and the relay has heard from the target), or a webhook of the
// client that heard of the application from its creation is relayed.
func (m *model) watched(a *app, t *spec.Transition) bool {
	for _, sig := range t.Signals {
		if sig == resultsCallback && a.resultsRelayed && m.heardResults {
			return true
		}
		if sig != resultsCallback && m.heardEvents {
			for _, v := range a.hooks {
				if v.hook.active {
					return true
				}
			}
		}
	}
	return false
}

// newApp starts knowing an application the proxy saw created: in the initial state, heard of
// by every relayed webhook of its client active now. When something about it was judged already
// (its creation's answer judged late), what that said stands, and no webhook's order is judged.
func (m *model) newApp(ref, client string, resultsRelayed bool, end int64, ev dispatch.Evidence) *app {
	if a, ok := m.apps.get(ref); ok {
		a.created, a.createdSeq, a.resultsRelayed = true, ev.Exchange, resultsRelayed
		if a.client == "" {
			a.client = client
		}
		if !a.k.known() {
			a.k = knowledge{states: []string{m.lc.Initial}, ev: ev, end: end}
		}
		return a
	}
	a := &app{ref: ref, client: client, created: true, createdSeq: ev.Exchange, resultsRelayed: resultsRelayed,
		k: knowledge{states: []string{m.lc.Initial}, ev: ev, end: end}}
	m.hooks.each(func(h *hook) {
		if h.active && h.client == client && client != "" && h.answered < a.createdSeq {
			a.heardBy(h, m.lc.Initial, ev)
		}
	})
	m.apps.put(ref, a)
	return a
}

// heardBy notes that webhook h heard of a from its creation (ev), when a was in state.
func (a *app) heardBy(h *hook, state string, ev dispatch.Evidence) {
	if a.hooks == nil {
		a.hooks = make(map[string]*hookView)
	}
	if a.hooks[h.id] == nil && len(a.hooks) < maxHookViews {
		a.hooks[h.id] = &hookView{hook: h, states: []string{state}, ev: ev}
	}
}

// app returns the application ref, starting to know one the proxy did not see created.
func (m *model) app(ref, client string) *app {
	if a, ok := m.apps.get(ref); ok {
		if a.client == "" {
			a.client = client
		}
		return a
	}
	a := &app{ref: ref, client: client}
	m.apps.put(ref, a)
	return a
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
