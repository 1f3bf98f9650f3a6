// Package app assembles the whole mock from its parts, once: the contract, the fixtures, the clock,
// the store, the token signer and the servers. The CLI, the scenario runner's in-process mock and
// the tests all build it here, so they run the same thing.
package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	equalturemock "github.com/equalture/equalture-mock"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/control"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/phxtoken"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/store"
	"github.com/equalture/equalture-mock/internal/version"
	"github.com/equalture/equalture-mock/mockserver"
)

// Options configure an App.
type Options struct {
	Server mockserver.Config
	// FixturesDir overrides the embedded fixtures when set.
	FixturesDir string
	// SigningKey signs tokens and links; random when empty (tokens die with the process, as a
	// restarted real service's would not, but a mock's state does too).
	SigningKey []byte
	// Clock is the clock everything expires on; a running virtual clock when nil.
	Clock  *clock.Virtual
	Logger *slog.Logger
	// AdminToken protects the control API when set.
	AdminToken string
	// Callbacks tunes results deliveries (retries, timeout, workers, auto-completion).
	Callbacks delivery.Config
	// JournalSize bounds the request journal (journal.DefaultMax when 0).
	JournalSize int
}

// App is an assembled mock.
type App struct {
	Handler   http.Handler
	Server    *mockserver.Server
	Spec      *spec.Spec
	Store     *store.Store
	Clock     *clock.Virtual
	Fixtures  *fixtures.Set
	Journal   *journal.Journal
	Faults    *fault.Set
	Control   *control.Handler
	Callbacks *delivery.Dispatcher
}

// New builds the mock.
func New(ctx context.Context, opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	sp, err := spec.Load(ctx, equalturemock.VendorSpec)
	if err != nil {
		return nil, err
	}
	fsys := equalturemock.Fixtures()
	if opts.FixturesDir != "" {
		fsys = os.DirFS(opts.FixturesDir)
	}
	fx, err := fixtures.Load(fsys)
	if err != nil {
		return nil, err
	}
	key := opts.SigningKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("app: signing key: %w", err)
		}
	}
	signer, err := phxtoken.NewSigner(key)
	if err != nil {
		return nil, err
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.NewVirtual()
	}
	st := store.New(clk)
	gen := results.NewGenerator(fx, opts.Server.Seed)
	a := &App{Spec: sp, Store: st, Clock: clk, Fixtures: fx, Journal: journal.New(opts.JournalSize), Faults: fault.NewSet(uint64(opts.Server.Seed))}
	a.Server, err = mockserver.New(opts.Server, mockserver.Deps{
		Spec:     sp,
		Store:    st,
		Clock:    clk,
		Fixtures: fx,
		Results:  gen,
		Tokens:   signer,
		Logger:   opts.Logger,
		Journal:  a.Journal,
		Faults:   a.Faults,
	})
	if err != nil {
		return nil, err
	}
	if opts.Callbacks.Seed == 0 {
		opts.Callbacks.Seed = uint64(opts.Server.Seed)
	}
	a.Callbacks, err = delivery.New(opts.Callbacks, delivery.Deps{
		Clock:    clk,
		Store:    st,
		Fixtures: fx,
		Payload:  func(app store.Application) any { return a.Server.Results(app, "en") },
		Complete: func(ref string) error {
			app, err := st.Lookup(ref)
			if err != nil {
				return err
			}
			job, _ := fx.Job(app.ClientID, app.JobID)
			_, err = st.Complete(ref, gen.Draw(ref, job))
			return err
		},
		UserAgent: "equalture-mock/" + version.Version,
		Logger:    opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	controlSpec, err := spec.Load(ctx, equalturemock.ControlSpec)
	if err != nil {
		return nil, err
	}
	a.Control, err = control.New(control.Deps{
		Spec:        controlSpec,
		Store:       st,
		Clock:       clk,
		Fixtures:    fx,
		Results:     gen,
		Journal:     a.Journal,
		Faults:      a.Faults,
		Callbacks:   a.Callbacks,
		ControlSpec: equalturemock.ControlSpec,
		VendorSpec:  equalturemock.VendorSpec,
		AdminToken:  opts.AdminToken,
		Logger:      opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	a.Handler = http.HandlerFunc(a.route)
	return a, nil
}

// route sends /_mock to the control API and everything else to the mock server.
func (a *App) route(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, control.Prefix) {
		a.Control.ServeHTTP(w, r)
		return
	}
	a.Server.ServeHTTP(w, r)
}

// Close stops the app's background work: callback attempts in flight get until ctx is done.
func (a *App) Close(ctx context.Context) error { return a.Callbacks.Close(ctx) }
