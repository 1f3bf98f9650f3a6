// Package equalturemock holds the files the binary embeds so it needs none at run time: the vendor
// API contract (openapi.yaml), the control API contract (control-openapi.yaml) and the default
// fixtures (clients, jobs and the trait catalogue) and the JSON Schema of scenario files.
package equalturemock

import (
	"embed"
	"io/fs"
)

// VendorSpec is openapi.yaml, the Equalture Open Assessment API contract.
//
//go:embed openapi.yaml
var VendorSpec []byte

// ControlSpec is control-openapi.yaml, the contract of the mock's control API under /_mock.
//
//go:embed control-openapi.yaml
var ControlSpec []byte

// ScenarioSchema is scenarios/scenario.schema.json, the JSON Schema of scenario files: the
// scenario runner validates every file against it, and editors use it to complete and check them.
//
//go:embed scenarios/scenario.schema.json
var ScenarioSchema []byte

//go:embed fixtures/*.yaml
var fixtures embed.FS

// Fixtures returns the default fixtures directory (clients.yaml, traits.yaml).
func Fixtures() fs.FS {
	sub, err := fs.Sub(fixtures, "fixtures")
	if err != nil {
		panic(err) // the embedded tree always has the directory
	}
	return sub
}
