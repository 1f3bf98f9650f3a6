// Package mockserver is the Equalture Open Assessment API mock as a Go value: one http.Handler that
// behaves like the real service — clients and jobs from fixtures, Bearer tokens that expire,
// applications with a lifecycle, results PUT to callback URLs, links with pages behind them — and
// serves the mock's control API under /_mock (clock, lifecycle, faults, journal, callbacks).
// Every request is validated against openapi.yaml before it is answered.
//
// The equalture-mock binary serves it; Go programs can embed it:
//
//	srv, err := mockserver.New(mockserver.WithSeed(1), mockserver.WithPublicURL("http://localhost:8080"))
//	if err != nil { ... }
//	defer srv.Close(ctx)
//	http.ListenAndServe(":8080", srv)
//
// For Go tests, package equaltest starts one on a loopback port with a control client.
package mockserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/lifecycle"
	"github.com/equalture/equalture-mock/internal/vendorapi"
)

// Defaults of the settings the options change.
const (
	DefaultTokenTTL        = app.DefaultTokenTTL            // access tokens: 15 minutes
	DefaultInvitationTTL   = lifecycle.DefaultInvitationTTL // invitation links: 1 week
	DefaultPublicLinkTTL   = lifecycle.DefaultPublicLinkTTL // public results links: 120 minutes
	DefaultPublicURL       = lifecycle.DefaultPublicURL     // base of the links handed out
	DefaultMaxBodyBytes    = vendorapi.DefaultMaxBodyBytes  // request bodies: 1 MiB
	DefaultJournalSize     = journal.DefaultMax             // requests the journal keeps
	DefaultJournalMaxBytes = journal.DefaultMaxBytes        // bytes the journal keeps
	DefaultCallbackWorkers = delivery.DefaultWorkers        // concurrent callback attempts
	DefaultCallbackTimeout = delivery.DefaultTimeout        // one callback attempt (real time)
	DefaultCallbackJitter  = delivery.DefaultJitter         // spread of each retry delay
)

// DefaultCallbackSchedule is the delay before each callback attempt: the Standard Webhooks schedule
// (immediately, 5s, 5m, 30m, 2h, 5h, 10h, 10h).
func DefaultCallbackSchedule() []time.Duration {
	return append([]time.Duration(nil), delivery.DefaultSchedule...)
}

// Server is an assembled mock. Its zero value is not usable; call New.
type Server struct {
	app *app.App
}

var _ http.Handler = (*Server)(nil)

// Option configures a Server.
type Option func(*settings)

type settings struct {
	opts      app.Options
	jitterSet bool
	errs      []error
}

// New builds a mock: the contracts parsed and checked, the fixtures loaded, the clock started.
// Close stops its background work (callback deliveries, automatic completions).
func New(opts ...Option) (*Server, error) {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	if len(s.errs) > 0 {
		return nil, fmt.Errorf("mockserver: %w", s.errs[0])
	}
	if !s.jitterSet {
		s.opts.Callbacks.Jitter = DefaultCallbackJitter
	}
	if err := s.opts.Callbacks.Check(); err != nil {
		return nil, fmt.Errorf("mockserver: callbacks: %w", err)
	}
	a, err := app.New(context.Background(), s.opts)
	if err != nil {
		return nil, err
	}
	return &Server{app: a}, nil
}

// ServeHTTP serves the vendor API (/connect_ats/...), the control API (/_mock/...), the pages
// behind the links and /healthz.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.app.Handler.ServeHTTP(w, r) }

// Close stops taking callback work and waits, until ctx is done, for attempts in flight.
func (s *Server) Close(ctx context.Context) error { return s.app.Close(ctx) }

func (s *settings) fail(format string, args ...any) {
	s.errs = append(s.errs, fmt.Errorf(format, args...))
}

// WithPublicURL sets the base URL of the links the mock hands out (assessment, public results,
// dashboard): where ATS users' browsers reach the mock. Default http://localhost:8080.
func WithPublicURL(url string) Option { return func(s *settings) { s.opts.Lifecycle.PublicURL = url } }

// WithSeed makes reference ids, scores, retry jitter and fault probabilities reproducible: the
// same seed and the same requests give the same answers. 0 (the default) draws a random seed.
func WithSeed(seed int64) Option { return func(s *settings) { s.opts.Seed = seed } }

// WithFixturesDir loads clients, jobs and traits from dir (clients.yaml, traits.yaml) instead of
// the embedded defaults.
func WithFixturesDir(dir string) Option { return func(s *settings) { s.opts.FixturesDir = dir } }

// WithSigningKey sets the secret that signs access tokens and links, so tokens outlive a restart.
// Default: a random key per Server, or with WithDataDir the key its data file holds (a key given
// here replaces that one).
func WithSigningKey(key []byte) Option {
	return func(s *settings) { s.opts.SigningKey = append([]byte(nil), key...) }
}

// WithDataDir keeps the mock's state in a file in dir (created when missing), so that it survives
// a restart, a crash or a kill -9: applications, the outbox, token generations, deliveries with
// their pending retries, the clock's course, the signing key and how many reference ids were
// drawn. A change is on disk before the mock answers the request that made it. One Server at a
// time may use a dir; a file that is not the mock's, or is damaged, makes New fail. A data dir
// that holds a clock keeps it: WithStartTime and WithFrozenClock then apply only to a new one.
// The journal and fault rules stay in memory. Default: everything in memory.
func WithDataDir(dir string) Option { return func(s *settings) { s.opts.DataDir = dir } }

// WithAdminToken makes the control API require "Authorization: Bearer <token>".
func WithAdminToken(token string) Option { return func(s *settings) { s.opts.AdminToken = token } }

// WithTokenTTL sets how long access tokens are valid (default 15 minutes).
func WithTokenTTL(d time.Duration) Option {
	return positive("token TTL", d, func(s *settings) { s.opts.TokenTTL = d })
}

// WithInvitationTTL sets how long invitation links are valid (default 1 week).
func WithInvitationTTL(d time.Duration) Option {
	return positive("invitation TTL", d, func(s *settings) { s.opts.Lifecycle.InvitationTTL = d })
}

// WithPublicLinkTTL sets how long public results links are valid (default 120 minutes).
func WithPublicLinkTTL(d time.Duration) Option {
	return positive("public link TTL", d, func(s *settings) { s.opts.Lifecycle.PublicLinkTTL = d })
}

func positive(what string, d time.Duration, set func(*settings)) Option {
	return func(s *settings) {
		if d <= 0 {
			s.fail("%s %v must be positive", what, d)
			return
		}
		set(s)
	}
}

// WithStartTime starts the mock's clock at t; it then runs with real time until the control API
// moves it. Default: now.
func WithStartTime(t time.Time) Option {
	return func(s *settings) {
		c := clock.NewVirtual()
		c.Set(t)
		s.opts.Clock = c
	}
}

// WithFrozenClock stops the mock's clock at t: time moves only when the control API moves it
// (POST /_mock/clock/advance), so tests decide when tokens, links and retries come due.
func WithFrozenClock(t time.Time) Option {
	return func(s *settings) { s.opts.Clock = clock.NewFrozen(t) }
}

// WithLogger sends the mock's logs (a line per request at info, callback attempts, errors) to l.
// Default: none.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.opts.Logger = l } }

// WithJournalSize sets how many requests the journal keeps (the newest; default 10,000).
func WithJournalSize(n int) Option { return func(s *settings) { s.opts.JournalSize = n } }

// WithJournalMaxBytes bounds the journal in bytes too (default 64 MiB): the oldest entries go first.
// Each body is kept up to 64 KiB, marked truncated with its real size beyond.
func WithJournalMaxBytes(n int64) Option { return func(s *settings) { s.opts.JournalMaxBytes = n } }

// WithMaxBodyBytes limits request bodies (413 beyond; default 1 MiB).
func WithMaxBodyBytes(n int64) Option { return func(s *settings) { s.opts.MaxBodyBytes = n } }

// WithCallbackAllowHosts accepts only callback URLs and webhook URLs on these hosts
// ("ats.example.com", "*.example.com", "*" for any name, an IP address or a CIDR range such as
// "10.0.0.0/8"); others are refused with a 422 naming the host. With a list, deliveries reach
// loopback, private and other non-public addresses only when the list names them: the host
// exactly, or the address or its range (a name matched by "*." or "*" must resolve to public
// addresses). Default: any host, loopback receivers included — but never the mock itself.
func WithCallbackAllowHosts(hosts ...string) Option {
	return func(s *settings) { s.opts.Egress.AllowHosts = append([]string(nil), hosts...) }
}

// WithListenAddrs names the addresses the mock is served on ("127.0.0.1:8080", ":8080"), besides
// its public URL: callback and webhook URLs pointing there are refused (422) and deliveries never
// connect there, so a tenant cannot make the mock call its own control API. A program serving the
// mock on a listener of its own passes the listener's address.
func WithListenAddrs(addrs ...string) Option {
	return func(s *settings) { s.opts.Egress.Listen = append(s.opts.Egress.Listen, addrs...) }
}

// WithAutoCompleteAfter completes every application this long after its creation, on the mock's
// clock, as if the applicant had finished (jobs may set their own). Default: never.
func WithAutoCompleteAfter(d time.Duration) Option {
	return func(s *settings) { s.opts.Lifecycle.AutoCompleteAfter = d }
}

// WithCallbackSchedule sets the delay before each callback attempt of a series; attempts beyond
// the list reuse its last delay. Default DefaultCallbackSchedule().
func WithCallbackSchedule(delays ...time.Duration) Option {
	return func(s *settings) {
		for _, d := range delays {
			if d < 0 {
				s.fail("callback schedule: delay %v is negative", d)
				return
			}
		}
		s.opts.Callbacks.Schedule = append([]time.Duration(nil), delays...)
	}
}

// WithCallbackMaxAttempts sets how many attempts a delivery gets before it fails (default: one per
// schedule entry).
func WithCallbackMaxAttempts(n int) Option {
	return func(s *settings) { s.opts.Callbacks.MaxAttempts = n }
}

// WithCallbackTimeout bounds one callback attempt, in real time (default 15s).
func WithCallbackTimeout(d time.Duration) Option {
	return func(s *settings) { s.opts.Callbacks.Timeout = d }
}

// WithCallbackWorkers bounds concurrent callback attempts (default 4).
func WithCallbackWorkers(n int) Option { return func(s *settings) { s.opts.Callbacks.Workers = n } }

// WithCallbackTimeScale multiplies every retry delay (0.001 runs a whole schedule in seconds).
func WithCallbackTimeScale(f float64) Option {
	return func(s *settings) { s.opts.Callbacks.TimeScale = f }
}

// WithCallbackJitter spreads each retry delay by ± this share of itself, in [0, 1) (default 0.1).
func WithCallbackJitter(f float64) Option {
	return func(s *settings) { s.opts.Callbacks.Jitter, s.jitterSet = f, true }
}

// WithCallbackSuccess sets what a receiver must answer for a delivery to succeed: "200" (the
// seed's words, the default) or "2xx".
func WithCallbackSuccess(set string) Option {
	return func(s *settings) { s.opts.Callbacks.Success = set }
}
