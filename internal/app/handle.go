package app

import "sync"

// The project's public packages wrap an App without an internal type in their API (mockserver.Server
// holds one). Wrap records which App a wrapper holds, so the project's own packages (equaltest)
// reach it — its service, the mock's Go-level control handle — and drive the mock in process
// rather than over HTTP.
var wrapped sync.Map // wrapper → *App

// Wrap records that wrapper holds a.
func Wrap(wrapper any, a *App) { wrapped.Store(wrapper, a) }

// Unwrap forgets wrapper (its App is closed).
func Unwrap(wrapper any) { wrapped.Delete(wrapper) }

// Of returns the App wrapper holds, or nil.
func Of(wrapper any) *App {
	a, _ := wrapped.Load(wrapper)
	app, _ := a.(*App)
	return app
}
