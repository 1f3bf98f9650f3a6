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
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
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
	// CompletedRef lists reference ids (comma-separated) of applications already completed (or
	// hired) on the target, for the specs of completed applications against a real account.
	CompletedRef string
	// HireableRef is a completed, not yet hired application the suite may hire (once).
	HireableRef     string
	RequestTimeout  string // how long one request may take (a Go duration; default 10s)
	CallbackTimeout string // how long a callback spec waits for its callback (default 15s)
	NegativeCount   string // invalid requests per operation under the negative label (default 20)
	NegativeSeed    string // seed of the invalid-request generator (default 1)
	// Inferred is what a disagreement with a part the contract only guessed (x-inferred) does:
	// "fail" the spec, or "warn" (a report entry and JUnit property, the spec goes on). Default:
	// fail against the mock (it is the contract's guesses), warn against the real service.
	Inferred string
	// TokenWait is how long the slow spec holds a token before using it when there is no
	// control API to move the clock (default: the contract's token lifetime plus 30s).
	TokenWait string

	// Parsed holds the settings above that are not plain strings, as Complete reads them.
	Parsed Parsed
}

// Parsed are the typed settings.
type Parsed struct {
	CompletedRefs   []string
	RequestTimeout  time.Duration
	CallbackTimeout time.Duration
	NegativeCount   int
	NegativeSeed    uint64
	// FailOnInferred says a disagreement with a guess fails the spec (Inferred "fail").
	FailOnInferred bool
	// TokenWait is 0 when not set: the suite then waits the contract's token lifetime plus
	// DefaultTokenWaitMargin.
	TokenWait time.Duration
}

// Defaults of the typed settings.
const (
	DefaultRequestTimeout  = 10 * time.Second
	DefaultCallbackTimeout = 15 * time.Second
	DefaultNegativeCount   = 20
	DefaultNegativeSeed    = 1
	// DefaultTokenWaitMargin is how much longer than its documented lifetime the slow spec holds
	// a token against a target without a control API.
	DefaultTokenWaitMargin = 30 * time.Second
)

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
	{"EQUALTURE_CONTRACT_COMPLETED_REF", "completed-ref", "reference ids (comma-separated) of applications already completed on the target (readonly specs of results, public links)", func(c *Config) *string { return &c.CompletedRef }},
	{"EQUALTURE_CONTRACT_HIREABLE_REF", "hireable-ref", "a completed, not yet hired application the suite may hire once (destructive)", func(c *Config) *string { return &c.HireableRef }},
	{"EQUALTURE_CONTRACT_REQUEST_TIMEOUT", "request-timeout", "how long one request may take (default 10s)", func(c *Config) *string { return &c.RequestTimeout }},
	{"EQUALTURE_CONTRACT_CALLBACK_TIMEOUT", "callback-timeout", "how long a callback spec waits for its callback (default 15s; against the real service, as long as a person needs to complete an assessment)", func(c *Config) *string { return &c.CallbackTimeout }},
	{"EQUALTURE_CONTRACT_NEGATIVE_COUNT", "negative-count", "invalid requests per operation under the negative label (default 20)", func(c *Config) *string { return &c.NegativeCount }},
	{"EQUALTURE_CONTRACT_NEGATIVE_SEED", "negative-seed", "seed of the invalid-request generator (default 1; every parallel process must use the same)", func(c *Config) *string { return &c.NegativeSeed }},
	{"EQUALTURE_CONTRACT_INFERRED", "inferred", "warn or fail when the target does otherwise than a part the contract only guessed (x-inferred): news about the contract (default: fail against the mock, warn against the real service)", func(c *Config) *string { return &c.Inferred }},
	{"EQUALTURE_CONTRACT_TOKEN_WAIT", "token-wait", "how long the slow spec holds a token before using it, without a control API (default: the contract's token lifetime plus 30s)", func(c *Config) *string { return &c.TokenWait }},
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
	c.Parsed.CompletedRefs = nil
	for _, ref := range strings.Split(c.CompletedRef, ",") {
		if ref = strings.TrimSpace(ref); ref != "" {
			c.Parsed.CompletedRefs = append(c.Parsed.CompletedRefs, ref)
		}
	}
	for _, ref := range slices.Concat(c.Parsed.CompletedRefs, []string{c.HireableRef}) {
		if ref != "" && !uuidRE.MatchString(ref) {
			errs = append(errs, fmt.Errorf("reference id %q (EQUALTURE_CONTRACT_COMPLETED_REF or _HIREABLE_REF) is not a UUID", ref))
		}
	}
	if c.HireableRef != "" && slices.Contains(c.Parsed.CompletedRefs, c.HireableRef) {
		errs = append(errs, errors.New("EQUALTURE_CONTRACT_HIREABLE_REF must not be one of EQUALTURE_CONTRACT_COMPLETED_REF: hiring it changes what the readonly specs read"))
	}
	for _, d := range []struct {
		env, v, like string
		def          time.Duration
		into         *time.Duration
	}{
		{"EQUALTURE_CONTRACT_REQUEST_TIMEOUT", c.RequestTimeout, "30s or 45m", DefaultRequestTimeout, &c.Parsed.RequestTimeout},
		{"EQUALTURE_CONTRACT_CALLBACK_TIMEOUT", c.CallbackTimeout, "30s or 45m", DefaultCallbackTimeout, &c.Parsed.CallbackTimeout},
		{"EQUALTURE_CONTRACT_TOKEN_WAIT", c.TokenWait, "16m", 0, &c.Parsed.TokenWait},
	} {
		*d.into = d.def
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("%s %q must be a positive duration like %s", d.env, d.v, d.like))
			continue
		}
		*d.into = v
	}
	switch c.Inferred {
	case "":
		c.Parsed.FailOnInferred = local || c.ControlURL != ""
	case "fail", "warn":
		c.Parsed.FailOnInferred = c.Inferred == "fail"
	default:
		errs = append(errs, fmt.Errorf("EQUALTURE_CONTRACT_INFERRED %q must be warn or fail", c.Inferred))
	}
	var err error
	if c.Parsed.NegativeCount, c.Parsed.NegativeSeed, err = c.Negatives(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Negatives returns how many invalid requests per operation the negative label generates, and
// the generator's seed; defaults where a setting is empty or broken (the error says which). The
// suite needs them while it builds its tree, before Complete runs.
func (c *Config) Negatives() (count int, seed uint64, err error) {
	count, seed = DefaultNegativeCount, DefaultNegativeSeed
	var errs []error
	if c.NegativeCount != "" {
		n, err := strconv.Atoi(c.NegativeCount)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("EQUALTURE_CONTRACT_NEGATIVE_COUNT %q must be a number ≥ 0", c.NegativeCount))
		} else {
			count = n
		}
	}
	if c.NegativeSeed != "" {
		n, err := strconv.ParseUint(c.NegativeSeed, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("EQUALTURE_CONTRACT_NEGATIVE_SEED %q must be a number ≥ 0", c.NegativeSeed))
		} else {
			seed = n
		}
	}
	return count, seed, errors.Join(errs...)
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
