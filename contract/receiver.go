package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/equalture/equalture-mock/internal/spec"
)

// Callback is a results PUT the receiver got.
type Callback struct {
	Method    string
	Path      string
	Header    http.Header
	Body      []byte
	Answered  int
	Violation string // what breaks the callback schema ("" when it honours it)
}

// Receiver is the suite's callback endpoint: it answers each path from a script of statuses (200
// when none) and checks every payload against the contract's callback schema.
type Receiver struct {
	URL string

	contract *spec.Spec
	schema   *openapi3.Schema
	srv      *http.Server
	ln       net.Listener

	mu      sync.Mutex
	scripts map[string][]int
	delays  map[string]time.Duration
	got     map[string][]Callback
	arrived chan struct{} // closed and replaced on every callback
}

// NewReceiver listens on addr; publicURL (default http://<addr>) is how the target reaches it.
func NewReceiver(addr, publicURL string, contract *spec.Spec) (*Receiver, error) {
	schema, err := contract.CallbackSchema("createApplication", "applicationResults")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	r := &Receiver{URL: publicURL, contract: contract, schema: schema, ln: ln,
		scripts: map[string][]int{}, delays: map[string]time.Duration{}, got: map[string][]Callback{}, arrived: make(chan struct{})}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Close stops the receiver.
func (r *Receiver) Close() error { return r.srv.Close() }

// Script makes path answer these statuses in turn (the last one repeats).
func (r *Receiver) Script(path string, statuses ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scripts[path] = statuses
}

// Delay makes path wait d before answering (a slow receiver).
func (r *Receiver) Delay(path string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delays[path] = d
}

// ServeHTTP records a callback, checks it and answers from the path's script.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 4<<20))
	cb := Callback{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		cb.Violation = "callback body is not JSON: " + err.Error()
	} else if err := r.contract.ValidateValue(r.schema, v); err != nil {
		cb.Violation = "callback applicationResults (PUT callback_url) breaks the contract: " + err.Error()
	}
	r.mu.Lock()
	script := r.scripts[req.URL.Path]
	n := len(r.got[req.URL.Path])
	cb.Answered = http.StatusOK
	if len(script) > 0 {
		cb.Answered = script[min(n, len(script)-1)]
	}
	delay := r.delays[req.URL.Path]
	r.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
	}
	r.mu.Lock()
	r.got[req.URL.Path] = append(r.got[req.URL.Path], cb)
	close(r.arrived)
	r.arrived = make(chan struct{})
	r.mu.Unlock()
	w.WriteHeader(cb.Answered)
}

// Violations lists, one per line, every callback received so far that broke the contract.
func (r *Receiver) Violations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for path, cbs := range r.got {
		for i, cb := range cbs {
			if cb.Violation != "" {
				out = append(out, fmt.Sprintf("%s %s (delivery %d): %s", cb.Method, path, i+1, cb.Violation))
			}
		}
	}
	sort.Strings(out)
	return out
}

// Wait returns the first n callbacks to path, waiting up to timeout for them.
func (r *Receiver) Wait(path string, n int, timeout time.Duration) ([]Callback, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		r.mu.Lock()
		got, arrived := append([]Callback(nil), r.got[path]...), r.arrived
		r.mu.Unlock()
		if len(got) >= n {
			return got[:n], nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return got, errors.New("timed out waiting for callbacks")
		}
	}
}
