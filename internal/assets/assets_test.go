package assets_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/equalture/equalture-mock/internal/assets"
)

// The embedded files are the repository's own, byte for byte.
func TestEmbeddedFilesAreTheSources(t *testing.T) {
	root := filepath.Join("..", "..")
	tests := map[string][]byte{
		"openapi.yaml":                   assets.VendorSpec(),
		"control-openapi.yaml":           assets.ControlSpec(),
		"scenarios/scenario.schema.json": assets.ScenarioSchema(),
	}
	for _, name := range []string{"clients.yaml", "traits.yaml"} {
		b, err := fs.ReadFile(assets.Fixtures(), name)
		if err != nil {
			t.Fatal(err)
		}
		tests["fixtures/"+name] = b
	}
	for name, got := range tests {
		want, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("embedded %s (%d bytes) differs from the file (%d bytes)", name, len(got), len(want))
		}
	}
}
