// Package contracttest holds the contract suite's settings — each an environment variable and a
// flag, read by the suite (contract/) and by `equalture-mock contract` — and, in its tests, the
// proof that the suite has teeth: it runs the real suite binary against the mock through a proxy
// that breaks the mock's answers on purpose.
package contracttest

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
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
	ControlToken  string // the control API's admin token, when the mock requires one
	ReceiverAddr  string // where the suite listens for callbacks
	ReceiverURL   string // how the target reaches that listener
}

// Setting is one configuration knob: its environment variable, its flag and what it means.
type Setting struct {
	Env, Flag, Usage string
	field            func(*Config) *string
}

// Var returns the field of c the setting fills.
func (s Setting) Var(c *Config) *string { return s.field(c) }

var settings = []Setting{
	{"EQUALTURE_CONTRACT_BASE_URL", "base-url", "vendor API base URL (empty: start an in-process mock)", func(c *Config) *string { return &c.BaseURL }},
	{"EQUALTURE_CONTRACT_CLIENT_ID", "client-id", "client_id for Basic auth", func(c *Config) *string { return &c.ClientID }},
	{"EQUALTURE_CONTRACT_CLIENT_SECRET", "client-secret", "client_secret for Basic auth", func(c *Config) *string { return &c.ClientSecret }},
	{"EQUALTURE_CONTRACT_CLIENT2_ID", "client2-id", "a second client's id (tenant isolation specs)", func(c *Config) *string { return &c.Client2ID }},
	{"EQUALTURE_CONTRACT_CLIENT2_SECRET", "client2-secret", "the second client's secret", func(c *Config) *string { return &c.Client2Secret }},
	{"EQUALTURE_CONTRACT_JOB_ID", "job-id", "job to create applications for (default: the first listed)", func(c *Config) *string { return &c.JobID }},
	{"EQUALTURE_CONTRACT_CONTROL_URL", "control-url", "the mock's control API, e.g. http://localhost:8080/_mock (enables 'control' specs)", func(c *Config) *string { return &c.ControlURL }},
	{"EQUALTURE_CONTRACT_CONTROL_TOKEN", "control-token", "admin token of the mock's control API, when it has one", func(c *Config) *string { return &c.ControlToken }},
	{"EQUALTURE_CONTRACT_RECEIVER_ADDR", "receiver-addr", "listen address of the callback receiver (default 127.0.0.1:0)", func(c *Config) *string { return &c.ReceiverAddr }},
	{"EQUALTURE_CONTRACT_RECEIVER_URL", "receiver-url", "URL at which the target reaches the receiver (default http://<receiver-addr>)", func(c *Config) *string { return &c.ReceiverURL }},
}

// Settings lists every setting, in the order the documentation gives them.
func Settings() []Setting { return append([]Setting(nil), settings...) }

// RegisterFlags registers a flag per setting on fs. The flags start empty: ApplyEnv fills what
// no flag set, so a flag wins over the environment and no secret shows up as a flag default.
func RegisterFlags(fs *flag.FlagSet, c *Config) {
	for _, s := range settings {
		fs.StringVar(s.field(c), s.Flag, "", s.Usage+" ["+s.Env+"]")
	}
}

// ApplyEnv fills every setting still empty from its environment variable.
func (c *Config) ApplyEnv(getenv func(string) string) {
	for _, s := range settings {
		if p := s.field(c); *p == "" {
			*p = getenv(s.Env)
		}
	}
}

// Env returns the environment variables that configure c (for running the suite binary).
func (c *Config) Env() []string {
	var out []string
	for _, s := range settings {
		if v := *s.field(c); v != "" {
			out = append(out, s.Env+"="+v)
		}
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
	for _, u := range []struct{ env, v string }{
		{"EQUALTURE_CONTRACT_BASE_URL", c.BaseURL},
		{"EQUALTURE_CONTRACT_CONTROL_URL", c.ControlURL},
		{"EQUALTURE_CONTRACT_RECEIVER_URL", c.ReceiverURL},
	} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q must be an absolute http(s) URL", u.env, u.v))
		}
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		errs = append(errs, fmt.Errorf("the target %s needs credentials: set EQUALTURE_CONTRACT_CLIENT_ID and EQUALTURE_CONTRACT_CLIENT_SECRET (or -client-id/-client-secret)", c.BaseURL))
	}
	if (c.Client2ID == "") != (c.Client2Secret == "") {
		errs = append(errs, errors.New("set both EQUALTURE_CONTRACT_CLIENT2_ID and EQUALTURE_CONTRACT_CLIENT2_SECRET, or neither"))
	}
	if c.ReceiverAddr == "" {
		c.ReceiverAddr = "127.0.0.1:0"
	}
	if _, _, err := net.SplitHostPort(c.ReceiverAddr); err != nil {
		errs = append(errs, fmt.Errorf("EQUALTURE_CONTRACT_RECEIVER_ADDR %q must be host:port: %v", c.ReceiverAddr, err))
	}
	return errors.Join(errs...)
}

// ForProcess gives parallel process n (1-based) of total its own callback receiver. On port 0
// every process gets a free port anyway; on a fixed port P, process n listens on P+n-1, and the
// receiver URL, which must then name P too, follows.
func (c *Config) ForProcess(n, total int) error {
	if total <= 1 {
		return nil
	}
	host, port, err := net.SplitHostPort(c.ReceiverAddr)
	if err != nil {
		return err
	}
	if port == "0" {
		if c.ReceiverURL != "" {
			return fmt.Errorf("with %d parallel processes each needs its own receiver, but they would all share EQUALTURE_CONTRACT_RECEIVER_URL %s: give EQUALTURE_CONTRACT_RECEIVER_ADDR a fixed port P (process n listens on P+n-1) or run without -p", total, c.ReceiverURL)
		}
		return nil
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("EQUALTURE_CONTRACT_RECEIVER_ADDR %q: bad port", c.ReceiverAddr)
	}
	mine := strconv.Itoa(p + n - 1)
	c.ReceiverAddr = net.JoinHostPort(host, mine)
	if c.ReceiverURL == "" {
		return nil
	}
	u, err := url.Parse(c.ReceiverURL)
	if err != nil || u.Port() != port {
		return fmt.Errorf("with %d parallel processes, process n listens on port %s+n-1, so EQUALTURE_CONTRACT_RECEIVER_URL %s must name port %s explicitly (or run without -p)", total, port, c.ReceiverURL, port)
	}
	u.Host = net.JoinHostPort(u.Hostname(), mine)
	c.ReceiverURL = u.String()
	return nil
}
