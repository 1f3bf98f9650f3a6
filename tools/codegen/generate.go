// Package codegen checks that openapi.yaml generates clients that compile and work with the
// generators' default settings, as an ATS team runs them: oapi-codegen for Go (the client in
// eqclient) and openapi-typescript with openapi-fetch for TypeScript (the npm tools in
// tools/lint); its tests drive the walk-through against the mock with each. eqserver, what
// oapi-codegen generates with no settings at all (models and an Echo server), only has to compile.
// Both Go packages are generated afresh by `go generate` (make codegen-test), never committed.
// This is a module of its own so that the mock's go.mod stays lean.
package codegen

// The generator runs as users run it, built with its own go.mod's dependencies (go run at a
// version), not with this module's (the mock's kin-openapi is newer than the generator's).
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-codegen.yaml ../../openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-codegen-defaults.yaml ../../openapi.yaml
