// Package journal records the requests the APIs received, so tests can verify afterwards
// what an integration sent ("the ATS called hire exactly once with start_date 2025-07-01"). It keeps
// the newest entries up to a bound, and wakes ?wait= queries on every new entry.
package journal

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/glob"
	"github.com/equalture/equalture-mock/internal/jsonpath"
	"github.com/equalture/equalture-mock/internal/notify"
)

// Entry is one recorded request and the answer it got.
type Entry struct {
	ID           int64     `json:"id"`
	Time         time.Time `json:"time"`
	Method       string    `json:"method"`
	Path         string    `json:"path"`
	Query        string    `json:"query,omitempty"`
	ClientID     string    `json:"client_id,omitempty"`
	OperationID  string    `json:"operation_id,omitempty"`
	Status       int       `json:"status"`
	RequestBody  Body      `json:"request_body,omitempty"`
	ResponseBody Body      `json:"response_body,omitempty"`
	DurationMS   float64   `json:"duration_ms"`
	Fault        string    `json:"fault,omitempty"`
	// Violations are the ways the exchange broke the contract (the proxy's findings).
	Violations []dispatch.Violation `json:"violations,omitempty"`
}

// Journal is a bounded, concurrency-safe request log.
type Journal struct {
	changed notify.Broadcaster

	mu      sync.RWMutex
	entries []Entry // ring buffer of at most max entries
	start   int
	nextID  int64
	max     int
}

// DefaultMax is how many entries a journal keeps by default.
const DefaultMax = 10000

// New returns a journal keeping the newest max entries.
func New(max int) *Journal {
	if max <= 0 {
		max = DefaultMax
	}
	return &Journal{max: max}
}

// Changed returns a channel closed at the next recorded entry.
func (j *Journal) Changed() *notify.Broadcaster { return &j.changed }

// Record adds e (its ID is assigned) and returns it.
func (j *Journal) Record(e Entry) Entry {
	j.mu.Lock()
	j.nextID++
	e.ID = j.nextID
	if len(j.entries) < j.max {
		j.entries = append(j.entries, e)
	} else {
		j.entries[j.start] = e
		j.start = (j.start + 1) % j.max
	}
	j.mu.Unlock()
	j.changed.Notify()
	return e
}

// Len returns how many entries are kept.
func (j *Journal) Len() int {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return len(j.entries)
}

// Reset drops every entry.
func (j *Journal) Reset() {
	j.mu.Lock()
	j.entries, j.start = nil, 0
	j.mu.Unlock()
	j.changed.Notify()
}

// Filter selects entries; zero fields match everything.
type Filter struct {
	Method      string
	Path        glob.Pattern
	ClientID    string
	OperationID string
	Status      int
	Body        map[string]string // path in the request body (jsonpath.Lookup) → wanted value
	// Violations, when set, keeps only entries with (true) or without (false) violations.
	Violations *bool
}

// Find returns the entries f matches, oldest first.
func (j *Journal) Find(f Filter) []Entry {
	j.mu.RLock()
	defer j.mu.RUnlock()
	out := []Entry{}
	for i := range j.entries {
		e := j.entries[(j.start+i)%len(j.entries)]
		if f.matches(e) {
			out = append(out, e)
		}
	}
	return out
}

func (f Filter) matches(e Entry) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, e.Method) ||
		!f.Path.Match(e.Path) ||
		f.ClientID != "" && f.ClientID != e.ClientID ||
		f.OperationID != "" && f.OperationID != e.OperationID ||
		f.Status != 0 && f.Status != e.Status ||
		f.Violations != nil && *f.Violations != (len(e.Violations) > 0) {
		return false
	}
	if len(f.Body) == 0 {
		return true
	}
	var body any
	if json.Unmarshal(e.RequestBody, &body) != nil {
		return false
	}
	for path, want := range f.Body {
		got, ok := jsonpath.Lookup(body, path)
		if !ok || Text(got) != want {
			return false
		}
	}
	return true
}

// Text renders a decoded JSON scalar as a query would write it: strings bare, the rest as JSON.
func Text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Observer records every exchange of a dispatcher, at the time clk tells: the operation, the
// client (authenticated, or as claimed), the request body, the status and the start of the
// answer, the fault rule that shaped it and the violations found in it.
func (j *Journal) Observer(clk clock.Clock) dispatch.Observer {
	return func(c *dispatch.Call, res dispatch.Result) {
		r := c.Request
		j.Record(Entry{
			Time:         clk.Now(),
			Method:       r.Method,
			Path:         r.URL.Path,
			Query:        r.URL.RawQuery,
			ClientID:     c.Who(),
			OperationID:  c.Op,
			Status:       res.Status,
			RequestBody:  c.Body,
			ResponseBody: res.Body,
			DurationMS:   float64(res.Duration.Microseconds()) / 1000,
			Fault:        c.Fault,
			Violations:   c.Violations,
		})
	}
}

// Body is a request or response body as the journal keeps it: the bytes as they came, shown as
// JSON when they are JSON and as a JSON string otherwise. Judging that is left to whoever reads the
// journal, off the hot path.
type Body []byte

// MarshalJSON writes the body as JSON, or as a JSON string when it is not JSON.
func (b Body) MarshalJSON() ([]byte, error) {
	t := bytes.TrimSpace(b)
	switch {
	case len(t) == 0:
		return []byte("null"), nil
	case json.Valid(t):
		return t, nil
	default:
		return json.Marshal(string(b))
	}
}
