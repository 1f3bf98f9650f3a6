package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/console"
	"github.com/equalture/equalture-mock/internal/version"
	"github.com/equalture/equalture-mock/mockserver"
)

// DefaultAddr is where serve listens unless told otherwise: loopback only, so a mock started on a
// laptop is not open to the network (the image and docker-compose set ":8080").
const DefaultAddr = "127.0.0.1:8080"

// serveOptions are serve's settings: the address to listen on, the mock's Config (every other
// serve flag sets one of its fields, see configFlags) and the settings every long-running
// command shares.
type serveOptions struct {
	addr       string
	cfg        mockserver.Config
	signingKey string
	jitter     float64 // --callback-jitter: 0 means none (Config.Callbacks.NoJitter)
	schedule   scheduleFlag
	allowHosts listFlag
	serverOptions
	flags *flagSet // names the flag of a refused value
}

// configFlags maps serve's flags to the Config fields they set, so that Config.Validate — the one
// check of the mock's settings, for Go callers and the command line alike — names the flag of a
// field it refuses. zeroIsDefault marks the flags whose default is not zero: Config reads a zero
// there as "the default", so a 0 given on the command line, whose help shows the default, is
// refused rather than quietly meaning the default.
var configFlags = []struct {
	flag, field   string
	zeroIsDefault bool
}{
	{"public-url", "PublicURL", false},
	{"seed", "Seed", false},
	{"fixtures", "FixturesDir", false},
	{"data-dir", "DataDir", false},
	{"signing-key", "SigningKey", false},
	{"admin-token", "AdminToken", false},
	{"token-ttl", "TokenTTL", true},
	{"invitation-ttl", "InvitationTTL", true},
	{"public-link-ttl", "PublicLinkTTL", true},
	{"auto-complete-after", "AutoCompleteAfter", false},
	{"callback-allow-hosts", "CallbackAllowHosts", false},
	{"callback-schedule", "Callbacks.Schedule", false},
	{"callback-max-attempts", "Callbacks.MaxAttempts", false},
	{"callback-timeout", "Callbacks.Timeout", true},
	{"callback-workers", "Callbacks.Workers", true},
	{"callback-time-scale", "Callbacks.TimeScale", true},
	{"callback-jitter", "Callbacks.Jitter", false},
	{"callback-success", "Callbacks.Success", false},
	{"max-body-bytes", "MaxBodyBytes", true},
	{"journal-size", "JournalSize", true},
	{"journal-max-bytes", "JournalMaxBytes", true},
}

func serveFlags(env Env, stderr io.Writer) (*flagSet, *serveOptions) {
	f := newFlagSet("serve", env, stderr)
	o := &serveOptions{flags: f}
	c := &o.cfg
	f.StringVar(&o.addr, "addr", DefaultAddr, "address to listen on (\":8080\" for every interface)")
	f.bindEnv("addr", "EQUALTURE_MOCK_ADDR")
	f.StringVar(&c.PublicURL, "public-url", "", "base URL of the links the mock hands out (default http://localhost:<port>)")
	f.bindEnv("public-url", "EQUALTURE_MOCK_PUBLIC_URL")
	f.StringVar(&c.FixturesDir, "fixtures", "", "directory with clients.yaml and traits.yaml (default: the embedded fixtures)")
	f.bindEnv("fixtures", "EQUALTURE_MOCK_FIXTURES")
	f.Int64Var(&c.Seed, "seed", 0, "seed for reference ids and scores; 0 picks a random one (logged at start)")
	f.bindEnv("seed", "EQUALTURE_MOCK_SEED")
	f.DurationVar(&c.TokenTTL, "token-ttl", mockserver.DefaultTokenTTL, "access token lifetime")
	f.bindEnv("token-ttl", "EQUALTURE_MOCK_TOKEN_TTL")
	f.DurationVar(&c.InvitationTTL, "invitation-ttl", mockserver.DefaultInvitationTTL, "invitation link lifetime")
	f.bindEnv("invitation-ttl", "EQUALTURE_MOCK_INVITATION_TTL")
	f.DurationVar(&c.PublicLinkTTL, "public-link-ttl", mockserver.DefaultPublicLinkTTL, "public results link lifetime")
	f.bindEnv("public-link-ttl", "EQUALTURE_MOCK_PUBLIC_LINK_TTL")
	f.StringVar(&o.signingKey, "signing-key", "", "secret that signs tokens and links (default: random per start, or the data dir's)")
	f.bindEnv("signing-key", "EQUALTURE_MOCK_SIGNING_KEY")
	f.StringVar(&c.DataDir, "data-dir", "", "directory whose file keeps the state across restarts (default: in memory only)")
	f.bindEnv("data-dir", "EQUALTURE_MOCK_DATA_DIR")
	f.StringVar(&c.AdminToken, "admin-token", "", "when set, the control API (/_mock) needs Authorization: Bearer <admin token>")
	f.bindEnv("admin-token", "EQUALTURE_MOCK_ADMIN_TOKEN")
	f.IntVar(&c.Callbacks.Workers, "callback-workers", mockserver.DefaultCallbackWorkers, "concurrent callback attempts")
	f.bindEnv("callback-workers", "EQUALTURE_MOCK_CALLBACK_WORKERS")
	f.DurationVar(&c.Callbacks.Timeout, "callback-timeout", mockserver.DefaultCallbackTimeout, "timeout of one callback attempt (real time)")
	f.bindEnv("callback-timeout", "EQUALTURE_MOCK_CALLBACK_TIMEOUT")
	o.schedule = mockserver.DefaultCallbackSchedule()
	f.Var(&o.schedule, "callback-schedule", "delays before each attempt, comma-separated")
	f.bindEnv("callback-schedule", "EQUALTURE_MOCK_CALLBACK_SCHEDULE")
	f.IntVar(&c.Callbacks.MaxAttempts, "callback-max-attempts", 0, "attempts before a delivery is failed (0: one per schedule entry)")
	f.bindEnv("callback-max-attempts", "EQUALTURE_MOCK_CALLBACK_MAX_ATTEMPTS")
	f.Float64Var(&c.Callbacks.TimeScale, "callback-time-scale", 1, "multiplies every retry delay (0.001 runs the whole schedule in seconds)")
	f.bindEnv("callback-time-scale", "EQUALTURE_MOCK_CALLBACK_TIME_SCALE")
	f.Float64Var(&o.jitter, "callback-jitter", mockserver.DefaultCallbackJitter, "spreads each retry delay by ± this share, in [0, 1) (0: exact delays)")
	f.bindEnv("callback-jitter", "EQUALTURE_MOCK_CALLBACK_JITTER")
	f.TextVar(&c.Callbacks.Success, "callback-success", mockserver.Success200, "what a receiver must answer: 200 or 2xx")
	f.bindEnv("callback-success", "EQUALTURE_MOCK_CALLBACK_SUCCESS")
	f.Var(&o.allowHosts, "callback-allow-hosts", "if set, the only callback_url and webhook url hosts accepted, comma-separated (host or *.domain)")
	f.bindEnv("callback-allow-hosts", "EQUALTURE_MOCK_CALLBACK_ALLOW_HOSTS")
	f.DurationVar(&c.AutoCompleteAfter, "auto-complete-after", 0, "complete every application this long after creation, on the mock's clock (0: never; jobs can set their own)")
	f.bindEnv("auto-complete-after", "EQUALTURE_MOCK_AUTO_COMPLETE_AFTER")
	f.Int64Var(&c.MaxBodyBytes, "max-body-bytes", mockserver.DefaultMaxBodyBytes, "largest vendor API request body accepted (413 beyond)")
	f.bindEnv("max-body-bytes", "EQUALTURE_MOCK_MAX_BODY_BYTES")
	o.serverOptions.register(f, "EQUALTURE_MOCK_", "requests")
	return f, o
}

// config returns the mock's Config the parsed flags give, or an error naming each flag whose
// value the mock refuses.
func (o *serveOptions) config() (mockserver.Config, error) {
	f := o.flags
	cfg := o.cfg
	cfg.SigningKey = []byte(o.signingKey)
	cfg.Callbacks.Schedule = append([]time.Duration(nil), o.schedule...)
	cfg.CallbackAllowHosts = append([]string(nil), o.allowHosts...)
	cfg.Callbacks.Jitter, cfg.Callbacks.NoJitter = o.jitter, o.jitter == 0
	cfg.JournalSize, cfg.JournalMaxBytes = o.journalSize, o.journalMaxBytes
	var errs []error
	for _, row := range configFlags {
		if row.zeroIsDefault && isZero(f.Lookup(row.flag).Value.(flag.Getter).Get()) {
			errs = append(errs, fmt.Errorf("%s: 0 is not allowed: leave the flag out for the default, %s", f.describe(row.flag), f.Lookup(row.flag).DefValue))
		}
	}
	if err := cfg.Validate(); err != nil {
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var ce *mockserver.ConfigError
			if !errors.As(e, &ce) {
				errs = append(errs, e)
				continue
			}
			name := ce.Field
			for _, row := range configFlags {
				if row.field == ce.Field {
					name = f.describe(row.flag)
				}
			}
			errs = append(errs, fmt.Errorf("%s: %s", name, ce.Reason))
		}
	}
	if err := o.serverOptions.check(f); err != nil {
		errs = append(errs, err)
	}
	return cfg, errors.Join(errs...)
}

// isZero reports whether a flag's value is its type's zero.
func isZero(v any) bool {
	switch v := v.(type) {
	case time.Duration:
		return v == 0
	case int:
		return v == 0
	case int64:
		return v == 0
	case float64:
		return v == 0
	}
	return false
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format: %q is not text or json", format)
	}
}

func runServe(ctx context.Context, args []string, env Env, _, stderr io.Writer) int {
	f, o := serveFlags(env, stderr)
	if code, ok := f.parseOrExit(args, stderr); !ok {
		return code
	}
	if _, err := o.config(); err != nil {
		fmt.Fprintf(stderr, "equalture-mock serve: %v\n", strings.ReplaceAll(err.Error(), "\n", "\nequalture-mock serve: "))
		return exitUsage
	}
	log, err := o.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "equalture-mock serve: %v\n", err)
		return exitUsage
	}
	if err := serve(ctx, o, log, nil); err != nil {
		log.Error("serve failed", "err", err)
		return exitFail
	}
	return exitOK
}

// serve runs the mock the parsed flags describe until ctx is done, then shuts down gracefully.
// ready, when set, receives the bound address once the server accepts connections.
func serve(ctx context.Context, o *serveOptions, log *slog.Logger, ready chan<- string) error {
	start := time.Now()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if o.cfg.PublicURL == "" {
		o.cfg.PublicURL = "http://localhost:" + port(addr)
	}
	if o.cfg.Seed == 0 {
		o.cfg.Seed = time.Now().UnixNano() // drawn here to be logged
	}
	cfg, err := o.config()
	if err != nil {
		_ = ln.Close()
		return err
	}
	cfg.Logger, cfg.ListenAddrs = log, []string{addr}
	srv, err := mockserver.New(cfg)
	if err != nil {
		_ = ln.Close()
		return err
	}
	if host, _, _ := net.SplitHostPort(addr); cfg.AdminToken == "" && net.ParseIP(host).IsUnspecified() {
		log.Warn("listening on every interface without --admin-token: whoever reaches this port controls the mock (see SECURITY.md)")
	}
	log.Info("equalture-mock listening", "addr", addr, "public_url", cfg.PublicURL, "seed", cfg.Seed,
		"version", version.String(), "startup", time.Since(start).Round(time.Microsecond).String(),
		"console", cfg.PublicURL+console.Prefix)
	if ready != nil {
		ready <- addr
	}
	return o.serveUntilDone(ctx, ln, srv, log, srv.Close)
}

func port(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "8080"
	}
	return p
}

func runHealthcheck(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	f := newFlagSet("healthcheck", env, stderr)
	var (
		url     string
		timeout time.Duration
	)
	f.StringVar(&url, "url", "", "the mock's base URL, or its health URL (default http://127.0.0.1:<port of EQUALTURE_MOCK_ADDR>)")
	f.bindEnv("url", "EQUALTURE_MOCK_HEALTH_URL")
	f.DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	if code, ok := f.parseOrExit(args, stderr); !ok {
		return code
	}
	if url == "" {
		addr := env("EQUALTURE_MOCK_ADDR")
		if addr == "" {
			addr = DefaultAddr
		}
		url = "http://127.0.0.1:" + port(addr) + "/healthz"
	}
	url = healthURL(url)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %v\n", err)
		return exitUsage
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %s: %v\n", url, err)
		return exitFail
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: %s answered %s\n", url, resp.Status)
		return exitFail
	}
	fmt.Fprintf(stdout, "healthy: %s\n", strings.TrimSpace(url))
	return exitOK
}

// healthURL is the health endpoint of a mock given by its base URL ("http://host:8080", or with a
// base path) or by the health URL itself.
func healthURL(u string) string {
	u = strings.TrimRight(u, "/")
	if strings.HasSuffix(u, "/healthz") {
		return u
	}
	return u + "/healthz"
}

// listFlag is a comma-separated list of strings.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = nil
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// scheduleFlag is a comma-separated list of durations.
type scheduleFlag []time.Duration

func (f *scheduleFlag) String() string {
	parts := make([]string, len(*f))
	for i, d := range *f {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

func (f *scheduleFlag) Set(v string) error {
	var out []time.Duration
	for _, s := range strings.Split(v, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a duration", s)
		}
		out = append(out, d)
	}
	*f = out
	return nil
}
