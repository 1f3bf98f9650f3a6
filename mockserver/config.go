package mockserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"
)

// Config configures a Server. The zero Config is a working mock: every field's zero value means
// the default its comment names. Negative durations and counts, and values out of their range,
// are errors (see Validate), never quietly replaced.
type Config struct {
	// PublicURL is the base URL of the links the mock hands out (assessment, public results,
	// dashboard): where ATS users' browsers reach the mock. Default DefaultPublicURL.
	PublicURL string

	// Seed makes reference ids, scores, retry jitter and fault probabilities reproducible: the
	// same seed and the same requests give the same answers. 0 draws a random seed.
	Seed int64

	// Clock says where the mock's clock starts and whether it runs. Default: running, from now.
	Clock Clock

	// FixturesDir, when set, is a directory whose clients.yaml and traits.yaml replace the
	// embedded fixtures (clients, their jobs, the trait catalogue).
	FixturesDir string

	// DataDir, when set, keeps the mock's state in a file in this directory (created when
	// missing), so that it survives a restart, a crash or a kill -9: applications, the outbox,
	// token generations, deliveries with their pending retries, the clock's course, the signing
	// key and how many reference ids were drawn. A change is on disk before the mock answers the
	// request that made it. One Server at a time may use a directory; a file that is not the
	// mock's, or is damaged, makes New fail. A data file that holds a clock keeps it: Clock then
	// applies only to a new file. The journal and fault rules stay in memory. Default: everything
	// in memory.
	DataDir string

	// SigningKey is the secret that signs access tokens and links, so that tokens outlive a
	// restart. Default: a random key per Server, or with DataDir the key its data file holds (a
	// key given here replaces that one).
	SigningKey []byte

	// AdminToken, when set, makes the control API (/_mock) and the console require
	// "Authorization: Bearer <AdminToken>".
	AdminToken string

	// TokenTTL is how long an access token is valid. Default DefaultTokenTTL.
	TokenTTL time.Duration
	// InvitationTTL is how long an invitation link is valid. Default DefaultInvitationTTL.
	InvitationTTL time.Duration
	// PublicLinkTTL is how long a public results link is valid. Default DefaultPublicLinkTTL.
	PublicLinkTTL time.Duration

	// AutoCompleteAfter completes every application this long after its creation, on the mock's
	// clock, as if the applicant had finished (a job of the fixtures may set its own). Default:
	// never.
	AutoCompleteAfter time.Duration

	// CallbackAllowHosts, when set, are the only hosts callback URLs and webhook URLs may name
	// ("ats.example.com", "*.example.com", "*" for any name, an IP address or a CIDR range such
	// as "10.0.0.0/8"); others are refused with a 422 naming the host. With a list, deliveries
	// reach loopback, private and other non-public addresses only when the list names them: the
	// host exactly, or the address or its range (a name matched by "*." or "*" must resolve to
	// public addresses). Default: any host, loopback receivers included — but never the mock
	// itself.
	CallbackAllowHosts []string

	// ListenAddrs are the addresses the mock is served on ("127.0.0.1:8080", ":8080"), besides
	// its public URL: callback and webhook URLs pointing there are refused (422) and deliveries
	// never connect there, so a tenant cannot make the mock call its own control API. A program
	// serving the mock on a listener of its own gives the listener's address.
	ListenAddrs []string

	// Callbacks is how results callbacks and webhook events are delivered: retries, timeouts,
	// concurrency, what counts as success.
	Callbacks CallbackPolicy

	// MaxBodyBytes limits vendor API request bodies (413 beyond). Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// JournalSize is how many requests the journal keeps (the newest). Default
	// DefaultJournalSize.
	JournalSize int
	// JournalMaxBytes bounds the journal in bytes too: the oldest entries go first. Each body is
	// kept up to 64 KiB, marked truncated with its real size beyond. Default
	// DefaultJournalMaxBytes.
	JournalMaxBytes int64

	// Logger gets the mock's logs: a line per request at info, callback attempts, errors.
	// Default: none.
	Logger *slog.Logger
}

// Clock says where the mock's clock starts and whether it runs. The mock reads every expiry —
// tokens, links, callback retries, automatic completions — on this clock, which the control API
// and the Server's methods can move, set, freeze and unfreeze.
type Clock struct {
	// Start is the clock's time when the Server is built. Default: now.
	Start time.Time
	// Frozen stops the clock at Start: time moves only when it is moved (Server.Advance, POST
	// /_mock/clock/advance), so tests decide when tokens, links and retries come due. Default:
	// the clock runs with real time.
	Frozen bool
}

// CallbackPolicy is how the mock delivers results callbacks (the PUT of an application's results
// to its callback URL) and webhook events (POSTed to a client's webhooks). Zero fields take the
// defaults their comments name.
type CallbackPolicy struct {
	// Schedule is the delay before each attempt of a series; attempts beyond the list reuse its
	// last delay. Default DefaultCallbackSchedule().
	Schedule []time.Duration
	// MaxAttempts is how many attempts a delivery gets before it fails. Default: one per
	// Schedule entry.
	MaxAttempts int
	// Timeout bounds one attempt, in real time. Default DefaultCallbackTimeout.
	Timeout time.Duration
	// Workers bounds how many attempts run at once. Default DefaultCallbackWorkers.
	Workers int
	// TimeScale multiplies every retry delay (0.001 runs a whole schedule in seconds). Default 1.
	TimeScale float64
	// Jitter spreads each retry delay by ± this share of itself, in [0, 1). Default
	// DefaultCallbackJitter; set NoJitter for exact delays.
	Jitter float64
	// NoJitter makes every retry wait exactly its scheduled delay.
	NoJitter bool
	// Success is what a receiver must answer for an attempt to succeed. Default Success200.
	Success Success
}

// Success is what a receiver must answer for a delivery attempt to succeed.
type Success uint8

const (
	// Success200 accepts only 200 OK, as the vendor's documentation words it (the default).
	Success200 Success = iota
	// Success2xx accepts any 2xx status.
	Success2xx
)

// String returns "200" or "2xx".
func (s Success) String() string {
	switch s {
	case Success200:
		return "200"
	case Success2xx:
		return "2xx"
	}
	return fmt.Sprintf("Success(%d)", uint8(s))
}

// MarshalText writes s as String does.
func (s Success) MarshalText() ([]byte, error) {
	if s > Success2xx {
		return nil, fmt.Errorf("mockserver: no Success %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads "200" or "2xx".
func (s *Success) UnmarshalText(b []byte) error {
	switch string(b) {
	case "200":
		*s = Success200
	case "2xx":
		*s = Success2xx
	default:
		return errors.New("must be 200 or 2xx")
	}
	return nil
}

// Defaults of Config's zero values.
const (
	DefaultPublicURL       = "http://localhost:8080"
	DefaultTokenTTL        = 15 * time.Minute
	DefaultInvitationTTL   = 7 * 24 * time.Hour
	DefaultPublicLinkTTL   = 120 * time.Minute
	DefaultMaxBodyBytes    = 1 << 20  // 1 MiB
	DefaultJournalSize     = 10000    // requests
	DefaultJournalMaxBytes = 64 << 20 // 64 MiB
	DefaultCallbackWorkers = 4
	DefaultCallbackTimeout = 15 * time.Second
	DefaultCallbackJitter  = 0.1
)

// DefaultCallbackSchedule returns the delay before each callback attempt by default: the
// Standard Webhooks schedule (immediately, 5s, 5m, 30m, 2h, 5h, 10h, 10h).
func DefaultCallbackSchedule() []time.Duration {
	return []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
}

// A ConfigError is a Config field whose value New refuses.
type ConfigError struct {
	// Field is the field's path in Config: "TokenTTL", "Callbacks.Jitter".
	Field string
	// Reason says what is wrong with the value, naming it: "-1s is negative".
	Reason string
}

func (e *ConfigError) Error() string { return "mockserver: Config." + e.Field + ": " + e.Reason }

// Validate reports every field of c that New would refuse, each as a *ConfigError (joined with
// errors.Join when there are several); nil when c is fine. It checks values only: a fixtures
// directory or data directory that cannot be read makes New fail, not Validate.
func (c Config) Validate() error {
	var v validator
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.fail("PublicURL", "%q is not an http or https URL", c.PublicURL)
		}
	}
	notNegative(&v, "TokenTTL", c.TokenTTL)
	notNegative(&v, "InvitationTTL", c.InvitationTTL)
	notNegative(&v, "PublicLinkTTL", c.PublicLinkTTL)
	notNegative(&v, "AutoCompleteAfter", c.AutoCompleteAfter)
	if err := checkAllowHosts(c.CallbackAllowHosts); err != nil {
		v.fail("CallbackAllowHosts", "%v", err)
	}
	p := c.Callbacks
	for _, d := range p.Schedule {
		if d < 0 {
			v.fail("Callbacks.Schedule", "delay %v is negative", d)
			break
		}
	}
	notNegative(&v, "Callbacks.MaxAttempts", p.MaxAttempts)
	notNegative(&v, "Callbacks.Timeout", p.Timeout)
	notNegative(&v, "Callbacks.Workers", p.Workers)
	notNegative(&v, "Callbacks.TimeScale", p.TimeScale)
	switch {
	case p.Jitter < 0 || p.Jitter >= 1:
		v.fail("Callbacks.Jitter", "%v is outside [0, 1)", p.Jitter)
	case p.NoJitter && p.Jitter != 0:
		v.fail("Callbacks.Jitter", "%v is set with NoJitter", p.Jitter)
	}
	if p.Success > Success2xx {
		v.fail("Callbacks.Success", "%v is neither Success200 nor Success2xx", p.Success)
	}
	notNegative(&v, "MaxBodyBytes", c.MaxBodyBytes)
	notNegative(&v, "JournalSize", c.JournalSize)
	notNegative(&v, "JournalMaxBytes", c.JournalMaxBytes)
	return errors.Join(v.errs...)
}

type validator struct{ errs []error }

func (v *validator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func notNegative[N ~int | ~int64 | ~float64](v *validator, field string, n N) {
	if n < 0 {
		v.fail(field, "%v is negative", n)
	}
}
