package scenario

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/mockserver"
)

// InProcess is a fresh mock for every scenario, on a free loopback port, built by mockserver
// exactly as `serve` builds it.
type InProcess struct {
	// Options configure each mock; its public URL is the mock's address.
	Options []mockserver.Option
}

// Start starts a mock and returns its URL and a function stopping it.
func (t InProcess) Start(ctx context.Context) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	base := "http://" + ln.Addr().String()
	a, err := mockserver.New(append(t.Options[:len(t.Options):len(t.Options)], mockserver.WithPublicURL(base), mockserver.WithListenAddrs(ln.Addr().String()))...)
	if err != nil {
		_ = ln.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
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
		_ = a.Close(cctx)
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
