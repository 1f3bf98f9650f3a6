// Package fault injects failures into the vendor API on purpose: rules that match requests by
// method, path pattern, client and optionally the Nth match, and answer with a chosen status and
// body, add latency (fixed or a random range), or break the wire (empty response, connection
// reset, garbage), limited to N hits or a probability.
package fault

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/duration"
	"github.com/equalture/equalture-mock/internal/glob"
)

// Ways to break the wire.
const (
	BreakEmpty = "empty_response"
	BreakReset = "connection_reset"
	BreakJunk  = "garbage"
)

// Header names the fault rule that shaped a response, so nobody mistakes it for the mock's answer.
const Header = "X-Mock-Fault"

// Rule is a fault rule as the control API shows it.
type Rule struct {
	ID          string            `json:"id"`
	Method      string            `json:"method,omitempty"`
	Path        string            `json:"path,omitempty"`
	ClientID    string            `json:"client_id,omitempty"`
	Nth         int               `json:"nth,omitempty"`
	Times       int               `json:"times,omitempty"`
	Probability float64           `json:"probability,omitempty"`
	Status      int               `json:"status,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Body        json.RawMessage   `json:"body,omitempty"`
	Latency     duration.Duration `json:"latency,omitempty"`
	LatencyMax  duration.Duration `json:"latency_max,omitempty"`
	Break       string            `json:"break,omitempty"`
	Matched     int               `json:"matched"`
	Hits        int               `json:"hits"`
}

// Check reports what is wrong with r as a 422 naming each field.
func (r Rule) Check() error {
	e := &apierr.Error{Code: apierr.Invalid}
	if r.Method != "" && strings.TrimFunc(r.Method, isLetter) != "" {
		e.Add("method", "must be an HTTP method such as GET or POST")
	}
	if r.Status != 0 && (r.Status < 200 || r.Status > 599) {
		e.Add("status", "must be an HTTP status between 200 and 599")
	}
	switch r.Break {
	case "", BreakEmpty, BreakReset, BreakJunk:
	default:
		e.Add("break", "must be one of empty_response, connection_reset, garbage")
	}
	if r.Latency < 0 {
		e.Add("latency", "must not be negative")
	}
	if r.LatencyMax != 0 && r.LatencyMax < r.Latency {
		e.Add("latency_max", "must not be less than latency")
	}
	if r.Probability < 0 || r.Probability > 1 {
		e.Add("probability", "must be between 0 and 1")
	}
	if r.Nth < 0 {
		e.Add("nth", "must not be negative")
	}
	if r.Times < 0 {
		e.Add("times", "must not be negative")
	}
	if r.Status == 0 && r.Latency == 0 && r.LatencyMax == 0 && r.Break == "" {
		e.Add("status", "a rule needs an effect: status, latency or break")
	}
	if len(r.Body) > 0 && !json.Valid(r.Body) {
		e.Add("body", "must be JSON")
	}
	if len(e.Fields) > 0 {
		return e
	}
	return nil
}

func isLetter(c rune) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

type rule struct {
	Rule
	path glob.Pattern
}

// Set is the active rules, matched in the order they were added.
type Set struct {
	active atomic.Int64 // how many rules there are, read without the lock on every request

	mu     sync.Mutex
	rules  []*rule
	nextID int
	rand   *rand.Rand
}

// NewSet returns an empty set; seed makes probabilities and latency ranges reproducible.
func NewSet(seed uint64) *Set {
	return &Set{rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Add checks and activates r, returning it with its id.
func (s *Set) Add(r Rule) (Rule, error) {
	if err := r.Check(); err != nil {
		return Rule{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	r.ID = "fault-" + strconv.Itoa(s.nextID)
	r.Method = strings.ToUpper(r.Method)
	r.Matched, r.Hits = 0, 0
	s.rules = append(s.rules, &rule{Rule: r, path: glob.Compile(r.Path)})
	s.active.Store(int64(len(s.rules)))
	return r, nil
}

// List returns the active rules with their counters.
func (s *Set) List() []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Rule, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, r.Rule)
	}
	return out
}

// Len returns how many rules are active.
func (s *Set) Len() int { return int(s.active.Load()) }

// Remove deactivates rule id and reports whether it existed.
func (s *Set) Remove(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.rules {
		if r.ID == id {
			s.rules = append(s.rules[:i], s.rules[i+1:]...)
			s.active.Store(int64(len(s.rules)))
			return true
		}
	}
	return false
}

// Reset removes every rule.
func (s *Set) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
	s.active.Store(0)
}

// Action is what a matched rule does to one request.
type Action struct {
	RuleID  string
	Status  int
	Headers map[string]string
	Body    json.RawMessage
	Latency time.Duration
	Break   string
}

// Match finds the first rule that fires for a request and counts it.
func (s *Set) Match(method, path, clientID string) (Action, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if r.Method != "" && r.Method != method || r.ClientID != "" && r.ClientID != clientID || !r.path.Match(path) {
			continue
		}
		r.Matched++
		if r.Nth > 0 && r.Matched != r.Nth || r.Times > 0 && r.Hits >= r.Times {
			continue
		}
		if r.Probability > 0 && r.Probability < 1 && s.rand.Float64() >= r.Probability {
			continue
		}
		r.Hits++
		lat := time.Duration(r.Latency)
		if r.LatencyMax > r.Latency {
			lat += time.Duration(s.rand.Int64N(int64(r.LatencyMax - r.Latency)))
		}
		return Action{RuleID: r.ID, Status: r.Status, Headers: r.Headers, Body: r.Body, Latency: lat, Break: r.Break}, true
	}
	return Action{}, false
}

// Middleware applies the set's rules to a dispatcher's calls: the first rule matching a call's
// method, path and client adds its latency, then breaks the wire or answers in the operation's
// stead. challenge gives a 401's WWW-Authenticate for an operation when the rule sets none.
func (s *Set) Middleware(challenge func(op string) string) dispatch.Middleware {
	return func(next dispatch.Handler) dispatch.Handler {
		return func(w http.ResponseWriter, c *dispatch.Call) error {
			if s.active.Load() == 0 {
				return next(w, c)
			}
			act, ok := s.Match(c.Request.Method, c.Request.URL.Path, c.Who())
			if !ok {
				return next(w, c)
			}
			c.Fault = act.RuleID
			if act.Apply(w, c.Request, challenge(c.Op)) {
				return nil
			}
			return next(w, c)
		}
	}
}

// Apply carries out a: it waits the latency (real time, cut short if the client goes away), then
// breaks the wire or answers the status (a 401 with challenge unless the rule sets its own). It
// reports whether it answered; with latency alone the request goes on to the mock.
func (a Action) Apply(w http.ResponseWriter, r *http.Request, challenge string) (answered bool) {
	if a.Latency > 0 && sleep(r.Context(), a.Latency) != nil {
		return true // the client gave up; nothing left to answer
	}
	w.Header().Set(Header, a.RuleID)
	if a.Break != "" {
		breakWire(w, a.Break)
		return true
	}
	if a.Status == 0 {
		return false
	}
	for k, v := range a.Headers {
		w.Header().Set(k, v)
	}
	if (a.Status == http.StatusTooManyRequests || a.Status == http.StatusServiceUnavailable) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	if a.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" && challenge != "" {
		w.Header().Set("WWW-Authenticate", challenge)
	}
	body := []byte(a.Body)
	if len(body) == 0 {
		body = apierr.StatusBody(a.Status)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", apierr.ContentType)
	}
	w.WriteHeader(a.Status)
	_, _ = w.Write(body)
	return true
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// breakWire takes the connection from the HTTP server and mistreats it.
func breakWire(w http.ResponseWriter, how string) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): the closest thing is aborting the response.
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	switch how {
	case BreakReset:
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST instead of FIN
		}
	case BreakJunk:
		_, _ = buf.WriteString("HTTP/1.1 2\x00\x13 \xff\xfegarbage\r\n\r\n\x00\x01\x02")
		_ = buf.Flush()
	}
}
