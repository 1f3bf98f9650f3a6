package proxy_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/proxy"
	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/scenario"
	"github.com/equalture/equalture-mock/internal/scenario/run"
	"github.com/equalture/equalture-mock/mockserver"
)

// behindProxy is a scenario target: a fresh in-process mock per scenario with a relaying proxy
// in front of it, so vendor calls, control calls and callbacks all go through the proxy.
type behindProxy struct {
	t  *testing.T
	mu *sync.Mutex
	// reports gets each scenario's proxy report once the scenario is over.
	reports *[]proxy.Report
}

func (b behindProxy) Start(ctx context.Context) (string, func(), error) {
	mock, stopMock, err := run.InProcess{New: func(base string) (run.Mock, error) {
		return mockserver.New(mockserver.Config{PublicURL: base})
	}}.Start(ctx)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stopMock()
		return "", nil, err
	}
	self := "http://" + ln.Addr().String()
	v, c := contracts(b.t)
	px, err := proxy.New(proxy.Options{Target: mock, Contract: v, ControlContract: c, RelayURL: self,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		_ = ln.Close()
		stopMock()
		return "", nil, err
	}
	srv := &http.Server{Handler: px, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return self, func() {
		_ = srv.Shutdown(context.Background()) // waits for exchanges in flight: each is judged
		<-done
		stopMock()
		b.mu.Lock()
		*b.reports = append(*b.reports, px.Report())
		b.mu.Unlock()
	}, nil
}

// TestScenarioLibraryThroughTheProxyBreaksNothing: the proxy in front of the mock reports no
// violation while the whole scenario library runs through it (including its deliberately invalid
// requests, which the mock refuses as the contract says), and it relays the callbacks.
func TestScenarioLibraryThroughTheProxyBreaksNothing(t *testing.T) {
	files, err := scenario.Expand([]string{"../../scenarios"})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := contracts(t)
	rcv, err := receiver.New("127.0.0.1:0", "", v)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rcv.Close() })
	var (
		mu      sync.Mutex
		reports []proxy.Report
	)
	r := &run.Runner{Receiver: rcv, Contract: v, Target: behindProxy{t: t, mu: &mu, reports: &reports}}
	for _, f := range files {
		s, err := scenario.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if res := r.Run(context.Background(), s); !res.Passed() {
			t.Errorf("%s fails through the proxy: %v\n%s", f, res.Failure, res.Output)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var exchanges, callbacks, events, invalid, apps int
	for _, rep := range reports {
		exchanges += rep.Exchanges
		apps += rep.Behaviour.Applications
		// In front of the mock nothing is a violation, and nothing the contract guessed differs:
		// the mock is the contract's guesses.
		if rep.Violations > 0 || rep.Guesses > 0 {
			t.Errorf("findings in front of the mock:\n%s", rep.Summary())
		}
		for _, op := range rep.Operations {
			invalid += op.InvalidRequests
			switch {
			case strings.HasPrefix(op.Operation, "applicationResults"):
				callbacks += op.Exchanges
			case strings.Contains(op.Operation, "event of registerWebhook"):
				events += op.Exchanges
			}
		}
	}
	if len(reports) != len(files) || exchanges < 100 || callbacks < 5 || events < 2 || invalid == 0 || apps < 10 {
		t.Fatalf("%d scenarios, %d exchanges, %d relayed callbacks, %d relayed events, %d invalid requests noted, %d applications judged: the library did not go through the proxy",
			len(reports), exchanges, callbacks, events, invalid, apps)
	}
	t.Logf("%d scenarios, %d exchanges, %d relayed callbacks and %d events, %d applications judged, %d deliberately invalid requests noted, 0 violations, 0 guesses",
		len(reports), exchanges, callbacks, events, apps, invalid)
}
