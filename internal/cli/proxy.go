package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/proxy"
	"github.com/equalture/equalture-mock/internal/spec"
)

// DefaultProxyAddr is where the proxy listens unless told otherwise: loopback only, like serve.
const DefaultProxyAddr = "127.0.0.1:8081"

// proxyOptions are the proxy command's settings.
type proxyOptions struct {
	target          string
	addr            string
	report          string
	junit           string
	suggest         string
	recordFixtures  string
	failOnViolation bool
	strictRequests  bool
	relayCallbacks  bool
	publicURL       string
	relaySecret     string
	adminToken      string
	maxBodyBytes    int64
	serverOptions
}

func proxyFlags(env Env, stderr io.Writer) (*flagSet, *proxyOptions) {
	o := &proxyOptions{}
	f := newFlagSet("proxy", env, stderr)
	f.StringVar(&o.target, "target", "", "the service to forward to, an absolute http(s) URL (required), e.g. https://app.equalture.com")
	f.bindEnv("target", "EQUALTURE_MOCK_PROXY_TARGET")
	f.StringVar(&o.addr, "addr", DefaultProxyAddr, "address to listen on (\":8081\" for every interface)")
	f.bindEnv("addr", "EQUALTURE_MOCK_PROXY_ADDR")
	f.StringVar(&o.report, "report", "", "write a JSON report (per operation: exchanges, violations) to this file at shutdown")
	f.bindEnv("report", "EQUALTURE_MOCK_PROXY_REPORT")
	f.StringVar(&o.junit, "junit", "", "write a JUnit report (one test case per operation seen) to this file at shutdown")
	f.bindEnv("junit", "EQUALTURE_MOCK_PROXY_JUNIT")
	f.StringVar(&o.suggest, "suggest", "", "write a unified diff of openapi.yaml to this file at shutdown: what the service answered where the contract only guessed (x-inferred), for a maintainer to review and git apply")
	f.bindEnv("suggest", "EQUALTURE_MOCK_PROXY_SUGGEST")
	f.StringVar(&o.recordFixtures, "record-fixtures", "", "write, at shutdown, a fixtures directory (clients.yaml, traits.yaml) of the account the traffic showed — its clients, jobs and the traits its results named, never a secret — for serve --fixtures DIR")
	f.bindEnv("record-fixtures", "EQUALTURE_MOCK_PROXY_RECORD_FIXTURES")
	f.BoolVar(&o.failOnViolation, "fail-on-violation", false, "exit 1 at shutdown when any exchange broke the contract")
	f.bindEnv("fail-on-violation", "EQUALTURE_MOCK_PROXY_FAIL_ON_VIOLATION")
	f.BoolVar(&o.strictRequests, "strict-requests", false, "count requests that break the contract as violations too (by default only the target's answers to them are judged)")
	f.bindEnv("strict-requests", "EQUALTURE_MOCK_PROXY_STRICT_REQUESTS")
	f.BoolVar(&o.relayCallbacks, "relay-callbacks", false, "relay results callbacks through the proxy to validate them (needs --public-url)")
	f.bindEnv("relay-callbacks", "EQUALTURE_MOCK_PROXY_RELAY_CALLBACKS")
	f.StringVar(&o.publicURL, "public-url", "", "the URL at which the target reaches this proxy, for relayed callbacks")
	f.bindEnv("public-url", "EQUALTURE_MOCK_PROXY_PUBLIC_URL")
	f.StringVar(&o.relaySecret, "relay-secret", "", "secret signing relay URLs, to keep them valid across restarts (default: random per start)")
	f.bindEnv("relay-secret", "EQUALTURE_MOCK_PROXY_RELAY_SECRET")
	f.StringVar(&o.adminToken, "admin-token", "", "when set, the proxy's control API (/_mock/journal) needs Authorization: Bearer <admin token>")
	f.bindEnv("admin-token", "EQUALTURE_MOCK_PROXY_ADMIN_TOKEN")
	f.Int64Var(&o.maxBodyBytes, "max-body-bytes", proxy.DefaultMaxBodyBytes, "largest request or callback body forwarded (413 beyond)")
	f.bindEnv("max-body-bytes", "EQUALTURE_MOCK_PROXY_MAX_BODY_BYTES")
	o.serverOptions.register(f, "EQUALTURE_MOCK_PROXY_", "exchanges")
	return f, o
}

// check reports a usage error in the settings.
func (o *proxyOptions) check() error {
	if o.target == "" {
		return errors.New("--target is required: the service to forward to, e.g. --target https://app.equalture.com")
	}
	if _, err := proxy.ParseTarget(o.target); err != nil {
		return fmt.Errorf("--target %w", err)
	}
	switch {
	case o.relayCallbacks && o.publicURL == "":
		return errors.New("--relay-callbacks needs --public-url: the URL at which the target reaches this proxy")
	case !o.relayCallbacks && (o.publicURL != "" || o.relaySecret != ""):
		return errors.New("--public-url and --relay-secret only matter with --relay-callbacks")
	case o.relayCallbacks:
		if _, err := proxy.ParseTarget(o.publicURL); err != nil {
			return fmt.Errorf("--public-url %w", err)
		}
	}
	if o.maxBodyBytes <= 0 {
		return errors.New("--max-body-bytes must be positive")
	}
	return nil
}

func runProxy(ctx context.Context, args []string, env Env, _, stderr io.Writer) int {
	f, o := proxyFlags(env, stderr)
	if code, ok := f.parseOrExit(args, stderr); !ok {
		return code
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(stderr, "equalture-mock proxy: %v\n", err)
		return exitUsage
	}
	log, err := o.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "equalture-mock proxy: %v\n", err)
		return exitUsage
	}
	report, err := runProxyServer(ctx, o, log, nil)
	if err != nil {
		log.Error("proxy failed", "err", err)
		return exitFail
	}
	fmt.Fprint(stderr, report.Summary())
	if o.failOnViolation && report.Violations > 0 {
		fmt.Fprintf(stderr, "equalture-mock proxy: %d violation(s) of openapi.yaml (--fail-on-violation)\n", report.Violations)
		return exitFail
	}
	return exitOK
}

// runProxyServer runs the proxy until ctx is done, shuts it down gracefully, writes the reports
// and returns what it saw. ready, when set, receives the bound address once it accepts connections.
func runProxyServer(ctx context.Context, o *proxyOptions, log *slog.Logger, ready chan<- string) (proxy.Report, error) {
	vendor, err := spec.Vendor()
	if err != nil {
		return proxy.Report{}, err
	}
	controlSpec, err := spec.Control()
	if err != nil {
		return proxy.Report{}, err
	}
	opts := proxy.Options{
		Target:          o.target,
		Contract:        vendor,
		ControlContract: controlSpec,
		Journal:         journal.New(o.journalSize, o.journalMaxBytes),
		Clock:           clock.NewVirtual(),
		MaxBodyBytes:    o.maxBodyBytes,
		StrictRequests:  o.strictRequests,
		RecordFixtures:  o.recordFixtures != "",
		AdminToken:      o.adminToken,
		Logger:          log,
	}
	if o.relayCallbacks {
		opts.RelayURL, opts.RelaySecret = o.publicURL, []byte(o.relaySecret)
		if o.relaySecret == "" {
			log.Warn("relay URLs are signed with a random secret: callbacks for applications created before a restart will not be relayed (set --relay-secret to keep them)")
		}
	}
	px, err := proxy.New(opts)
	if err != nil {
		return proxy.Report{}, err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return proxy.Report{}, err
	}
	started := time.Now()
	log.Info("equalture-mock proxy listening", "addr", ln.Addr().String(), "target", o.target, "relay_callbacks", o.relayCallbacks, "public_url", o.publicURL)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	err = o.serveUntilDone(ctx, ln, px, log, nil)
	report := px.Report()
	if o.recordFixtures != "" {
		if ferr := px.WriteFixtures(o.recordFixtures); ferr != nil {
			err = errors.Join(err, ferr)
		} else {
			log.Info("fixtures recorded: set client_secret before serving them", "dir", o.recordFixtures)
		}
	}
	return report, errors.Join(err, writeReports(px, report, o, started))
}

// writeReports writes the JSON and JUnit reports and the suggestions the options ask for.
func writeReports(px *proxy.Proxy, r proxy.Report, o *proxyOptions, started time.Time) error {
	return errors.Join(
		writeFile(o.report, r.WriteJSON),
		writeFile(o.junit, func(w io.Writer) error { return r.WriteJUnit(w, started) }),
		writeFile(o.suggest, func(w io.Writer) error { return px.WriteSuggestions(w, assets.VendorSpec()) }),
	)
}
