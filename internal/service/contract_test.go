package service_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// TestMockEnforcesTheContractsLifecycle drives every operation x-lifecycle governs — the vendor
// API's, and the control API's levers for the moves nobody calls the vendor API for (the
// applicant's, the clock's) — from every state of openapi.yaml's x-lifecycle through the real
// HTTP APIs, and wants the mock to answer what the contracts say: 2xx where the rule allows the
// state (then the status the rule moves to), its conflict status elsewhere.
func TestMockEnforcesTheContractsLifecycle(t *testing.T) {
	enforces(t, testenv.New(t))
}

// TestTheMockReadsTheContractsLifecycle: a mock built on contracts whose x-lifecycle says
// something else enforces what they say — the rule is read from them, not written again in the
// mock. Each case changes the embedded contracts, runs the whole drive of
// TestMockEnforcesTheContractsLifecycle on the mock built from them, and checks what changed.
func TestTheMockReadsTheContractsLifecycle(t *testing.T) {
	const (
		hire    = "x-lifecycle: {requires: [completed], conflict: 409, to: hired}"
		start   = "x-lifecycle: {requires: [invited, started], conflict: 409, to: started, reports: status}"
		results = "x-lifecycle: {requires: [completed, hired], conflict: 409, stable: true}"
		link    = "x-lifecycle: {requires: [completed, hired], conflict: 409}"
	)
	tests := map[string]struct {
		vendor, control [][2]string // changes: old, new
		check           func(t *testing.T, h *testenv.Env, bearer testenv.ReqOpt)
	}{
		// Hired from started, an applicant has no results: they show only once completed.
		"hire requires started": {
			vendor: [][2]string{
				{hire, "x-lifecycle: {requires: [started], conflict: 409, to: hired}"},
				{results, "x-lifecycle: {requires: [completed], conflict: 409, stable: true}"},
				{link, "x-lifecycle: {requires: [completed], conflict: 409}"},
			},
			check: func(t *testing.T, h *testenv.Env, bearer testenv.ReqOpt) {
				ref := in(t, h, "completed")
				r := h.Do(http.MethodPost, "/connect_ats/applications/"+ref+"/hire_applicant", `{"add_to_team":false}`, bearer)
				testenv.WantStatus(t, r, http.StatusConflict)
				if got := r.ErrorField(t, "detail"); len(got) != 1 || got[0] != "The applicant cannot be hired: the application is completed, not started" {
					t.Fatalf("detail %q", got)
				}
			}},
		"a started assessment cannot be started again": {
			control: [][2]string{{start, "x-lifecycle: {requires: [invited], conflict: 409, to: started, reports: status}"}},
			check: func(t *testing.T, h *testenv.Env, _ testenv.ReqOpt) {
				testenv.WantStatus(t, h.Do(http.MethodPost, "/_mock/applications/"+in(t, h, "started")+"/start", ""), http.StatusConflict)
			}},
		"results only once hired": {
			vendor: [][2]string{{results, "x-lifecycle: {requires: [hired], conflict: 409, stable: true}"}},
			check: func(t *testing.T, h *testenv.Env, bearer testenv.ReqOpt) {
				r := h.Do(http.MethodGet, "/connect_ats/applications/"+in(t, h, "completed")+"/results", "", bearer)
				testenv.WantStatus(t, r, http.StatusConflict)
				if got := r.ErrorField(t, "detail"); len(got) != 1 || got[0] != "Results are not available: the application is completed, not hired" {
					t.Fatalf("detail %q", got)
				}
			}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			vendor, control := changed(t, assets.VendorSpec(), tc.vendor), changed(t, assets.ControlSpec(), tc.control)
			h := testenv.New(t, func(o *app.Options) { o.Contract, o.ControlContract = vendor, control })
			enforces(t, h)
			tc.check(t, h, testenv.Bearer(h.Token(testenv.DemoID, testenv.DemoSecret)))
		})
	}
}

// changed is data with changes made (old replaced by new), each of which must be possible; nil
// when there are none, for the embedded contract.
func changed(t *testing.T, data []byte, changes [][2]string) []byte {
	t.Helper()
	if len(changes) == 0 {
		return nil
	}
	for _, c := range changes {
		if !bytes.Contains(data, []byte(c[0])) {
			t.Fatalf("the contract has no %q", c[0])
		}
		data = bytes.Replace(data, []byte(c[0]), []byte(c[1]), 1)
	}
	return data
}

// enforces drives every operation of h's contracts that x-lifecycle governs from every state, and
// wants h's mock to answer what the contracts say.
func enforces(t *testing.T, h *testenv.Env) {
	vendor, control := h.App.Spec, h.App.ControlSpec
	lc, clc := vendor.Lifecycle(), control.Lifecycle()
	bearer := testenv.Bearer(h.Token(testenv.DemoID, testenv.DemoSecret))
	// Every move nobody calls the vendor API for is a lever's.
	for _, tr := range lc.Transitions {
		if lever(clc, tr.To) == "" {
			t.Fatalf("no lever of the mock makes the move to %s", tr.To)
		}
	}
	// drive calls operation id of contract c with rule from state.
	drive := func(c *spec.Spec, id string, rule spec.OpRule, state string) {
		t.Run(id+" from "+state, func(t *testing.T) {
			ref := in(t, h, state)
			r := call(t, h, c, id, ref, bearer)
			if !rule.Allows(state) {
				testenv.WantStatus(t, r, rule.Conflict)
				if got := status(t, h, ref); got != state {
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
			if got := status(t, h, ref); got != want {
				t.Fatalf("%s from %s left %s, want %s", id, state, got, want)
			}
		})
	}
	for _, state := range lc.States {
		for _, id := range slices.Sorted(maps.Keys(lc.Ops)) {
			if rule := lc.Ops[id]; !rule.Creates && rule.Reports == "" {
				drive(vendor, id, rule, state)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(clc.Ops)) {
			rule := clc.Ops[id]
			if rule.To == "" {
				continue
			}
			drive(control, id, rule, state)
			// A lever makes the moves the transitions make, every one on the way (completing an
			// unopened invitation opens it): never one they do not.
			if state != rule.To && rule.Allows(state) && !slices.Contains(lc.Reachable([]string{state}, spontaneous), rule.To) {
				t.Errorf("%s is allowed from %s, from where the transitions never reach %s", id, state, rule.To)
			}
		}
	}
}

// lever is the control API operation that makes the move into state ("" when none does).
func lever(clc *spec.Lifecycle, state string) string {
	for _, id := range slices.Sorted(maps.Keys(clc.Ops)) {
		if clc.Ops[id].To == state {
			return id
		}
	}
	return ""
}

// status is application ref's status, as the vendor API answers it.
func status(t *testing.T, h *testenv.Env, ref string) string {
	t.Helper()
	tok := h.Sub(t).Token(testenv.DemoID, testenv.DemoSecret)
	r := h.Sub(t).Do(http.MethodGet, "/connect_ats/applications/"+ref+"/status", "", testenv.Bearer(tok))
	testenv.WantStatus(t, r, http.StatusOK)
	st, _ := r.JSON(t)["status"].(string)
	return st
}

// call sends operation id of contract c about ref, with the contract's example body.
func call(t *testing.T, h *testenv.Env, c *spec.Spec, id, ref string, bearer testenv.ReqOpt) testenv.Response {
	t.Helper()
	op := c.Operations()[id]
	path := strings.Replace(op.Path, "{reference_id}", ref, 1)
	return h.Sub(t).Do(op.Method, path, exampleBody(t, op), bearer)
}

// in returns a new application in state, reached through h's APIs: the operation or lever of each
// move on a shortest path from the initial state.
func in(t *testing.T, h *testenv.Env, state string) string {
	t.Helper()
	vendor, control := h.App.Spec, h.App.ControlSpec
	lc := vendor.Lifecycle()
	tok := h.Sub(t).Token(testenv.DemoID, testenv.DemoSecret)
	ref, _ := h.Sub(t).Create(tok, testenv.EngineerJob, "")
	for _, step := range path(lc, state) {
		c, id := vendor, step.op
		if id == "" {
			c, id = control, lever(control.Lifecycle(), step.to)
		}
		if r := call(t, h, c, id, ref, testenv.Bearer(tok)); r.Status >= 300 {
			t.Fatalf("reaching %s: %s answered %d %s", state, id, r.Status, r.Body)
		}
	}
	if got := status(t, h, ref); got != state {
		t.Fatalf("reached %s, want %s", got, state)
	}
	return ref
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
