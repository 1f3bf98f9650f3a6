// Package equalturemock is the module's root. It holds the files the binary embeds, so that it
// needs none at run time: the vendor API contract (openapi.yaml), the control API contract
// (control-openapi.yaml), the JSON Schema of scenario files and the default fixtures. They live
// here, beside the sources users edit, because go:embed reaches no file above its package.
//
// This package is not the mock's Go API: import mockserver (the mock as an http.Handler) or
// equaltest (the mock inside Go tests).
package equalturemock

import (
	"embed"
	"io/fs"
)

//go:embed openapi.yaml control-openapi.yaml scenarios/scenario.schema.json fixtures/*.yaml
var files embed.FS

// Files returns the embedded files, read-only: openapi.yaml, control-openapi.yaml,
// scenarios/scenario.schema.json and fixtures/*.yaml (clients.yaml, traits.yaml). Every read
// returns a copy, so no reader can change what another reads.
func Files() fs.FS { return files }
