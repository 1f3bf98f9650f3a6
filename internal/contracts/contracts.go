// Package contracts loads the contracts the binary embeds — the vendor API's (openapi.yaml) and the
// control API's (control-openapi.yaml) — once per process. A loaded spec.Spec is read-only, so
// every mock, client and test in the process shares the same one.
package contracts

import (
	"context"
	"sync"

	equalturemock "github.com/equalture/equalture-mock"
	"github.com/equalture/equalture-mock/internal/spec"
)

var (
	vendor  = sync.OnceValues(func() (*spec.Spec, error) { return spec.Load(context.Background(), equalturemock.VendorSpec) })
	control = sync.OnceValues(func() (*spec.Spec, error) { return spec.Load(context.Background(), equalturemock.ControlSpec) })
)

// Vendor returns openapi.yaml, loaded and checked.
func Vendor() (*spec.Spec, error) { return vendor() }

// Control returns control-openapi.yaml, loaded and checked.
func Control() (*spec.Spec, error) { return control() }
