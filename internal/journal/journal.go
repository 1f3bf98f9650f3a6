// Package journal records the requests the APIs received, so tests can verify afterwards
// what an integration sent ("the ATS called hire exactly once with start_date 2025-07-01"). It is
// bounded twice: by entries and by bytes, each body cut at MaxBodyBytes (marked, with its real
// size), so hostile input cannot grow it; it is read in pages, and it wakes ?wait= queries on every
// new entry.
package journal

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/glob"
	"github.com/equalture/equalture-mock/internal/jsonpath"
	"github.com/equalture/equalture-mock/internal/notify"
	"github.com/equalture/equalture-mock/internal/redact"
)

// Entry is one recorded request and the answer it got.
type Entry struct {
	ID          int64     `json:"id"`
	Time        time.Time `json:"time"`
	Method      string    `json:"method"`
	Path        string    `json:"path"`
	Query       string    `json:"query,omitempty"`
	ClientID    string    `json:"client_id,omitempty"`
	OperationID string    `json:"operation_id,omitempty"`
	Status      int       `json:"status"`
	RequestBody Body      `json:"request_body,omitempty"`
	// RequestBodySize is the body's real size in bytes when RequestBody holds only its start.
	RequestBodySize      int64 `json:"request_body_size,omitempty"`
	RequestBodyTruncated bool  `json:"request_body_truncated,omitempty"`
	ResponseBody         Body  `json:"response_body,omitempty"`
	// ResponseBodySize is the answer's real size in bytes when ResponseBody holds only its start.
	ResponseBodySize      int64   `json:"response_body_size,omitempty"`
	ResponseBodyTruncated bool    `json:"response_body_truncated,omitempty"`
	DurationMS            float64 `json:"duration_ms"`
	Fault                 string  `json:"fault,omitempty"`
	// Erased says why the bodies were erased ("anonymized").
	Erased string `json:"erased,omitempty"`
	// Violations are the ways the exchange broke the contract (the proxy's findings).
	Violations []dispatch.Violation `json:"violations,omitempty"`
}

// size is what e costs the journal's byte bound: its bodies and strings, and a fixed overhead.
func (e *Entry) size() int64 {
	n := len(e.RequestBody) + len(e.ResponseBody) + len(e.Method) + len(e.Path) + len(e.Query) +
		len(e.ClientID) + len(e.OperationID) + len(e.Fault) + len(e.Erased)
	for _, v := range e.Violations {
		n += len(v.Kind) + len(v.Message) + len(v.Contract) + entryOverhead/4
		for _, ev := range v.Evidence {
			n += len(ev.What) + 32
		}
	}
	return int64(n) + entryOverhead
}

// entryOverhead is what an entry costs besides its bodies and strings.
const entryOverhead = 256

// Defaults and bounds.
const (
	DefaultMax      = 10000    // entries a journal keeps by default
	DefaultMaxBytes = 64 << 20 // bytes a journal keeps by default
	MaxBodyBytes    = 64 << 10 // bytes kept of each request and response body
)

// Journal is a bounded, concurrency-safe request log.
type Journal struct {
	changed notify.Broadcaster

	mu       sync.RWMutex
	ring     []Entry // oldest at head; grows up to max
	head, n  int
	bytes    int64
	nextID   int64
	max      int
	maxBytes int64
}

// New returns a journal keeping the newest entries, at most max of them and maxBytes bytes (the
// defaults when 0).
func New(max int, maxBytes int64) *Journal {
	if max <= 0 {
		max = DefaultMax
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	return &Journal{max: max, maxBytes: maxBytes}
}

// Changed wakes waiters at every recorded entry.
func (j *Journal) Changed() *notify.Broadcaster { return &j.changed }

// Record adds e (its ID is assigned), evicting the oldest entries until both bounds hold, and
// returns it. Secrets in its bodies and query (access tokens, webhook secrets, …) are replaced by
// hints first (package redact): the journal never holds one, so no read-out can show one. Its
// bodies are cut at MaxBodyBytes, and copied when the slices they come in would keep much more
// memory alive than they show.
func (j *Journal) Record(e Entry) Entry {
	e.RequestBody, e.RequestBodySize, e.RequestBodyTruncated = keep(e.RequestBody, e.RequestBodySize, e.RequestBodyTruncated)
	e.ResponseBody, e.ResponseBodySize, e.ResponseBodyTruncated = keep(e.ResponseBody, e.ResponseBodySize, e.ResponseBodyTruncated)
	// Redacted once cut, so a hostile megabyte costs the redaction no more than what is kept.
	e.RequestBody, e.ResponseBody = redact.JSON(e.RequestBody), redact.JSON(e.ResponseBody)
	e.Query = redact.Query(e.Query)
	size := e.size()
	j.mu.Lock()
	j.nextID++
	e.ID = j.nextID
	for j.n > 0 && (j.n >= j.max || j.bytes+size > j.maxBytes) {
		old := &j.ring[j.head]
		j.bytes -= old.size()
		*old = Entry{}
		j.head = (j.head + 1) % len(j.ring)
		j.n--
	}
	if j.n == len(j.ring) {
		j.grow()
	}
	j.ring[(j.head+j.n)%len(j.ring)] = e
	j.n++
	j.bytes += size
	j.mu.Unlock()
	j.changed.Notify()
	return e
}

// grow doubles the ring (up to max), oldest first again.
func (j *Journal) grow() {
	ring := make([]Entry, min(max(2*len(j.ring), 64), j.max))
	for i := range j.n {
		ring[i] = j.ring[(j.head+i)%len(j.ring)]
	}
	j.ring, j.head = ring, 0
}

// keep cuts b at MaxBodyBytes; size and truncated say what b already lacks (a body cut before).
func keep(b Body, size int64, truncated bool) (Body, int64, bool) {
	if size < int64(len(b)) {
		size = int64(len(b))
	}
	if len(b) > MaxBodyBytes {
		return slices.Clone(b[:MaxBodyBytes]), size, true
	}
	if cap(b) > 2*len(b)+512 {
		b = slices.Clone(b)
	}
	if !truncated {
		size = 0 // the body is all there: its size is its length
	}
	return b, size, truncated
}

// Len returns how many entries are kept.
func (j *Journal) Len() int {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.n
}

// Bytes returns how many bytes the kept entries count for against the byte bound.
func (j *Journal) Bytes() int64 {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.bytes
}

// Reset drops every entry.
func (j *Journal) Reset() {
	j.mu.Lock()
	j.ring, j.head, j.n, j.bytes = nil, 0, 0, 0
	j.mu.Unlock()
	j.changed.Notify()
}

// Subject is whose entries Erase removes: those naming the application's reference id, and those
// of its client carrying the applicant's data as the application was created with it — the email
// (in any case), or the first and the last name both (as JSON strings) — such as creations that
// were answered 429, 422 or 5xx and never named the reference id.
type Subject struct {
	ReferenceID, ClientID      string
	Email, FirstName, LastName string
}

// Erase replaces the bodies and query of every entry about s and marks them erased for reason.
// It scans the journal, which its bounds keep small enough for the rare erasure.
func (j *Journal) Erase(s Subject, reason string) {
	m := s.matcher()
	j.mu.Lock()
	for i := range j.n {
		e := &j.ring[(j.head+i)%len(j.ring)]
		if !m.matches(e) {
			continue
		}
		j.bytes -= e.size()
		e.RequestBody, e.ResponseBody, e.Query = nil, nil, ""
		e.RequestBodySize, e.ResponseBodySize = 0, 0
		e.RequestBodyTruncated, e.ResponseBodyTruncated = false, false
		e.Erased = reason
		j.bytes += e.size()
	}
	j.mu.Unlock()
	j.changed.Notify()
}

// subjectMatcher holds a Subject's needles, made once per erasure.
type subjectMatcher struct {
	ref, client string
	email       []byte
	first, last []byte // quoted as JSON strings
}

func (s Subject) matcher() subjectMatcher {
	m := subjectMatcher{ref: s.ReferenceID, client: s.ClientID}
	if s.Email != "" {
		m.email = []byte(s.Email)
	}
	if s.FirstName != "" && s.LastName != "" {
		m.first, m.last = quoted(s.FirstName), quoted(s.LastName)
	}
	return m
}

// quoted is s as a JSON string, as a request body spells it.
func quoted(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSpace(b.Bytes())
}

func (m subjectMatcher) matches(e *Entry) bool {
	if m.ref != "" && (strings.Contains(e.Path, m.ref) || bytes.Contains(e.ResponseBody, []byte(m.ref)) || bytes.Contains(e.RequestBody, []byte(m.ref))) {
		return true
	}
	if e.ClientID != m.client {
		return false // another client's applicant, though the same person, is theirs to erase
	}
	where := [][]byte{e.RequestBody, e.ResponseBody, []byte(e.Path + "?" + e.Query)}
	if q, err := url.QueryUnescape(e.Query); err == nil && q != e.Query {
		where = append(where, []byte(q))
	}
	for _, b := range where {
		if m.email != nil && containsFold(b, m.email) || m.first != nil && bytes.Contains(b, m.first) && bytes.Contains(b, m.last) {
			return true
		}
	}
	return false
}

// containsFold reports whether b holds needle, letters in any case.
func containsFold(b, needle []byte) bool {
	n := len(needle)
	if n == 0 {
		return true
	}
	lo, up := needle[0], needle[0]
	if isLetter(lo) {
		lo, up = lo|0x20, lo&^0x20
	}
	for i := 0; i+n <= len(b); i++ {
		if (b[i] == lo || b[i] == up) && bytes.EqualFold(b[i:i+n], needle) {
			return true
		}
	}
	return false
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

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

// DefaultPage and MaxPage bound how many entries one Find returns.
const (
	DefaultPage = 100
	MaxPage     = 1000
)

// Page is a run of entries, oldest first, and where the next run starts.
type Page struct {
	Entries []Entry
	// Next is the cursor of the next page (Find's after) when more entries match, else 0.
	Next int64
}

// Find returns up to limit (DefaultPage when 0, at most MaxPage) entries f matches whose ID is
// above after, oldest first. The entries share their bodies with the journal: read, never modify.
func (j *Journal) Find(f Filter, after int64, limit int) Page {
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	j.mu.RLock()
	defer j.mu.RUnlock()
	p := Page{Entries: []Entry{}}
	for i := range j.n {
		e := &j.ring[(j.head+i)%len(j.ring)]
		if e.ID <= after || !f.matches(*e) {
			continue
		}
		if len(p.Entries) == limit {
			p.Next = p.Entries[limit-1].ID
			break
		}
		p.Entries = append(p.Entries, *e)
	}
	return p
}

// Latest returns the newest n entries, newest first.
func (j *Journal) Latest(n int) []Entry {
	j.mu.RLock()
	defer j.mu.RUnlock()
	n = min(n, j.n)
	out := make([]Entry, 0, n)
	for i := j.n - 1; i >= j.n-n; i-- {
		out = append(out, j.ring[(j.head+i)%len(j.ring)])
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
		e := Entry{
			Time:                  clk.Now(),
			Method:                r.Method,
			Path:                  r.URL.Path,
			Query:                 r.URL.RawQuery,
			ClientID:              c.Who(),
			OperationID:           c.Op,
			Status:                res.Status,
			RequestBody:           c.Body,
			ResponseBody:          res.Body,
			ResponseBodySize:      res.Size,
			ResponseBodyTruncated: res.Size > int64(len(res.Body)),
			DurationMS:            float64(res.Duration.Microseconds()) / 1000,
			Fault:                 c.Fault,
			Violations:            c.Violations,
		}
		if c.BodyCut {
			// Reading stopped at the body limit: the real size is what the client announced,
			// when it did.
			e.RequestBodyTruncated, e.RequestBodySize = true, max(r.ContentLength, int64(len(c.Body)))
		}
		j.Record(e)
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
