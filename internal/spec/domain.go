package spec

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/equalture/equalture-mock/internal/domain"
)

// opOf is the contract operation whose x-lifecycle states action act: the client's moves are the
// vendor API's operations; the moves nobody calls it for (the applicant's, the clock's) the mock
// makes with its control API's levers (lever), whose rules say what they accept.
func opOf(act domain.Action) (id string, lever bool) {
	switch act {
	case domain.ActStart:
		return "startApplication", true
	case domain.ActComplete:
		return "completeApplication", true
	case domain.ActExpire:
		return "expireInvitation", true
	case domain.ActHire:
		return "hireApplicant", false
	case domain.ActAnonymize:
		return "anonymizeApplication", false
	}
	return "", false
}

// The operations whose x-lifecycle says in which states results show, and a public link to them
// can be had.
const (
	opResults    = "getResults"
	opPublicLink = "getPublicLink"
)

// DomainLifecycle reads the lifecycle the two contracts state — vendor's (openapi.yaml's) root
// x-lifecycle and operations, control's (control-openapi.yaml's) levers — into the rules the
// domain applies, and builds the lifecycle that applies them. It fails naming each rule the
// domain needs that the contracts lack, or that they state and the domain cannot apply: the mock
// does not start on a contract it would not enforce.
func DomainLifecycle(vendor, control *Spec) (*domain.Lifecycle, error) {
	lc, clc := vendor.Lifecycle(), control.Lifecycle()
	if len(lc.States) == 0 {
		return nil, errors.New("openapi.yaml states no lifecycle (a root x-lifecycle): the mock has none to enforce")
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	// The states must be the domain's, every one: a state it does not know it cannot enter, and
	// one the contract does not list it would answer against the contract.
	for _, st := range lc.States {
		if !slices.Contains(domain.Statuses, domain.Status(st)) {
			bad("openapi.yaml's states name %q, which the domain does not know", st)
		}
	}
	for _, st := range domain.Statuses {
		if !slices.Contains(lc.States, string(st)) {
			bad("openapi.yaml's states %v lack %q, which the domain has", lc.States, st)
		}
	}
	r := domain.Rules{Initial: domain.Status(lc.Initial), Moves: make(map[domain.Action]domain.Move)}
	// allowed are the states rule lets its operation answer 2xx in, in the domain's order.
	allowed := func(rule OpRule) []domain.Status {
		var out []domain.Status
		for _, st := range domain.Statuses {
			if rule.Allows(string(st)) {
				out = append(out, st)
			}
		}
		return out
	}
	ruleOf := func(file string, l *Lifecycle, id string, moves bool) (OpRule, bool) {
		rule, ok := l.Rule(id)
		switch {
		case !ok:
			bad("%s: %s states no x-lifecycle", file, id)
		case moves && rule.To == "":
			bad("%s: %s's x-lifecycle names no state it moves to (to)", file, id)
		default:
			for _, st := range append(slices.Clone(rule.Requires), rule.To) {
				if st != "" && !slices.Contains(lc.States, st) {
					bad("%s: %s's x-lifecycle names state %q, not one of openapi.yaml's %v", file, id, st, lc.States)
					ok = false
				}
			}
		}
		return rule, ok
	}
	for _, act := range domain.Actions {
		id, isLever := opOf(act)
		if !isLever {
			if rule, ok := ruleOf("openapi.yaml", lc, id, true); ok {
				r.Moves[act] = domain.Move{From: allowed(rule), To: domain.Status(rule.To)}
			}
			continue
		}
		lever, ok := ruleOf("control-openapi.yaml", clc, id, true)
		if !ok {
			continue
		}
		m := domain.Move{From: allowed(lever), To: domain.Status(lever.To), Via: make(map[domain.Status][]domain.Status)}
		for _, from := range m.From {
			if from == m.To {
				continue // a repeat: no move
			}
			via, ok := lc.way(string(from), lever.To)
			if !ok {
				bad("control-openapi.yaml: %s is allowed from %s, but openapi.yaml's transitions have no way from there to %s", id, from, lever.To)
			}
			for _, st := range via {
				m.Via[from] = append(m.Via[from], domain.Status(st))
			}
		}
		r.Moves[act] = m
	}
	// Every move nobody calls the API for is the domain's to make: the applicant's through a lever
	// (which must accept it), the clock's as invitations lapsing.
	for i, t := range lc.Transitions {
		switch t.By {
		case "time":
			if t.To != string(domain.Expired) {
				bad("openapi.yaml: transitions[%d] moves to %s on the clock; the domain's clock only makes invitations lapse (to %s)", i, t.To, domain.Expired)
			}
			for _, st := range t.From {
				r.Lapse = append(r.Lapse, domain.Status(st))
			}
		case "applicant":
			act, ok := leverTo(r, t.To)
			if !ok {
				bad("openapi.yaml: transitions[%d] moves the applicant to %s, which no lever of control-openapi.yaml makes", i, t.To)
				continue
			}
			id, _ := opOf(act)
			for _, st := range t.From {
				if !slices.Contains(r.Moves[act].From, domain.Status(st)) {
					bad("openapi.yaml: transitions[%d] moves the applicant from %s to %s, which control-openapi.yaml's %s does not allow", i, st, t.To, id)
				}
			}
		}
	}
	if len(r.Lapse) == 0 {
		bad("openapi.yaml's transitions have no move by time: the domain needs to know which invitations lapse")
	}
	for _, v := range []struct {
		id  string
		dst *[]domain.Status
	}{{opResults, &r.Results}, {opPublicLink, &r.PublicLink}} {
		if rule, ok := ruleOf("openapi.yaml", lc, v.id, false); ok {
			*v.dst = allowed(rule)
		}
	}
	if len(problems) > 0 {
		return nil, errors.New("the contracts' x-lifecycle: " + strings.Join(problems, "; "))
	}
	l, err := domain.NewLifecycle(r)
	if err != nil {
		return nil, fmt.Errorf("the contracts' x-lifecycle: %w", err)
	}
	return l, nil
}

// leverTo is the action of r made by a lever of the control API that leads to state.
func leverTo(r domain.Rules, state string) (domain.Action, bool) {
	for _, act := range domain.Actions {
		if _, lever := opOf(act); lever && string(r.Moves[act].To) == state {
			return act, true
		}
	}
	return "", false
}

// way returns the states a shortest way from one state to another passes through, by the moves
// nobody calls the API for (the transitions), and whether there is one.
func (lc *Lifecycle) way(from, to string) ([]string, bool) {
	type node struct {
		state string
		via   []string
	}
	seen := []string{from}
	queue := []node{{from, nil}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, e := range lc.edges[n.state] {
			if e.t == nil || slices.Contains(seen, e.to) {
				continue
			}
			if e.to == to {
				return n.via, true
			}
			seen = append(seen, e.to)
			queue = append(queue, node{e.to, append(slices.Clone(n.via), e.to)})
		}
	}
	return nil, false
}
