package service_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// The mock's levers for the moves nobody calls the vendor API for (the applicant's, the
// clock's): the control API operation that makes the move into each state.
var levers = map[string]string{
	"started":   "startApplication",
	"completed": "completeApplication",
	"expired":   "expireInvitation",
}

// TestMockEnforcesTheContractsLifecycle drives every operation x-lifecycle governs, and every
// move nobody calls the API for, from every state of openapi.yaml's x-lifecycle through the real
// HTTP APIs, and wants the mock to answer what the contract says: 2xx where the rule allows the
// state (then the status the rule moves to), its conflict status elsewhere.
func TestMockEnforcesTheContractsLifecycle(t *testing.T) {
	h := testenv.New(t)
	vendor, control := h.App.Spec, mustControl(t)
	lc := vendor.Lifecycle()
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	bearer := testenv.Bearer(tok)

	status := func(t *testing.T, ref string) string {
		t.Helper()
		r := h.Sub(t).Do(http.MethodGet, "/connect_ats/applications/"+ref+"/status", "", bearer)
		testenv.WantStatus(t, r, http.StatusOK)
		st, _ := r.JSON(t)["status"].(string)
		return st
	}
	// call sends operation id of contract c about ref, with the contract's example body.
	call := func(t *testing.T, c *spec.Spec, id, ref string) testenv.Response {
		t.Helper()
		op := c.Operations()[id]
		path := strings.Replace(op.Path, "{reference_id}", ref, 1)
		return h.Sub(t).Do(op.Method, path, exampleBody(t, op), bearer)
	}
	// in returns a new application in state, reached through the APIs: the lever of each move
	// on a shortest path from the initial state.
	in := func(t *testing.T, state string) string {
		t.Helper()
		ref, _ := h.Sub(t).Create(tok, testenv.EngineerJob, "")
		for _, step := range path(lc, state) {
			c, id := vendor, step.op
			if id == "" {
				c, id = control, levers[step.to]
			}
			if r := call(t, c, id, ref); r.Status >= 300 {
				t.Fatalf("reaching %s: %s answered %d %s", state, id, r.Status, r.Body)
			}
		}
		if got := status(t, ref); got != state {
			t.Fatalf("reached %s, want %s", got, state)
		}
		return ref
	}

	for _, state := range lc.States {
		for _, id := range slices.Sorted(func(yield func(string) bool) {
			for id := range lc.Ops {
				if !yield(id) {
					return
				}
			}
		}) {
			rule := lc.Ops[id]
			if rule.Creates || rule.Reports != "" {
				continue
			}
			t.Run(id+" from "+state, func(t *testing.T) {
				ref := in(t, state)
				r := call(t, vendor, id, ref)
				if !rule.Allows(state) {
					testenv.WantStatus(t, r, rule.Conflict)
					if got := status(t, ref); got != state {
						t.Fatalf("a refused %s moved the application from %s to %s", id, state, got)
					}
					return
				}
				if r.Status < 200 || r.Status > 299 {
					t.Fatalf("%s from %s answered %d %s; the contract allows it", id, state, r.Status, r.Body)
				}
				want := state
				if rule.To != "" {
					want = rule.To
				}
				if got := status(t, ref); got != want {
					t.Fatalf("%s from %s left %s, want %s", id, state, got, want)
				}
			})
		}
		for _, tr := range lc.Transitions {
			if tr.To == state {
				continue // staying put is not a move the contract speaks of
			}
			lever := levers[tr.To]
			if lever == "" {
				t.Fatalf("no lever of the mock makes the move to %s", tr.To)
			}
			t.Run(lever+" from "+state, func(t *testing.T) {
				ref := in(t, state)
				r := call(t, control, lever, ref)
				// The lever makes every move on the way (completing an unopened invitation opens it).
				if !slices.Contains(lc.Reachable([]string{state}, spontaneous), tr.To) {
					testenv.WantStatus(t, r, http.StatusConflict)
					return
				}
				testenv.WantStatus(t, r, http.StatusOK)
				if got := status(t, ref); got != tr.To {
					t.Fatalf("%s from %s left %s, want %s", lever, state, got, tr.To)
				}
			})
		}
	}
}

// spontaneous lets only the moves nobody calls the API for pass.
func spontaneous(_, _ string, t *spec.Transition) bool { return t != nil }

// step is one move on the way to a state: an operation of the vendor API (op), or a move nobody
// calls it for (op empty), into to.
type step struct{ op, to string }

// path is a shortest sequence of moves from the initial state to state.
func path(lc *spec.Lifecycle, state string) []step {
	type node struct {
		state string
		steps []step
	}
	seen := map[string]bool{lc.Initial: true}
	queue := []node{{lc.Initial, nil}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n.state == state {
			return n.steps
		}
		var next []step
		for _, tr := range lc.Transitions {
			if slices.Contains(tr.From, n.state) {
				next = append(next, step{"", tr.To})
			}
		}
		for id, r := range lc.Ops {
			if r.To != "" && r.Allows(n.state) {
				next = append(next, step{id, r.To})
			}
		}
		slices.SortFunc(next, func(a, b step) int { return strings.Compare(a.op+a.to, b.op+b.to) })
		for _, s := range next {
			if !seen[s.to] {
				seen[s.to] = true
				queue = append(queue, node{s.to, append(slices.Clone(n.steps), s)})
			}
		}
	}
	return nil
}

// exampleBody is the contract's example of op's request body ("" when it has none).
func exampleBody(t *testing.T, op spec.Operation) string {
	t.Helper()
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return ""
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Example == nil {
		return ""
	}
	b, err := json.Marshal(mt.Example)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustControl(t *testing.T) *spec.Spec {
	t.Helper()
	c, err := spec.Control()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
