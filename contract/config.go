// Package contract is a Ginkgo suite that checks a target — the mock or the real Equalture service —
// against openapi.yaml: every response it receives is validated with kin-openapi (status, headers,
// body), every callback against the contract's callback schema. See README.md, "Contract suite".
//
// Configure it with environment variables (flags of the same names work too, after the package
// path: `go test ./contract -args -base-url=...`). With no base URL it starts an in-process mock.
package contract

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// Config says what the suite talks to.
type Config struct {
	BaseURL       string // the vendor API; empty: an in-process mock
	ClientID      string
	ClientSecret  string
	Client2ID     string // a second client, for tenant isolation (optional)
	Client2Secret string
	JobID         string // a job to apply to (default: the first listed)
	ControlURL    string // the mock's control API (only the mock has one)
	ReceiverAddr  string // where the suite listens for callbacks
	ReceiverURL   string // how the target reaches that listener
}

// settings maps each setting to its environment variable and flag name.
var settings = []struct {
	env, flag, usage string
	field            func(*Config) *string
}{
	{"EQUALTURE_CONTRACT_BASE_URL", "base-url", "vendor API base URL (empty: start an in-process mock)", func(c *Config) *string { return &c.BaseURL }},
	{"EQUALTURE_CONTRACT_CLIENT_ID", "client-id", "client_id for Basic auth", func(c *Config) *string { return &c.ClientID }},
	{"EQUALTURE_CONTRACT_CLIENT_SECRET", "client-secret", "client_secret for Basic auth", func(c *Config) *string { return &c.ClientSecret }},
	{"EQUALTURE_CONTRACT_CLIENT2_ID", "client2-id", "a second client's id (tenant isolation specs)", func(c *Config) *string { return &c.Client2ID }},
	{"EQUALTURE_CONTRACT_CLIENT2_SECRET", "client2-secret", "the second client's secret", func(c *Config) *string { return &c.Client2Secret }},
	{"EQUALTURE_CONTRACT_JOB_ID", "job-id", "job to create applications for (default: the first listed)", func(c *Config) *string { return &c.JobID }},
	{"EQUALTURE_CONTRACT_CONTROL_URL", "control-url", "the mock's control API, e.g. http://localhost:8080/_mock (enables 'control' specs)", func(c *Config) *string { return &c.ControlURL }},
	{"EQUALTURE_CONTRACT_RECEIVER_ADDR", "receiver-addr", "listen address of the callback receiver", func(c *Config) *string { return &c.ReceiverAddr }},
	{"EQUALTURE_CONTRACT_RECEIVER_URL", "receiver-url", "URL at which the target reaches the receiver (default http://<receiver-addr>)", func(c *Config) *string { return &c.ReceiverURL }},
}

// RegisterFlags registers a flag per setting on fs, defaulting to the environment.
func RegisterFlags(fs *flag.FlagSet, c *Config) {
	for _, s := range settings {
		fs.StringVar(s.field(c), s.flag, os.Getenv(s.env), s.usage+" ["+s.env+"]")
	}
}

// Env returns the environment variables that configure c (for running the suite binary).
func (c *Config) Env() []string {
	var out []string
	for _, s := range settings {
		if v := *s.field(c); v != "" {
			out = append(out, s.env+"="+v)
		}
	}
	return out
}

// FlagNames lists the settings' flag names.
func FlagNames() []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = s.flag
	}
	return out
}

// Complete checks c and fills defaults; local says the suite runs its own mock.
func (c *Config) Complete(local bool) error {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.ControlURL = strings.TrimRight(c.ControlURL, "/")
	if local {
		if c.ClientID == "" {
			c.ClientID, c.ClientSecret = "demo-client", "demo-secret"
		}
		if c.Client2ID == "" {
			c.Client2ID, c.Client2Secret = "other-client", "other-secret"
		}
	}
	var errs []error
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http") {
		errs = append(errs, fmt.Errorf("EQUALTURE_CONTRACT_BASE_URL %q must be an http(s) URL", c.BaseURL))
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		errs = append(errs, errors.New("a target needs credentials: set EQUALTURE_CONTRACT_CLIENT_ID and EQUALTURE_CONTRACT_CLIENT_SECRET"))
	}
	if (c.Client2ID == "") != (c.Client2Secret == "") {
		errs = append(errs, errors.New("set both EQUALTURE_CONTRACT_CLIENT2_ID and EQUALTURE_CONTRACT_CLIENT2_SECRET, or neither"))
	}
	if c.ReceiverAddr == "" {
		c.ReceiverAddr = "127.0.0.1:0"
	}
	return errors.Join(errs...)
}
