// Package mockserver is the Equalture Open Assessment API mock as a Go value: one http.Handler
// that behaves like the real service — clients and jobs from fixtures, Bearer tokens that expire,
// applications with a lifecycle, results PUT to callback URLs, webhook events, links with pages
// behind them — and serves the mock's control API under /_mock (clock, lifecycle, faults, journal,
// callbacks). Every request is validated against openapi.yaml before it is answered.
//
// The equalture-mock binary serves it; Go programs embed it:
//
//	srv, err := mockserver.New(mockserver.Config{Seed: 1, PublicURL: "http://localhost:8080"})
//	if err != nil { ... }
//	defer srv.Close(ctx)
//	http.ListenAndServe("localhost:8080", srv) // with ListenAddrs: []string{"localhost:8080"}
//
// A Server's methods are the control API as Go calls, without an HTTP round trip: complete an
// application, move the clock, read the deliveries, the journal and the outbox. For Go tests,
// package equaltest starts a Server on a loopback port and fails the test when a call does.
package mockserver

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"net/http"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/egress"
	"github.com/equalture/equalture-mock/internal/service"
)

// Server is an assembled mock. Its zero value is not usable; call New. Its methods are safe for
// concurrent use.
type Server struct {
	app *app.App
}

var _ http.Handler = (*Server)(nil)

// New builds a mock from cfg: the contracts parsed and checked, the fixtures loaded, the clock
// started. It refuses a cfg Validate refuses, with the same errors. Close stops its background
// work (callback deliveries, automatic completions).
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a, err := app.New(context.Background(), options(cfg))
	if err != nil {
		return nil, err
	}
	return &Server{app: a}, nil
}

// options turns a valid Config into the app's options: the one place that knows both.
func options(cfg Config) app.Options {
	if cfg.Seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		cfg.Seed = int64(binary.LittleEndian.Uint64(b[:])>>1) | 1
	}
	p := cfg.Callbacks
	jitter := p.Jitter
	switch {
	case p.NoJitter:
		jitter = 0
	case jitter == 0:
		jitter = DefaultCallbackJitter
	}
	return app.Options{
		Service: service.Config{
			PublicURL:         cfg.PublicURL,
			InvitationTTL:     cfg.InvitationTTL,
			PublicLinkTTL:     cfg.PublicLinkTTL,
			AutoCompleteAfter: cfg.AutoCompleteAfter,
		},
		Egress: egress.Config{
			AllowHosts: append([]string(nil), cfg.CallbackAllowHosts...),
			Listen:     append([]string(nil), cfg.ListenAddrs...),
		},
		Seed:         cfg.Seed,
		TokenTTL:     cfg.TokenTTL,
		MaxBodyBytes: cfg.MaxBodyBytes,
		FixturesDir:  cfg.FixturesDir,
		SigningKey:   append([]byte(nil), cfg.SigningKey...),
		DataDir:      cfg.DataDir,
		Clock:        newClock(cfg.Clock),
		Logger:       cfg.Logger,
		AdminToken:   cfg.AdminToken,
		Callbacks: delivery.Config{
			Workers:     p.Workers,
			Timeout:     p.Timeout,
			Schedule:    append([]time.Duration(nil), p.Schedule...),
			MaxAttempts: p.MaxAttempts,
			TimeScale:   p.TimeScale,
			Jitter:      jitter,
			Success:     p.Success.String(),
		},
		JournalSize:     cfg.JournalSize,
		JournalMaxBytes: cfg.JournalMaxBytes,
	}
}

// checkAllowHosts reports an allow-list entry the egress policy cannot read (Validate's check,
// done by the policy's own parser).
func checkAllowHosts(hosts []string) error {
	if len(hosts) == 0 {
		return nil
	}
	_, err := egress.New(egress.Config{AllowHosts: hosts})
	return err
}

func newClock(c Clock) *clock.Virtual {
	start := c.Start
	if start.IsZero() {
		start = time.Now()
	}
	if c.Frozen {
		return clock.NewFrozen(start)
	}
	v := clock.NewVirtual()
	if !c.Start.IsZero() {
		v.Set(start)
	}
	return v
}

// ServeHTTP serves the vendor API (/connect_ats/...), the control API (/_mock/...), the operator
// console (/_mock/console), the pages behind the links and /healthz.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.app.Handler.ServeHTTP(w, r) }

// Close stops taking callback work and waits, until ctx is done, for attempts in flight; then it
// closes the data file.
func (s *Server) Close(ctx context.Context) error { return s.app.Close(ctx) }
