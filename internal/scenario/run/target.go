package run

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Target is what scenarios run against.
type Target interface {
	// Start readies the target for one scenario and returns its base URL and a function to call
	// when the scenario is over.
	Start(ctx context.Context) (base string, stop func(), err error)
}

// Mock is a mock served in-process: an http.Handler that is closed when its scenario is over
// (mockserver.Server is one).
type Mock interface {
	http.Handler
	Close(ctx context.Context) error
}

// InProcess is a fresh mock for every scenario, served on a free loopback port. The caller
// builds it (`scenario run` as `serve` builds its mock), so the runner knows only HTTP.
type InProcess struct {
	// New builds a mock whose public URL is base.
	New func(base string) (Mock, error)
}

// Start builds and serves a mock and returns its URL and a function stopping it.
func (t InProcess) Start(context.Context) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	base := "http://" + ln.Addr().String()
	m, err := t.New(base)
	if err != nil {
		_ = ln.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return base, func() {
		_ = srv.Close()
		<-done
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.Close(cctx)
	}, nil
}

// Remote is a mock that is already running (locally, in Docker, on a test server): before every
// scenario it is put back to its fixtures with POST /_mock/reset.
type Remote struct {
	URL        string
	AdminToken string
	HTTP       *http.Client // http.DefaultClient when nil
}

// Start resets the mock.
func (t Remote) Start(ctx context.Context) (string, func(), error) {
	base := strings.TrimRight(t.URL, "/")
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/_mock/reset", nil)
	if err != nil {
		return "", nil, err
	}
	if t.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+t.AdminToken)
	}
	client := t.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", nil, fmt.Errorf("POST %s/_mock/reset: %w", base, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return "", nil, fmt.Errorf("POST %s/_mock/reset answered %s: the mock has an admin token; pass it with --admin-token", base, resp.Status)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return "", nil, fmt.Errorf("POST %s/_mock/reset answered %s: scenarios need the mock's control API (is the target the mock?)", base, resp.Status)
	}
	return base, func() {}, nil
}
