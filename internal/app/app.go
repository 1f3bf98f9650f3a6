// Package app assembles the whole mock from its parts, once: the contracts, the fixtures, the
// clock, the data file, the signer, the service (with its store and delivery sender) and the HTTP
// faces (vendor API, control API, operator console, pages), each built after what it needs. The public mockserver package, the CLI
// through it, and the tests all build it here, so they run the same thing.
package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/console"
	"github.com/equalture/equalture-mock/internal/control"
	"github.com/equalture/equalture-mock/internal/coverage"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/egress"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/pages"
	"github.com/equalture/equalture-mock/internal/persist"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/vendorapi"
	"github.com/equalture/equalture-mock/internal/version"
)

// Options configure an App.
type Options struct {
	// Service holds the links' base URL and lifetimes and automatic completion.
	Service service.Config
	// Egress says where deliveries may go: the callback host allow-list, the addresses the mock
	// listens on (its public URL is the service's), and in tests a resolver. See package egress.
	Egress egress.Config
	// Seed makes reference ids, scores, jitter, event ids and fault probabilities reproducible
	// (0: random).
	Seed int64
	// TokenTTL is how long an access token is valid (when 0, the contract's x-token-ttl: 15
	// minutes).
	TokenTTL time.Duration
	// MaxBodyBytes limits vendor API request bodies (1 MiB when 0).
	MaxBodyBytes int64
	// FixturesDir overrides the embedded fixtures when set.
	FixturesDir string
	// SigningKey signs tokens and links; random when empty (tokens die with the process, as a
	// restarted real service's would not, but a mock's state does too), or with DataDir the key
	// the data file holds.
	SigningKey []byte
	// DataDir, when set, keeps the state in a file there, restored at start-up: applications,
	// token generations, webhooks, deliveries, the clock's course, the signing key and how many
	// reference ids were drawn. Without it everything lives in memory.
	DataDir string
	// Clock is the clock everything expires on; a running virtual clock when nil.
	Clock  *clock.Virtual
	Logger *slog.Logger
	// AdminToken protects the control API when set.
	AdminToken string
	// Callbacks tunes deliveries: results callbacks and webhook events (retries, timeout, workers).
	Callbacks delivery.Config
	// JournalSize and JournalMaxBytes bound the request journal in entries and bytes (the
	// journal's defaults when 0).
	JournalSize     int
	JournalMaxBytes int64
	// Contract and ControlContract, when set, replace the embedded openapi.yaml and
	// control-openapi.yaml: the mock serves, validates by and enforces (their x-lifecycle) these.
	// For tests that prove a rule is read from the contract, not written again in the mock.
	Contract, ControlContract []byte
}

// DefaultTokenTTL is how long access tokens are valid unless Options say otherwise: the
// lifetime openapi.yaml documents (x-token-ttl of its bearer scheme).
func DefaultTokenTTL() (time.Duration, error) {
	sp, err := spec.Vendor()
	if err != nil {
		return 0, err
	}
	return tokenTTL(sp)
}

// tokenTTL is the access tokens' lifetime contract sp documents.
func tokenTTL(sp *spec.Spec) (time.Duration, error) {
	ttl, ok := sp.TokenTTL()
	if !ok {
		return 0, errors.New("app: openapi.yaml documents no token lifetime (x-token-ttl)")
	}
	return ttl, nil
}

// App is an assembled mock.
type App struct {
	Handler  http.Handler
	Spec     *spec.Spec // openapi.yaml
	Service  *service.Service
	Clock    *clock.Virtual
	Fixtures *fixtures.Set
	Auth     *auth.Authenticator
	Journal  *journal.Journal
	Faults   *fault.Set
	// Coverage counts what the vendor API's traffic met of openapi.yaml, callbacks included.
	Coverage *coverage.Recorder
	Vendor   *vendorapi.API
	Control  *control.Handler
	Pages    *pages.Pages
	Console  *console.Handler

	// ControlSpec is control-openapi.yaml.
	ControlSpec *spec.Spec

	db *persist.DB // nil in memory
}

// New builds the mock, each part after what it needs: the contracts, the fixtures, the clock and
// the data file; the signing key; the service (which builds the store and the delivery sender on
// the data file); authentication; the faces. Work a restart interrupted starts last.
func New(ctx context.Context, opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	sp, controlSpec, err := contracts(ctx, opts)
	if err != nil {
		return nil, err
	}
	if opts.TokenTTL <= 0 {
		if opts.TokenTTL, err = tokenTTL(sp); err != nil {
			return nil, err
		}
	}
	// The lifecycle the contracts state, as the domain applies it: the mock does not start on
	// contracts whose rules it could not enforce.
	lifecycle, err := spec.DomainLifecycle(sp, controlSpec)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	fsys := assets.Fixtures()
	if opts.FixturesDir != "" {
		fsys = os.DirFS(opts.FixturesDir)
	}
	fx, err := fixtures.Load(fsys)
	if err != nil {
		return nil, err
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.NewVirtual()
	}
	a := &App{
		Clock:       clk,
		Spec:        sp,
		Fixtures:    fx,
		Journal:     journal.New(opts.JournalSize, opts.JournalMaxBytes),
		Faults:      fault.NewSet(uint64(opts.Seed)),
		Coverage:    coverage.New(sp),
		ControlSpec: controlSpec,
	}
	if opts.DataDir != "" {
		if a.db, err = persist.Open(opts.DataDir); err != nil {
			return nil, err
		}
	}
	if err := a.build(opts, lifecycle); err != nil {
		return nil, errors.Join(err, a.Close(ctx))
	}
	if a.db != nil {
		st := clk.State()
		_, pending := a.Service.DeliveriesPage(delivery.Filter{Status: delivery.Pending}, 0, 0) // counted, not copied
		opts.Logger.Info("data file opened", "path", a.db.Path(), "applications", a.Service.Count(),
			"deliveries_pending", pending, "clock", st.Now.UTC(), "frozen", st.Frozen)
	}
	a.Service.Resume()
	return a, nil
}

// contracts returns the vendor's and the control API's contracts: the embedded ones, loaded once
// per process, unless opts give others.
func contracts(ctx context.Context, opts Options) (vendor, control *spec.Spec, err error) {
	load := func(data []byte, embedded func() (*spec.Spec, error)) (*spec.Spec, error) {
		if data == nil {
			return embedded()
		}
		return spec.Load(ctx, data)
	}
	if vendor, err = load(opts.Contract, spec.Vendor); err != nil {
		return nil, nil, err
	}
	if control, err = load(opts.ControlContract, spec.Control); err != nil {
		return nil, nil, err
	}
	return vendor, control, nil
}

// build assembles the parts on a.Clock and a.db, enforcing lifecycle.
func (a *App) build(opts Options, lifecycle *domain.Lifecycle) error {
	key, err := a.signingKey(opts)
	if err != nil {
		return err
	}
	signer, err := auth.NewSigner(key)
	if err != nil {
		return err
	}
	cfg := opts.Service
	cfg.Seed, cfg.Deliveries, cfg.Egress = opts.Seed, opts.Callbacks, opts.Egress
	a.Service, err = service.New(cfg, service.Deps{
		Clock:     a.Clock,
		Lifecycle: lifecycle,
		Fixtures:  a.Fixtures,
		Links:     signer,
		Journal:   a.Journal,
		Faults:    a.Faults,
		Coverage:  a.Coverage,
		DB:        a.db,
		UserAgent: "equalture-mock/" + version.Get().Version,
		Logger:    opts.Logger,
	})
	if err != nil {
		return err
	}
	a.Auth = auth.New(signer, a.Service, a.Fixtures, a.Clock, opts.TokenTTL)
	admin := auth.NewAdmin(opts.AdminToken, a.Clock)
	a.Vendor, err = vendorapi.New(vendorapi.Deps{
		Spec:         a.Spec,
		Service:      a.Service,
		Auth:         a.Auth,
		Fixtures:     a.Fixtures,
		Clock:        a.Clock,
		Journal:      a.Journal,
		Faults:       a.Faults,
		Coverage:     a.Coverage,
		MaxBodyBytes: opts.MaxBodyBytes,
		Logger:       opts.Logger,
	})
	if err == nil {
		a.Control, err = control.New(control.Deps{
			Spec:        a.ControlSpec,
			Service:     a.Service,
			ControlSpec: orEmbedded(opts.ControlContract, assets.ControlSpec),
			VendorSpec:  orEmbedded(opts.Contract, assets.VendorSpec),
			Admin:       admin,
			Logger:      opts.Logger,
		})
	}
	if err != nil {
		return err
	}
	sessions, err := auth.NewSigner(subKey(key, "dashboard sessions"))
	if err != nil {
		return err
	}
	a.Pages = pages.New(pages.Deps{
		Service:  a.Service,
		Sessions: auth.NewSessions(sessions, a.Fixtures, a.Clock, 0),
		Logger:   opts.Logger,
	})
	a.Console, err = console.New(console.Deps{
		Service:  a.Service,
		Fixtures: a.Fixtures,
		Admin:    admin,
		Key:      subKey(key, "console"),
		Logger:   opts.Logger,
	})
	if err != nil {
		return err
	}
	a.Handler = http.HandlerFunc(a.route)
	return nil
}

// orEmbedded is data, or the embedded file when data is nil.
func orEmbedded(data []byte, embedded func() []byte) []byte {
	if data == nil {
		return embedded()
	}
	return data
}

// keySigningKey is the data file's record of the signing key.
const keySigningKey = "signing_key"

// signingKey is the key in force: the one given (which replaces a different one the data file
// holds: tokens and links it signed stop verifying), else the data file's, else a new random
// one, which the data file keeps.
func (a *App) signingKey(opts Options) ([]byte, error) {
	var saved []byte
	if _, err := a.db.GetJSON(persist.State, keySigningKey, &saved); err != nil {
		return nil, err
	}
	key := opts.SigningKey
	switch {
	case len(key) == 0 && len(saved) > 0:
		return saved, nil
	case len(key) == 0:
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("app: signing key: %w", err)
		}
	case bytes.Equal(key, saved):
		return key, nil
	case len(saved) > 0:
		opts.Logger.Warn("the signing key given replaces the data file's: tokens and links issued before no longer verify", "data_file", a.db.Path())
	}
	if err := a.db.Wait(a.db.Append(persist.Put(persist.State, keySigningKey, key))); err != nil {
		return nil, err
	}
	return key, nil
}

// HTTPServer returns the http.Server the mock runs in, its handler h: timeouts that stop slow or
// idle clients from holding connections (headers within 10 s, a whole request within a minute),
// and net/http's own complaints logged as warnings.
func HTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// subKey derives a key for one use from the signing key, so that what one signer signs (a
// dashboard session, a console cookie) cannot pass for what another does (an access token).
func subKey(key []byte, use string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(use))
	return m.Sum(nil)
}

// route sends each request to the face it belongs to.
func (a *App) route(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, vendorapi.Prefix):
		a.Vendor.ServeHTTP(w, r)
	case console.Owns(p):
		// The console is HTML for people under the control prefix, not an operation of
		// control-openapi.yaml: it is routed here, before the control API's dispatcher.
		a.Console.ServeHTTP(w, r)
	case strings.HasPrefix(p, control.Prefix):
		a.Control.ServeHTTP(w, r)
	case p == "/healthz":
		a.handleHealth(w, r)
	default:
		a.Pages.ServeHTTP(w, r)
	}
}

func (a *App) handleHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		apierr.Write(w, nil, apierr.New(apierr.MethodNotAllowed, "Method %s is not allowed on /healthz; allowed: GET", r.Method).WithHeader("Allow", "GET"))
		return
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{
		"status":       "ok",
		"time":         a.Clock.Now().UTC(),
		"applications": a.Service.Count(),
	})
}

// Close stops the app's background work — callback attempts in flight get until ctx is done —
// then closes the data file.
func (a *App) Close(ctx context.Context) error {
	var err error
	if a.Service != nil {
		err = a.Service.Close(ctx)
	}
	return errors.Join(err, a.db.Close())
}
