// Package coverage answers the QA question "what has our integration not been tested against?":
// per operation of openapi.yaml, which documented statuses — and for 401, 409 and 422 which
// documented reasons (an expired token, the application's state, each invalid field) — the
// client's traffic has met, and which outcomes the client's callback receivers have produced
// (accepted, refused, 410 Gone, 5xx, a timeout, unreachable). The mock feeds it from its request
// pipeline and its deliveries, the validating proxy from what passes through it; both report it
// the same way, with how to provoke each item still missing. It keeps counters, never exchanges.
package coverage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/spec"
)

// The outcomes of a callback attempt, as the receiver made them.
const (
	Accepted    = "2xx"         // delivered
	Gone        = "410"         // refused for good: no retry follows
	Refused     = "4xx"         // refused: retried
	Failed      = "5xx"         // failed: retried
	Timeout     = "timeout"     // no answer in time: retried
	Unreachable = "unreachable" // no connection: retried
)

// Outcomes are the outcomes, in the order reports list them.
var Outcomes = []string{Accepted, Refused, Gone, Failed, Timeout, Unreachable}

// OutcomeOf classifies a callback attempt: the receiver's status, or what kept it from answering
// (timeout says the attempt ran out of time).
func OutcomeOf(status int, err error, timeout bool) string {
	switch {
	case timeout:
		return Timeout
	case err != nil || status == 0:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return Timeout
		}
		return Unreachable
	case status == http.StatusGone:
		return Gone
	case status >= 200 && status < 300:
		return Accepted
	case status >= 500:
		return Failed
	default:
		return Refused
	}
}

// Reasons returns the documented reasons an answer of the mock gave: the reason of its API error
// (a 401's, a 409's), or for a 422 each field it names.
func Reasons(err error) []string {
	if err == nil { // the usual answer: nothing to look into (errors.As would allocate)
		return nil
	}
	e := apierr.From(err) // the domain's refusals too: their reason is the state
	if e == nil {
		return nil
	}
	if e.Code == apierr.Invalid {
		return slices.Sorted(maps.Keys(e.Fields))
	}
	if e.Reason != "" {
		return []string{e.Reason}
	}
	return nil
}

// Recorder counts what was met, against what the contract documents.
type Recorder struct {
	sp *spec.Spec
	*catalog

	// hits counts each documented status and reason at its slot (opDoc.slots): counted without a
	// lock, as every exchange is.
	hits []atomic.Int64

	mu    sync.Mutex
	cbs   map[[2]string]int64
	other map[key]int64 // statuses the contract does not document, per operation
}

type key struct {
	op, status, reason string
}

// opDoc is what the contract documents of one operation.
type opDoc struct {
	id, method, path string
	statuses         []string            // numeric codes, sorted
	codes            map[int]string      // status → its code in statuses (no formatting per exchange)
	reasons          map[string][]string // status → reasons
	slots            map[slotKey]int     // (code, "") for a status, (code, reason) for a reason → Recorder.hits index
}

type slotKey struct{ code, reason string }

// New returns a recorder of contract's operations and callbacks.
func New(contract *spec.Spec) *Recorder {
	cat := catalogOf(contract)
	return &Recorder{sp: contract, catalog: cat, hits: make([]atomic.Int64, cat.slots),
		cbs: make(map[[2]string]int64), other: make(map[key]int64)}
}

// catalog is what a contract documents: its operations (sorted by path, then method) with their
// statuses and reasons, and its callbacks (the results first, then the events). It is read once
// per contract: every mock of a process shares it.
type catalog struct {
	ops       []opDoc
	index     map[string]*opDoc
	callbacks []string
	slots     int // documented statuses and reasons of all operations
}

var catalogs sync.Map // *spec.Spec → *catalog

func catalogOf(contract *spec.Spec) *catalog {
	if c, ok := catalogs.Load(contract); ok {
		return c.(*catalog)
	}
	c := &catalog{index: make(map[string]*opDoc)}
	for id, op := range contract.Operations() {
		d := opDoc{id: id, method: op.Method, path: op.Path, reasons: make(map[string][]string), codes: make(map[int]string)}
		for code := range op.Responses.Map() {
			n, err := strconv.Atoi(code)
			if err != nil {
				continue // a range or default: no status to provoke
			}
			d.statuses = append(d.statuses, code)
			d.codes[n] = code
			for _, reason := range contract.Reasons(id, n) {
				d.reasons[code] = append(d.reasons[code], reason.Name)
			}
		}
		slices.Sort(d.statuses)
		c.ops = append(c.ops, d)
		c.callbacks = append(c.callbacks, contract.Callbacks(id)...)
	}
	slices.SortFunc(c.ops, func(a, b opDoc) int { return strings.Compare(a.path+" "+a.method, b.path+" "+b.method) })
	for i := range c.ops {
		d := &c.ops[i]
		c.index[d.id] = d
		d.slots = make(map[slotKey]int)
		for _, code := range d.statuses {
			d.slots[slotKey{code: code}] = c.slots
			c.slots++
			for _, reason := range d.reasons[code] {
				d.slots[slotKey{code, reason}] = c.slots
				c.slots++
			}
		}
	}
	slices.SortFunc(c.callbacks, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == ResultsCallback:
			return -1
		case b == ResultsCallback:
			return 1
		}
		return strings.Compare(a, b)
	})
	actual, _ := catalogs.LoadOrStore(contract, c)
	return actual.(*catalog)
}

// ResultsCallback is the results callback's name in the contract; the events' are their types.
const ResultsCallback = "applicationResults"

// Exchange counts an answer of operation op with status, for reasons (the documented ones it
// names; others are ignored). Operations the contract lacks are not counted.
func (r *Recorder) Exchange(op string, status int, reasons ...string) {
	d, ok := r.index[op]
	if !ok || status == 0 {
		return
	}
	code, documented := d.codes[status]
	if !documented {
		r.mu.Lock()
		r.other[key{op: op, status: strconv.Itoa(status)}]++
		r.mu.Unlock()
		return
	}
	r.hits[d.slots[slotKey{code: code}]].Add(1)
	for _, reason := range reasons {
		if i, ok := d.slots[slotKey{code, reason}]; ok {
			r.hits[i].Add(1)
		}
	}
}

// Callback counts an attempt of callback (applicationResults, or an event type) with outcome.
func (r *Recorder) Callback(callback, outcome string) {
	if !slices.Contains(r.callbacks, callback) || !slices.Contains(Outcomes, outcome) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cbs[[2]string{callback, outcome}]++
}

// Reset forgets every count.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.hits {
		r.hits[i].Store(0)
	}
	clear(r.cbs)
	clear(r.other)
}

// Report is what was met and what was not.
type Report struct {
	// Covered of Documented items were met: each documented status of each operation, each
	// documented reason, each outcome of each callback.
	Covered    int     `json:"covered"`
	Documented int     `json:"documented"`
	Percent    float64 `json:"percent"`
	// Operations and Callbacks say it item by item, Missing lists what was not met with how to
	// provoke it, Undocumented the statuses answered that the contract does not document.
	Operations   []Operation    `json:"operations"`
	Callbacks    []Callback     `json:"callbacks"`
	Missing      []Missing      `json:"missing"`
	Undocumented []Undocumented `json:"undocumented"`
}

// Operation is one operation's coverage.
type Operation struct {
	OperationID string   `json:"operation_id"`
	Method      string   `json:"method"`
	Path        string   `json:"path"`
	Statuses    []Status `json:"statuses"`
}

// Status is one documented status: how often it was met, and its reasons.
type Status struct {
	Status  string   `json:"status"`
	Count   int64    `json:"count"`
	Reasons []Reason `json:"reasons,omitempty"`
}

// Reason is one documented reason of a status.
type Reason struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// Callback is one callback's coverage: how often its receivers produced each outcome.
type Callback struct {
	Callback string    `json:"callback"`
	Outcomes []Outcome `json:"outcomes"`
}

// Outcome is one outcome of a callback.
type Outcome struct {
	Outcome string `json:"outcome"`
	Count   int64  `json:"count"`
}

// Missing is an item not met, with how to provoke it.
type Missing struct {
	OperationID string `json:"operation_id,omitempty"`
	Callback    string `json:"callback,omitempty"`
	Status      string `json:"status,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Outcome     string `json:"outcome,omitempty"`
	How         string `json:"how"`
}

// Undocumented is a status an operation answered that the contract does not document.
type Undocumented struct {
	OperationID string `json:"operation_id"`
	Status      string `json:"status"`
	Count       int64  `json:"count"`
}

// Report returns the coverage so far.
func (r *Recorder) Report() Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := Report{Operations: []Operation{}, Callbacks: []Callback{}, Missing: []Missing{}, Undocumented: []Undocumented{}}
	item := func(n int64, m Missing) {
		rep.Documented++
		if n > 0 {
			rep.Covered++
			return
		}
		rep.Missing = append(rep.Missing, m)
	}
	for _, d := range r.ops {
		op := Operation{OperationID: d.id, Method: d.method, Path: d.path, Statuses: []Status{}}
		for _, code := range d.statuses {
			st := Status{Status: code, Count: r.hits[d.slots[slotKey{code: code}]].Load()}
			item(st.Count, Missing{OperationID: d.id, Status: code, How: r.how(d, code, "")})
			for _, reason := range d.reasons[code] {
				n := r.hits[d.slots[slotKey{code, reason}]].Load()
				st.Reasons = append(st.Reasons, Reason{Reason: reason, Count: n})
				item(n, Missing{OperationID: d.id, Status: code, Reason: reason, How: r.how(d, code, reason)})
			}
			op.Statuses = append(op.Statuses, st)
		}
		rep.Operations = append(rep.Operations, op)
	}
	for _, name := range r.callbacks {
		cb := Callback{Callback: name}
		for _, o := range Outcomes {
			n := r.cbs[[2]string{name, o}]
			cb.Outcomes = append(cb.Outcomes, Outcome{Outcome: o, Count: n})
			item(n, Missing{Callback: name, Outcome: o, How: callbackHow(name, o)})
		}
		rep.Callbacks = append(rep.Callbacks, cb)
	}
	for k, n := range r.other {
		rep.Undocumented = append(rep.Undocumented, Undocumented{OperationID: k.op, Status: k.status, Count: n})
	}
	slices.SortFunc(rep.Undocumented, func(a, b Undocumented) int {
		return strings.Compare(a.OperationID+a.Status, b.OperationID+b.Status)
	})
	if rep.Documented > 0 {
		rep.Percent = float64(int(1000*float64(rep.Covered)/float64(rep.Documented))) / 10
	}
	return rep
}

// prefer is the Prefer header that makes the mock answer a documented status of any operation.
func prefer(code string) string {
	return "or send `Prefer: code=" + code + "` (the mock answers the contract's example)"
}

// how says how to provoke a status (and reason) of an operation against the mock.
func (r *Recorder) how(d opDoc, code, reason string) string {
	glob := pathParam.ReplaceAllString(d.path, "*")
	fault := fmt.Sprintf("a fault rule: `POST /_mock/faults {\"method\":\"%s\",\"path\":\"%s\",\"status\":%s}` (a scenario's `control: {add_fault: …}`)", d.method, glob, code)
	switch {
	case reason != "" && code == "401":
		return map[string]string{
			"missing":   "send no credentials",
			"malformed": "send `Authorization: Bearer not-a-token`",
			"invalid":   "send a wrong secret, or a token whose signature was altered",
			"expired":   "use a token past its lifetime: `POST /_mock/tokens/expire`, or `POST /_mock/clock/advance {\"by\":\"15m1s\"}` (a scenario's `control: {advance_clock: 15m1s}`)",
			"revoked":   "use a revoked token: `POST /_mock/tokens/revoke` (a scenario's `control: {revoke_tokens: …}`)",
		}[reason]
	case reason != "" && code == "422":
		return fmt.Sprintf("send an invalid or missing `%s`", reason)
	case reason != "" && r.isState(reason):
		return fmt.Sprintf("call it on an application that is %s (bring one there with the control API: `POST /_mock/applications/{reference_id}/start`, `/complete`, `/expire_invitation`; or hire or anonymize it)", reason)
	case reason == "limit":
		return "register 25 webhooks first"
	case reason != "":
		return "provoke " + reason
	}
	switch code {
	case "400":
		return "send malformed JSON or a bad parameter (a reference_id that is no UUID), " + prefer(code)
	case "401":
		return "send no or wrong credentials, " + prefer(code)
	case "404":
		return "use a reference_id (or webhook label) nobody has, " + prefer(code)
	case "409":
		return "call it in a state that does not allow it, " + prefer(code)
	case "413":
		return "send a body over 1 MiB, " + prefer(code)
	case "415":
		return "send `Content-Type: text/plain`, " + prefer(code)
	case "422":
		return "send an invalid field, " + prefer(code)
	}
	if strings.HasPrefix(code, "2") {
		return "call it as documented"
	}
	return fault + ", " + prefer(code)
}

// pathParam is a path template's parameter: a fault rule's path glob matches it with *.
var pathParam = regexp.MustCompile(`\{[^}]+\}`)

func (r *Recorder) isState(s string) bool {
	lc := r.sp.Lifecycle()
	return lc != nil && slices.Contains(lc.States, s)
}

// callbackHow says how to make a receiver produce outcome o.
func callbackHow(name, o string) string {
	return map[string]string{
		Accepted:    "your receiver answers 200",
		Refused:     "your receiver answers a 4xx other than 410, e.g. 400 (retried on the schedule); a scenario's `receiver: {respond: [400, 200]}`",
		Gone:        "your receiver answers 410 Gone (no retry follows); `receiver: {respond: [410]}`",
		Failed:      "your receiver answers 500 or 503 (retried); `receiver: {respond: [500, 200]}`",
		Timeout:     "your receiver answers slower than the mock waits (`--callback-timeout`); `receiver: {delay: …}`",
		Unreachable: "your receiver is down (connection refused or dropped); `receiver: {respond: [down, 200]}`",
	}[o] + " — for " + name
}
