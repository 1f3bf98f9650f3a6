package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/equalture/equalture-mock/internal/coverage"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/junit"
)

// keptFindings bounds the findings a report keeps per operation (all are counted).
const keptFindings = 100

// Report is what the proxy saw: per operation, the exchanges and how they broke the contract.
type Report struct {
	Target string `json:"target"`
	// StrictRequests says whether invalid requests count as violations.
	StrictRequests bool `json:"strict_requests"`
	// Exchanges is every exchange judged or passed through.
	Exchanges int `json:"exchanges"`
	// Unvalidated counts the exchanges on paths the contract lacks, passed through unjudged.
	Unvalidated int `json:"unvalidated"`
	// Violations counts the findings that fail a run (invalid requests only with StrictRequests).
	Violations int `json:"violations"`
	// Guesses counts what the contract only guessed (x-inferred) and the target does otherwise:
	// news about the contract, not violations.
	Guesses int `json:"guesses"`
	// Operations are the operations seen, by name (relayed callbacks and events included).
	Operations []OperationReport `json:"operations"`
	// Behaviour is what the proxy's model of applications, tokens and webhooks holds.
	Behaviour Behaviour `json:"behaviour"`
	// Coverage is what the traffic met of the contract, and how to provoke what it did not.
	Coverage coverage.Report `json:"coverage"`
}

// Behaviour describes the model the rules of behaviour are judged by: how much it holds, what it
// had to forget, and what it could not judge.
type Behaviour struct {
	// Applications, Tokens and Webhooks are how many the model holds now.
	Applications int `json:"applications"`
	Tokens       int `json:"tokens"`
	Webhooks     int `json:"webhooks"`
	// Forgotten counts those dropped past the caps (MaxApplications…), least recently seen first:
	// what the proxy knew of them, it judges no more.
	Forgotten Forgotten `json:"forgotten"`
	// Resets counts the target's resets (the mock's control API) that emptied the model.
	Resets int `json:"resets"`
	// TokenLifetimes says why token lifetimes were not judged ("" when they were).
	TokenLifetimes string `json:"token_lifetimes,omitempty"`
}

// Forgotten counts what the model dropped past its caps.
type Forgotten struct {
	Applications int `json:"applications"`
	Tokens       int `json:"tokens"`
	Webhooks     int `json:"webhooks"`
}

// OperationReport is one operation's share of a Report.
type OperationReport struct {
	// Operation is "createApplication (POST /connect_ats/applications)", or
	// "applicationResults (PUT callback of createApplication)" for relayed callbacks.
	Operation string `json:"operation"`
	Exchanges int    `json:"exchanges"`
	// Violations counts the findings that fail a run; InvalidRequests the invalid requests that do
	// not (without StrictRequests); Guesses what the contract only guessed.
	Violations      int `json:"violations"`
	InvalidRequests int `json:"invalid_requests"`
	Guesses         int `json:"guesses"`
	// Findings are the first findings of every kind, oldest first.
	Findings []dispatch.Violation `json:"findings,omitempty"`
}

// stats counts exchanges per operation.
type stats struct {
	target string
	strict bool

	mu          sync.Mutex
	exchanges   int
	unvalidated int
	ops         map[string]*OperationReport
}

func newStats(target string, strict bool) *stats {
	return &stats{target: target, strict: strict, ops: make(map[string]*OperationReport)}
}

// counts reports whether a finding of kind fails a run: not news about what the contract only
// guessed, nor an invalid request unless strict.
func counts(kind string, strict bool) bool {
	return kind != dispatch.KindInferred && (kind != dispatch.KindRequest || strict)
}

func (s *stats) add(name string, vs []dispatch.Violation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exchanges++
	if name == "" {
		s.unvalidated++
		name = "paths the contract lacks (passed through)"
		if len(vs) == 0 {
			return
		}
	}
	op := s.ops[name]
	if op == nil {
		op = &OperationReport{Operation: name}
		s.ops[name] = op
	}
	op.Exchanges++
	for _, v := range vs {
		switch {
		case counts(v.Kind, s.strict):
			op.Violations++
		case v.Kind == dispatch.KindInferred:
			op.Guesses++
		default:
			op.InvalidRequests++
		}
		if len(op.Findings) < keptFindings {
			op.Findings = append(op.Findings, v)
		}
	}
}

// Report returns what the proxy has seen so far.
func (p *Proxy) Report() Report {
	s := p.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Report{Target: s.target, StrictRequests: s.strict, Exchanges: s.exchanges, Unvalidated: s.unvalidated, Operations: []OperationReport{}}
	for _, op := range s.ops {
		c := *op
		c.Findings = append([]dispatch.Violation(nil), op.Findings...)
		r.Operations = append(r.Operations, c)
		r.Violations += op.Violations
		r.Guesses += op.Guesses
	}
	sort.Slice(r.Operations, func(i, j int) bool { return r.Operations[i].Operation < r.Operations[j].Operation })
	r.Behaviour = p.behaviour()
	r.Coverage = p.coverage.Report()
	return r
}

// behaviour describes the model now.
func (p *Proxy) behaviour() Behaviour {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.model
	// A webhook registered again is kept under each registration's relay nonce: count it once.
	hooks := map[*hook]bool{}
	m.hooks.each(func(h *hook) { hooks[h] = true })
	b := Behaviour{
		Applications: len(m.apps.m), Tokens: len(m.tokens.m), Webhooks: len(hooks),
		Forgotten: Forgotten{Applications: m.apps.evicted, Tokens: m.tokens.evicted, Webhooks: m.hooks.evicted},
		Resets:    m.resets,
	}
	switch {
	case p.lc == nil:
		b.TokenLifetimes = "not judged: the contract states no lifecycle"
	case m.ttl == 0:
		b.TokenLifetimes = "not judged: the contract documents no token lifetime (x-token-ttl)"
	case m.clockMoved != nil:
		b.TokenLifetimes = fmt.Sprintf("not judged since %s: the target's clock was moved (%s)", stamp(*m.clockMoved), m.clockMoved.What)
	}
	return b
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteJUnit writes the report as JUnit XML: one test case per operation seen, failing when its
// exchanges broke the contract, the failure naming each problem (operation, status, field).
func (r Report) WriteJUnit(w io.Writer, started time.Time) error {
	s := junit.Suite{Name: "equalture-mock proxy: " + r.Target, Timestamp: started}
	for _, op := range r.Operations {
		c := junit.Case{Name: op.Operation, Classname: "proxy"}
		var out, failed []string
		out = append(out, fmt.Sprintf("%d exchange(s)", op.Exchanges))
		for _, f := range op.Findings {
			line := f.Kind + ": " + f.Message
			if !counts(f.Kind, r.StrictRequests) {
				out = append(out, "not counted — "+line)
				continue
			}
			failed = append(failed, line)
		}
		c.SystemOut = strings.Join(out, "\n")
		if op.Violations > 0 {
			first := ""
			if len(failed) > 0 {
				first = failed[0]
			}
			c.Failure = &junit.Failure{
				Message: fmt.Sprintf("%d violation(s) of openapi.yaml; first: %s", op.Violations, first),
				Type:    "ContractViolation",
				Text:    strings.Join(failed, "\n"),
			}
		}
		s.Cases = append(s.Cases, c)
	}
	return junit.Write(w, "equalture-mock proxy", s)
}

// Summary is the report in a few lines for people: totals, then each operation with violations.
func (r Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "proxy to %s: %d exchange(s), %d operation(s), %d violation(s) of openapi.yaml, %d unvalidated (paths the contract lacks)\n",
		r.Target, r.Exchanges, len(r.Operations), r.Violations, r.Unvalidated)
	if r.Guesses > 0 {
		fmt.Fprintf(&b, "  %d time(s) the service did otherwise than the contract guessed (x-inferred): news about the contract, not counted\n", r.Guesses)
	}
	for _, op := range r.Operations {
		mark := "✓"
		if op.Violations > 0 {
			mark = "✗"
		}
		fmt.Fprintf(&b, "  %s %s: %d exchange(s), %d violation(s)", mark, op.Operation, op.Exchanges, op.Violations)
		if op.InvalidRequests > 0 {
			fmt.Fprintf(&b, ", %d invalid request(s) not counted", op.InvalidRequests)
		}
		if op.Guesses > 0 {
			fmt.Fprintf(&b, ", %d guess(es) of the contract contradicted", op.Guesses)
		}
		b.WriteString("\n")
		shown := 0
		for _, f := range op.Findings {
			if f.Kind == dispatch.KindRequest && !r.StrictRequests || shown == 5 {
				continue
			}
			fmt.Fprintf(&b, "      %s: %s\n", f.Kind, f.Message)
			for _, ev := range f.Evidence {
				fmt.Fprintf(&b, "        ↳ %s: %s\n", stamp(ev), ev.What)
			}
			shown++
		}
	}
	if cv := r.Coverage; cv.Documented > 0 {
		fmt.Fprintf(&b, "  coverage: the traffic met %d of %d documented statuses, reasons and callback outcomes (%.1f%%); equalture-mock coverage --from <report.json> lists what it did not, and how to provoke it\n",
			cv.Covered, cv.Documented, cv.Percent)
	}
	if bh := r.Behaviour; bh.Forgotten != (Forgotten{}) || bh.TokenLifetimes != "" {
		fmt.Fprintf(&b, "  behaviour: %d application(s), %d token(s), %d webhook(s) held", bh.Applications, bh.Tokens, bh.Webhooks)
		if bh.Forgotten != (Forgotten{}) {
			fmt.Fprintf(&b, "; forgotten past the caps: %d application(s), %d token(s), %d webhook(s) (not judged any more)",
				bh.Forgotten.Applications, bh.Forgotten.Tokens, bh.Forgotten.Webhooks)
		}
		if bh.TokenLifetimes != "" {
			fmt.Fprintf(&b, "; token lifetimes %s", bh.TokenLifetimes)
		}
		b.WriteString("\n")
	}
	return b.String()
}
