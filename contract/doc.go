// Package contract is a Ginkgo suite that checks a target — the mock or the real Equalture service —
// against openapi.yaml: every response it receives is validated with kin-openapi (status, headers,
// body), every callback against the contract's callback schema. See docs/contract.md.
//
// Configure it with environment variables (flags of the same names work too, after the package
// path: `go test ./contract -args -base-url=...`). With no base URL it starts an in-process mock.
// The suite is its test files; this package has no API.
package contract
