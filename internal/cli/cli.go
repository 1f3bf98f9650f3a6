// Package cli is the equalture-mock command line: `serve`, `healthcheck`, `version`, `scenario`,
// `contract`, `proxy`, `receiver` and `coverage`. It is a function of its arguments, environment and output
// streams, so tests call it exactly as main does.
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
	"os"
	"sort"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/version"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// Env looks up an environment variable (os.Getenv in main).
type Env func(string) string

type command struct {
	summary string
	run     func(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"serve":       {"run the mock server", runServe},
		"healthcheck": {"exit 0 when a running mock answers /healthz with 200", runHealthcheck},
		"version":     {"print the version", runVersion},
		"contract":    {"run the contract suite (contract.test) against a target", runContract},
		"scenario":    {"run, list or validate YAML scenarios", runScenario},
		"receiver":    {"a callback endpoint that prints and checks what the mock PUTs", runReceiver},
		"proxy":       {"forward to a target, validating every exchange (and relayed callbacks) against openapi.yaml", runProxy},
		"coverage":    {"what an integration's traffic met of openapi.yaml, and how to provoke the rest (from a mock, a proxy or a report)", runCoverage},
	}
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "equalture-mock: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return exitUsage
	}
	return cmd.run(ctx, args[1:], env, stdout, stderr)
}

// writeFile writes a report into the file at path with fn ("" writes nothing).
func writeFile(path string, fn func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(fn(f), f.Close())
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "equalture-mock: a mock server and contract-testing toolkit for the Equalture Open Assessment API")
	fmt.Fprintln(w, "\nUsage: equalture-mock <command> [flags]\n\nCommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'equalture-mock <command> -h' for a command's flags; every flag has an EQUALTURE_MOCK_* environment variable.")
}

func runVersion(_ context.Context, args []string, _ Env, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "version takes no arguments")
		return exitUsage
	}
	fmt.Fprintln(stdout, version.String())
	return exitOK
}

// flagSet is a FlagSet whose flags also read an environment variable: flag > env > default.
type flagSet struct {
	*flag.FlagSet
	env  Env
	vars map[string]string // flag name → env var
}

func newFlagSet(name string, env Env, stderr io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &flagSet{FlagSet: fs, env: env, vars: make(map[string]string)}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: equalture-mock %s [flags]\n\nFlags (environment variable in brackets):\n", name)
		fs.VisitAll(func(fl *flag.Flag) {
			def := ""
			if fl.DefValue != "" {
				def = fmt.Sprintf(" (default %s)", fl.DefValue)
			}
			fmt.Fprintf(stderr, "  --%s [%s]\n      %s%s\n", fl.Name, f.vars[fl.Name], fl.Usage, def)
		})
	}
	return f
}

// bindEnv ties flag name to an environment variable.
func (f *flagSet) bindEnv(name, envVar string) { f.vars[name] = envVar }

// describe names flag name in an error, with its environment variable: a bad value came from
// one of them.
func (f *flagSet) describe(name string) string {
	if v := f.vars[name]; v != "" {
		return "--" + name + " (or " + v + ")"
	}
	return "--" + name
}

// applyEnv sets every bound flag whose environment variable is set; a bad value names the variable.
func (f *flagSet) applyEnv() error {
	names := make([]string, 0, len(f.vars))
	for n := range f.vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if v := f.env(f.vars[name]); v != "" {
			if err := f.Set(name, v); err != nil {
				return fmt.Errorf("invalid value %q for %s: %w", v, f.vars[name], err)
			}
		}
	}
	return nil
}

// parse applies environment values, then the arguments. A bad value, from either, is a usage error
// naming its source.
func (f *flagSet) parse(args []string) error {
	if err := f.applyEnv(); err != nil {
		return err
	}
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(f.Args(), " "))
	}
	return nil
}

// parseOrExit parses and reports the exit code to use when parsing did not succeed.
func (f *flagSet) parseOrExit(args []string, stderr io.Writer) (int, bool) {
	err := f.parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return exitOK, false
	default:
		fmt.Fprintf(stderr, "equalture-mock %s: %v\n", f.Name(), err)
		return exitUsage, false
	}
}

// serverOptions are the settings every long-running command shares: its journal's bounds, its log
// and how long shutdown waits.
type serverOptions struct {
	journalSize     int
	journalMaxBytes int64
	logFormat       string
	logLevel        string
	shutdownTimeout time.Duration
}

// register declares the flags on f; the journal's variables start with envPrefix (serve's and
// proxy's journals are configured apart), the log's and shutdown's are common. what names what
// the journal records.
func (o *serverOptions) register(f *flagSet, envPrefix, what string) {
	f.IntVar(&o.journalSize, "journal-size", journal.DefaultMax, "how many "+what+" the journal (/_mock/journal) keeps (the newest)")
	f.bindEnv("journal-size", envPrefix+"JOURNAL_SIZE")
	f.Int64Var(&o.journalMaxBytes, "journal-max-bytes", journal.DefaultMaxBytes, "how many bytes the journal keeps (the newest "+what+"; each body up to 64 KiB)")
	f.bindEnv("journal-max-bytes", envPrefix+"JOURNAL_MAX_BYTES")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.bindEnv("log-format", "EQUALTURE_MOCK_LOG_FORMAT")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.bindEnv("log-level", "EQUALTURE_MOCK_LOG_LEVEL")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long shutdown waits for work in flight")
	f.bindEnv("shutdown-timeout", "EQUALTURE_MOCK_SHUTDOWN_TIMEOUT")
}

// serveUntilDone serves h on ln in the mock's http.Server until ctx is done, then shuts it down
// gracefully within the shutdown timeout; closing, when set, releases the handler's own work
// within the same deadline. It returns what went wrong on the way.
func (o *serverOptions) serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger, closing func(context.Context) error) error {
	hs := app.HTTPServer(h, log)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if closing != nil {
		err = errors.Join(err, closing(sctx))
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// check reports the settings no command can run with, naming their flags.
func (o *serverOptions) check(f *flagSet) error {
	var errs []error
	if o.shutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("%s: %v is negative", f.describe("shutdown-timeout"), o.shutdownTimeout))
	}
	if _, err := o.logger(io.Discard); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// logger is the log the options ask for, on w.
func (o *serverOptions) logger(w io.Writer) (*slog.Logger, error) {
	return newLogger(o.logFormat, o.logLevel, w)
}
