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

	equalturemock "github.com/equalture/equalture-mock"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/phxtoken"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/store"
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
}

// App is an assembled mock.
type App struct {
	Handler  http.Handler
	Server   *mockserver.Server
	Spec     *spec.Spec
	Store    *store.Store
	Clock    *clock.Virtual
	Fixtures *fixtures.Set
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
	srv, err := mockserver.New(opts.Server, mockserver.Deps{
		Spec:     sp,
		Store:    st,
		Clock:    clk,
		Fixtures: fx,
		Results:  results.NewGenerator(fx, opts.Server.Seed),
		Tokens:   signer,
		Logger:   opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &App{Handler: srv, Server: srv, Spec: sp, Store: st, Clock: clk, Fixtures: fx}, nil
}

// Close stops the app's background work.
func (a *App) Close(ctx context.Context) error { return nil }
