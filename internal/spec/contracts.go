package spec

import (
	"context"
	"sync"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/domain"
)

// The contracts the binary embeds — the vendor API's (openapi.yaml) and the control API's
// (control-openapi.yaml) — are loaded once per process. A loaded Spec is read-only, so every mock,
// client and test in the process shares the same one.
var (
	vendor  = sync.OnceValues(func() (*Spec, error) { return Load(context.Background(), assets.VendorSpec()) })
	control = sync.OnceValues(func() (*Spec, error) { return Load(context.Background(), assets.ControlSpec()) })
	rules   = sync.OnceValues(func() (*domain.Lifecycle, error) {
		v, err := Vendor()
		if err != nil {
			return nil, err
		}
		c, err := Control()
		if err != nil {
			return nil, err
		}
		return DomainLifecycle(v, c)
	})
)

// Vendor returns openapi.yaml, loaded and checked, once per process.
func Vendor() (*Spec, error) { return vendor() }

// Control returns control-openapi.yaml, loaded and checked, once per process.
func Control() (*Spec, error) { return control() }

// EmbeddedLifecycle returns the lifecycle the embedded contracts state, as the domain applies it
// (DomainLifecycle), once per process.
func EmbeddedLifecycle() (*domain.Lifecycle, error) { return rules() }
