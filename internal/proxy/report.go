package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

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
	// Operations are the operations seen, by name.
	Operations []OperationReport `json:"operations"`
}

// OperationReport is one operation's share of a Report.
type OperationReport struct {
	// Operation is "createApplication (POST /connect_ats/applications)", or
	// "applicationResults (PUT callback of createApplication)" for relayed callbacks.
	Operation string `json:"operation"`
	Exchanges int    `json:"exchanges"`
	// Violations counts the findings that fail a run; InvalidRequests the invalid requests that do
	// not (without StrictRequests).
	Violations      int `json:"violations"`
	InvalidRequests int `json:"invalid_requests"`
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

// counts reports whether a finding of kind fails a run.
func (s *stats) counts(kind string) bool { return kind != dispatch.KindRequest || s.strict }

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
		if s.counts(v.Kind) {
			op.Violations++
		} else {
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
	}
	sort.Slice(r.Operations, func(i, j int) bool { return r.Operations[i].Operation < r.Operations[j].Operation })
	return r
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
			if f.Kind == dispatch.KindRequest && !r.StrictRequests {
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
	for _, op := range r.Operations {
		mark := "✓"
		if op.Violations > 0 {
			mark = "✗"
		}
		fmt.Fprintf(&b, "  %s %s: %d exchange(s), %d violation(s)", mark, op.Operation, op.Exchanges, op.Violations)
		if op.InvalidRequests > 0 {
			fmt.Fprintf(&b, ", %d invalid request(s) not counted", op.InvalidRequests)
		}
		b.WriteString("\n")
		shown := 0
		for _, f := range op.Findings {
			if f.Kind == dispatch.KindRequest && !r.StrictRequests || shown == 5 {
				continue
			}
			fmt.Fprintf(&b, "      %s: %s\n", f.Kind, f.Message)
			shown++
		}
	}
	return b.String()
}
