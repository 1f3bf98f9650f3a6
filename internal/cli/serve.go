package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/console"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/version"
	"github.com/equalture/equalture-mock/mockserver"
)

// DefaultAddr is where serve listens unless told otherwise: loopback only, so a mock started on a
// laptop is not open to the network (the image and docker-compose set ":8080").
const DefaultAddr = "127.0.0.1:8080"

// serveOptions are serve's settings.
type serveOptions struct {
	addr          string
	publicURL     string
	fixturesDir   string
	seed          int64
	tokenTTL      time.Duration
	invitationTTL time.Duration
	publicLinkTTL time.Duration
	signingKey    string
	dataDir       string
	adminToken    string
	callbacks     delivery.Config
	autoComplete  time.Duration
	allowHosts    listFlag
	serverOptions
}

func serveFlags(env Env, stderr io.Writer) (*flagSet, *serveOptions) {
	o := &serveOptions{}
	f := newFlagSet("serve", env, stderr)
	f.StringVar(&o.addr, "addr", DefaultAddr, "address to listen on (\":8080\" for every interface)")
	f.bindEnv("addr", "EQUALTURE_MOCK_ADDR")
	f.StringVar(&o.publicURL, "public-url", "", "base URL of the links the mock hands out (default http://localhost:<port>)")
	f.bindEnv("public-url", "EQUALTURE_MOCK_PUBLIC_URL")
	f.StringVar(&o.fixturesDir, "fixtures", "", "directory with clients.yaml and traits.yaml (default: the embedded fixtures)")
	f.bindEnv("fixtures", "EQUALTURE_MOCK_FIXTURES")
	f.Int64Var(&o.seed, "seed", 0, "seed for reference ids and scores; 0 picks a random one (logged at start)")
	f.bindEnv("seed", "EQUALTURE_MOCK_SEED")
	f.DurationVar(&o.tokenTTL, "token-ttl", mockserver.DefaultTokenTTL, "access token lifetime")
	f.bindEnv("token-ttl", "EQUALTURE_MOCK_TOKEN_TTL")
	f.DurationVar(&o.invitationTTL, "invitation-ttl", mockserver.DefaultInvitationTTL, "invitation link lifetime")
	f.bindEnv("invitation-ttl", "EQUALTURE_MOCK_INVITATION_TTL")
	f.DurationVar(&o.publicLinkTTL, "public-link-ttl", mockserver.DefaultPublicLinkTTL, "public results link lifetime")
	f.bindEnv("public-link-ttl", "EQUALTURE_MOCK_PUBLIC_LINK_TTL")
	f.StringVar(&o.signingKey, "signing-key", "", "secret that signs tokens and links (default: random per start, or the data dir's)")
	f.bindEnv("signing-key", "EQUALTURE_MOCK_SIGNING_KEY")
	f.StringVar(&o.dataDir, "data-dir", "", "directory whose file keeps the state across restarts (default: in memory only)")
	f.bindEnv("data-dir", "EQUALTURE_MOCK_DATA_DIR")
	f.StringVar(&o.adminToken, "admin-token", "", "when set, the control API (/_mock) needs Authorization: Bearer <admin token>")
	f.bindEnv("admin-token", "EQUALTURE_MOCK_ADMIN_TOKEN")
	f.IntVar(&o.callbacks.Workers, "callback-workers", mockserver.DefaultCallbackWorkers, "concurrent callback attempts")
	f.bindEnv("callback-workers", "EQUALTURE_MOCK_CALLBACK_WORKERS")
	f.DurationVar(&o.callbacks.Timeout, "callback-timeout", mockserver.DefaultCallbackTimeout, "timeout of one callback attempt (real time)")
	f.bindEnv("callback-timeout", "EQUALTURE_MOCK_CALLBACK_TIMEOUT")
	o.callbacks.Schedule = mockserver.DefaultCallbackSchedule()
	f.Var((*scheduleFlag)(&o.callbacks.Schedule), "callback-schedule", "delays before each attempt, comma-separated")
	f.bindEnv("callback-schedule", "EQUALTURE_MOCK_CALLBACK_SCHEDULE")
	f.IntVar(&o.callbacks.MaxAttempts, "callback-max-attempts", 0, "attempts before a delivery is failed (default: one per schedule entry)")
	f.bindEnv("callback-max-attempts", "EQUALTURE_MOCK_CALLBACK_MAX_ATTEMPTS")
	f.Float64Var(&o.callbacks.TimeScale, "callback-time-scale", 1, "multiplies every retry delay (0.001 runs the whole schedule in seconds)")
	f.bindEnv("callback-time-scale", "EQUALTURE_MOCK_CALLBACK_TIME_SCALE")
	f.Float64Var(&o.callbacks.Jitter, "callback-jitter", mockserver.DefaultCallbackJitter, "spreads each retry delay by ± this share")
	f.bindEnv("callback-jitter", "EQUALTURE_MOCK_CALLBACK_JITTER")
	f.StringVar(&o.callbacks.Success, "callback-success", "200", "what a receiver must answer: 200 or 2xx")
	f.bindEnv("callback-success", "EQUALTURE_MOCK_CALLBACK_SUCCESS")
	f.Var(&o.allowHosts, "callback-allow-hosts", "if set, the only callback_url and webhook url hosts accepted, comma-separated (host or *.domain)")
	f.bindEnv("callback-allow-hosts", "EQUALTURE_MOCK_CALLBACK_ALLOW_HOSTS")
	f.DurationVar(&o.autoComplete, "auto-complete-after", 0, "complete every application this long after creation, on the mock's clock (0: never; jobs can set their own)")
	f.bindEnv("auto-complete-after", "EQUALTURE_MOCK_AUTO_COMPLETE_AFTER")
	o.serverOptions.register(f, "EQUALTURE_MOCK_", "requests")
	return f, o
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
}

func runServe(ctx context.Context, args []string, env Env, _, stderr io.Writer) int {
	f, o := serveFlags(env, stderr)
	if code, ok := f.parseOrExit(args, stderr); !ok {
		return code
	}
	if err := o.callbacks.Check(); err != nil {
		fmt.Fprintf(stderr, "equalture-mock serve: callbacks: %v\n", err)
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

// serve runs the mock until ctx is done, then shuts down gracefully. ready, when set, receives the
// bound address once the server accepts connections.
func serve(ctx context.Context, o *serveOptions, log *slog.Logger, ready chan<- string) error {
	start := time.Now()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if o.publicURL == "" {
		o.publicURL = "http://localhost:" + port(addr)
	}
	if o.seed == 0 {
		o.seed = time.Now().UnixNano()
	}
	srv, err := mockserver.New(append(o.mockOptions(log), mockserver.WithListenAddrs(addr))...)
	if err != nil {
		_ = ln.Close()
		return err
	}
	if host, _, _ := net.SplitHostPort(addr); o.adminToken == "" && net.ParseIP(host).IsUnspecified() {
		log.Warn("listening on every interface without --admin-token: whoever reaches this port controls the mock (see SECURITY.md)")
	}
	log.Info("equalture-mock listening", "addr", addr, "public_url", o.publicURL, "seed", o.seed,
		"version", version.String(), "startup", time.Since(start).Round(time.Microsecond).String(),
		"console", o.publicURL+console.Prefix)
	if ready != nil {
		ready <- addr
	}
	return o.serveUntilDone(ctx, ln, srv, log, srv.Close)
}

// mockOptions turns serve's settings into the mock's options.
func (o *serveOptions) mockOptions(log *slog.Logger) []mockserver.Option {
	c := o.callbacks
	opts := []mockserver.Option{
		mockserver.WithPublicURL(o.publicURL),
		mockserver.WithSeed(o.seed),
		mockserver.WithTokenTTL(o.tokenTTL),
		mockserver.WithInvitationTTL(o.invitationTTL),
		mockserver.WithPublicLinkTTL(o.publicLinkTTL),
		mockserver.WithFixturesDir(o.fixturesDir),
		mockserver.WithSigningKey([]byte(o.signingKey)),
		mockserver.WithDataDir(o.dataDir),
		mockserver.WithAdminToken(o.adminToken),
		mockserver.WithJournalSize(o.journalSize),
		mockserver.WithJournalMaxBytes(o.journalMaxBytes),
		mockserver.WithCallbackAllowHosts(o.allowHosts...),
		mockserver.WithAutoCompleteAfter(o.autoComplete),
		mockserver.WithCallbackWorkers(c.Workers),
		mockserver.WithCallbackTimeout(c.Timeout),
		mockserver.WithCallbackSchedule(c.Schedule...),
		mockserver.WithCallbackMaxAttempts(c.MaxAttempts),
		mockserver.WithCallbackTimeScale(c.TimeScale),
		mockserver.WithCallbackJitter(c.Jitter),
		mockserver.WithCallbackSuccess(c.Success),
		mockserver.WithLogger(log),
	}
	return opts
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
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a non-negative duration", s)
		}
		out = append(out, d)
	}
	*f = out
	return nil
}
