package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// The contract's extensions this file reads: the application lifecycle (x-lifecycle, at the root
// and on operations) and the access tokens' lifetime (x-token-ttl on a security scheme). They
// state each rule once, for the mock that enforces it (domain.go turns x-lifecycle into the
// domain's rules) and the validating proxy that judges live traffic by it.

// Lifecycle is the application lifecycle a contract states: the states (the values the
// operation that reports them answers), the initial one, the moves nobody calls the API for
// (Transitions) and, per operation, what it requires and what it moves to. A contract without a
// root x-lifecycle (the control API's) has Ops only.
type Lifecycle struct {
	// States are the states, in the order of the reporting field's enum.
	States []string
	// Initial is the state an application starts in.
	Initial string
	// Inferred says the lifecycle is the contract's reading, not the vendor's documentation.
	Inferred bool
	// Transitions are the moves the applicant or the clock make (not an API call).
	Transitions []Transition
	// Ops are the operations' rules, by operationId.
	Ops map[string]OpRule

	// edges are every state's moves, built once: a transition's (t set) or an operation's.
	edges map[string][]edge
}

// edge is a move from a state.
type edge struct {
	to string
	t  *Transition // nil for an operation's move
}

// Transition is a move nobody calls the API for.
type Transition struct {
	From []string `json:"from"`
	To   string   `json:"to"`
	// By is who or what makes it: "applicant" or "time".
	By string `json:"by"`
	// Signals are the callbacks announcing it (a callback name of the contract: a results
	// callback or a webhook event).
	Signals []string `json:"signals,omitempty"`
}

// OpRule is an operation's x-lifecycle.
type OpRule struct {
	// Requires are the states in which the operation may answer 2xx (any when empty).
	Requires []string `json:"requires,omitempty"`
	// Conflict is the status answered in another state.
	Conflict int `json:"conflict,omitempty"`
	// To is the state a 2xx leaves the application in.
	To string `json:"to,omitempty"`
	// Creates says a 2xx creates an application, in the lifecycle's initial state.
	Creates bool `json:"creates,omitempty"`
	// Reports names the field of the 2xx body holding the application's state.
	Reports string `json:"reports,omitempty"`
	// Stable says the same request always gets the same 2xx answer (results, once completed).
	Stable bool `json:"stable,omitempty"`
	// Clock says the operation moves the target's clock (the mock's control API) and names the
	// field of its answer holding the target's time: a proxy in front can no longer judge token
	// lifetimes by its own clock.
	Clock string `json:"clock,omitempty"`
	// Resets says the operation forgets every application and token (the mock's reset).
	Resets bool `json:"resets,omitempty"`
}

// Allows reports whether the rule lets the operation answer 2xx in state.
func (r OpRule) Allows(state string) bool {
	return len(r.Requires) == 0 || slices.Contains(r.Requires, state)
}

// lifecycleDoc is the root x-lifecycle as written.
type lifecycleDoc struct {
	Description string       `json:"description"`
	Inferred    bool         `json:"inferred"`
	Initial     string       `json:"initial"`
	Transitions []Transition `json:"transitions"`
}

// decodeExtension decodes the extension name of ext into v, refusing fields v does not have.
// It reports false when ext has no such extension.
func decodeExtension(ext map[string]any, name string, v any) (bool, error) {
	raw, ok := ext[name]
	if !ok {
		return false, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return true, fmt.Errorf("%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return true, fmt.Errorf("%s: %w", name, err)
	}
	return true, nil
}

// loadLifecycle reads the root and the operations' x-lifecycle and checks they agree with the
// rest of the contract: states that exist (the reporting field's enum, every one of them), known
// operations and callbacks.
func (s *Spec) loadLifecycle() error {
	lc := &Lifecycle{Ops: make(map[string]OpRule)}
	var root lifecycleDoc
	hasRoot, err := decodeExtension(s.Doc.Extensions, "x-lifecycle", &root)
	if err != nil {
		return err
	}
	ops := s.ops
	for _, id := range slices.Sorted(maps.Keys(ops)) {
		var r OpRule
		ok, err := decodeExtension(ops[id].Extensions, "x-lifecycle", &r)
		if err != nil {
			return fmt.Errorf("operation %s: %w", id, err)
		}
		if ok {
			lc.Ops[id] = r
		}
	}
	if hasRoot {
		lc.Initial, lc.Inferred, lc.Transitions = root.Initial, root.Inferred, root.Transitions
		if lc.States, err = s.reportedStates(lc.Ops); err != nil {
			return err
		}
	}
	if err := lc.check(s, ops, hasRoot); err != nil {
		return err
	}
	lc.index()
	s.lifecycle = lc
	return nil
}

// index builds every state's moves once: Reachable runs on each exchange the proxy judges.
func (lc *Lifecycle) index() {
	lc.edges = make(map[string][]edge)
	for i := range lc.Transitions {
		t := &lc.Transitions[i]
		for _, from := range t.From {
			lc.edges[from] = append(lc.edges[from], edge{t.To, t})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(lc.Ops)) {
		r := lc.Ops[id]
		if r.To == "" {
			continue
		}
		for _, st := range lc.States {
			if r.Allows(st) {
				lc.edges[st] = append(lc.edges[st], edge{r.To, nil})
			}
		}
	}
}

// reportedStates are the enum of the field the reporting operations answer the state in; they
// must all agree.
func (s *Spec) reportedStates(rules map[string]OpRule) ([]string, error) {
	var states []string
	for _, id := range slices.Sorted(maps.Keys(rules)) {
		field := rules[id].Reports
		if field == "" {
			continue
		}
		sc := s.successSchema(id)
		if sc == nil || sc.Properties[field] == nil || sc.Properties[field].Value == nil {
			return nil, fmt.Errorf("x-lifecycle: %s reports field %q, which its 2xx answer does not have", id, field)
		}
		var enum []string
		for _, v := range sc.Properties[field].Value.Enum {
			enum = append(enum, fmt.Sprint(v))
		}
		if states != nil && !slices.Equal(states, enum) {
			return nil, fmt.Errorf("x-lifecycle: %s reports states %v, others %v", id, enum, states)
		}
		states = enum
	}
	if len(states) == 0 {
		return nil, fmt.Errorf("x-lifecycle: no operation reports the state (x-lifecycle: {reports: <field>})")
	}
	return states, nil
}

// successSchema is the JSON schema of operation id's first 2xx answer.
func (s *Spec) successSchema(id string) *openapi3.Schema {
	op, ok := s.ops[id]
	if !ok {
		return nil
	}
	for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
		ref := op.Responses.Map()[code]
		if !strings.HasPrefix(code, "2") || ref.Value == nil {
			continue
		}
		if mt := ref.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
			return mt.Schema.Value
		}
	}
	return nil
}

// check checks the operations' rules against the contract, and with a root x-lifecycle (hasRoot)
// the states they and the transitions name. A contract without one (the control API's) names
// the states of openapi.yaml's: RulesOf checks those.
func (lc *Lifecycle) check(s *Spec, ops map[string]Operation, hasRoot bool) error {
	var problems []string
	state := func(where, st string) {
		if hasRoot && !slices.Contains(lc.States, st) {
			problems = append(problems, fmt.Sprintf("%s names state %q, not one of %v", where, st, lc.States))
		}
	}
	if hasRoot {
		state("initial", lc.Initial)
	}
	callbacks := make(map[string]bool)
	for id := range ops {
		for _, name := range s.Callbacks(id) {
			callbacks[name] = true
		}
	}
	for i, t := range lc.Transitions {
		where := fmt.Sprintf("transitions[%d]", i)
		for _, f := range t.From {
			state(where+".from", f)
		}
		state(where+".to", t.To)
		if t.By != "applicant" && t.By != "time" {
			problems = append(problems, fmt.Sprintf("%s.by %q must be applicant or time (the client's moves are its operations' x-lifecycle)", where, t.By))
		}
		for _, sig := range t.Signals {
			if !callbacks[sig] {
				problems = append(problems, fmt.Sprintf("%s signals %q, not a callback of the contract", where, sig))
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(lc.Ops)) {
		r := lc.Ops[id]
		for _, st := range r.Requires {
			state(id+".requires", st)
		}
		if r.To != "" {
			state(id+".to", r.To)
		}
		if r.Creates && (r.To != "" || len(r.Requires) > 0) {
			problems = append(problems, fmt.Sprintf("%s creates an application: it neither requires nor moves to a state", id))
		}
		if r.Conflict != 0 && ops[id].Responses.Status(r.Conflict) == nil {
			problems = append(problems, fmt.Sprintf("%s answers %d in another state, a status it does not document", id, r.Conflict))
		}
		if len(r.Requires) > 0 && r.Conflict == 0 {
			problems = append(problems, fmt.Sprintf("%s requires states but names no conflict status", id))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("x-lifecycle: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Lifecycle returns the contract's lifecycle (its Ops empty, States nil, when it states none).
func (s *Spec) Lifecycle() *Lifecycle { return s.lifecycle }

// Rule returns operation id's x-lifecycle.
func (lc *Lifecycle) Rule(id string) (OpRule, bool) {
	r, ok := lc.Ops[id]
	return r, ok
}

// Moves returns every state reachable from state in one move: the transitions nobody calls the
// API for and the operations' moves (from each state they require, or any), sorted.
func (lc *Lifecycle) Moves(state string) []string {
	var out []string
	for _, e := range lc.edges[state] {
		if e.to != state && !slices.Contains(out, e.to) {
			out = append(out, e.to)
		}
	}
	slices.Sort(out)
	return out
}

// Reachable returns the states reachable from any of from (themselves included) by moves that
// pass: every move when pass is nil. Sorted.
func (lc *Lifecycle) Reachable(from []string, pass func(from, to string, t *Transition) bool) []string {
	seen := make([]string, 0, len(lc.States))
	for _, st := range from {
		if !slices.Contains(seen, st) {
			seen = append(seen, st)
		}
	}
	for i := 0; i < len(seen); i++ {
		st := seen[i]
		for _, e := range lc.edges[st] {
			if slices.Contains(seen, e.to) || pass != nil && !pass(st, e.to, e.t) {
				continue
			}
			seen = append(seen, e.to)
		}
	}
	slices.Sort(seen)
	return seen
}

// Signalled returns the transition into state that names signal (nil when none does).
func (lc *Lifecycle) Signalled(signal string) *Transition {
	for i := range lc.Transitions {
		if slices.Contains(lc.Transitions[i].Signals, signal) {
			return &lc.Transitions[i]
		}
	}
	return nil
}

// TokenTTL returns the access tokens' documented lifetime: the x-token-ttl of the first security
// scheme (by name) that states one.
func (s *Spec) TokenTTL() (time.Duration, bool) { return s.tokenTTL, s.tokenTTL > 0 }

func (s *Spec) loadTokenTTL() error {
	for _, name := range slices.Sorted(maps.Keys(s.Doc.Components.SecuritySchemes)) {
		ref := s.Doc.Components.SecuritySchemes[name]
		if ref == nil || ref.Value == nil {
			continue
		}
		var raw string
		ok, err := decodeExtension(ref.Value.Extensions, "x-token-ttl", &raw)
		if err != nil {
			return fmt.Errorf("security scheme %s: %w", name, err)
		}
		if !ok {
			continue
		}
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			return fmt.Errorf("security scheme %s: x-token-ttl %q is not a positive duration like 15m", name, raw)
		}
		s.tokenTTL = d
		return nil
	}
	return nil
}
