//go:build !nomock

package contract

import (
	"context"
	"net"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/equalture/equalture-mock/mockserver"
)

// startLocalMock runs the mock in this process, with its control API, on a free loopback port.
func startLocalMock() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	base := "http://" + ln.Addr().String()
	a, err := mockserver.New(mockserver.Config{PublicURL: base, Seed: 11})
	Expect(err).NotTo(HaveOccurred())
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	DeferCleanup(func() {
		_ = srv.Close()
		_ = a.Close(context.Background())
	})
	cfg.BaseURL, cfg.ControlURL = base, base+"/_mock"
}
