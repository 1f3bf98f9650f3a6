package spec

import (
	"context"
	"testing"

	"github.com/equalture/equalture-mock/internal/assets"
)

func TestLoadedOnce(t *testing.T) {
	for name, get := range map[string]func() (*Spec, error){"vendor": Vendor, "control": Control} {
		a, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b, _ := get(); a != b {
			t.Fatalf("%s was loaded twice", name)
		}
	}
}

// BenchmarkLoadContracts measures what the first mock of a process pays once: both contracts
// parsed, validated and routed.
func BenchmarkLoadContracts(b *testing.B) {
	for b.Loop() {
		for _, doc := range [][]byte{assets.VendorSpec(), assets.ControlSpec()} {
			if _, err := Load(context.Background(), doc); err != nil {
				b.Fatal(err)
			}
		}
	}
}
