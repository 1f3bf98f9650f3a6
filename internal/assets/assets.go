// Package assets reads the files the binary embeds (see the module's root package): the two
// contracts, the scenario schema and the default fixtures. Each is read once per process; the
// slices returned are shared, so callers must not modify them.
package assets

import (
	"io/fs"
	"sync"

	equalturemock "github.com/equalture/equalture-mock"
)

var (
	vendorSpec     = sync.OnceValue(func() []byte { return read("openapi.yaml") })
	controlSpec    = sync.OnceValue(func() []byte { return read("control-openapi.yaml") })
	scenarioSchema = sync.OnceValue(func() []byte { return read("scenarios/scenario.schema.json") })
)

// VendorSpec returns openapi.yaml, the Equalture Open Assessment API contract.
func VendorSpec() []byte { return vendorSpec() }

// ControlSpec returns control-openapi.yaml, the contract of the mock's control API under /_mock.
func ControlSpec() []byte { return controlSpec() }

// ScenarioSchema returns scenarios/scenario.schema.json, the JSON Schema of scenario files: the
// scenario runner validates every file against it, and editors use it to complete and check them.
func ScenarioSchema() []byte { return scenarioSchema() }

// Fixtures returns the default fixtures directory (clients.yaml, traits.yaml).
func Fixtures() fs.FS {
	sub, err := fs.Sub(equalturemock.Files(), "fixtures")
	if err != nil {
		panic(err) // the embedded tree always has the directory
	}
	return sub
}

func read(name string) []byte {
	b, err := fs.ReadFile(equalturemock.Files(), name)
	if err != nil {
		panic(err) // embedded at build time: it is there
	}
	return b
}
