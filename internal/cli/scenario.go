package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/scenario"
	"github.com/equalture/equalture-mock/internal/scenario/run"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/mockserver"
)

const scenarioUsage = `Usage: equalture-mock scenario <run|list|validate> [flags] [files, directories or globs]

  run       run scenarios against --target, or a fresh in-process mock per scenario
  list      print each scenario's name and description
  validate  check scenario files without running them

Paths default to scenarios/. Run 'equalture-mock scenario run -h' for run's flags.
`

// runScenario is `equalture-mock scenario run|list|validate [flags] [paths]`.
func runScenario(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, scenarioUsage)
		return exitUsage
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprint(stderr, scenarioUsage)
		return exitOK
	case "run", "list", "validate":
	default:
		fmt.Fprintf(stderr, "equalture-mock scenario: unknown subcommand %q\n\n%s", sub, scenarioUsage)
		return exitUsage
	}
	f := newFlagSet("scenario "+sub, env, stderr)
	var o scenarioOptions
	if sub == "run" {
		f.StringVar(&o.target, "target", "", "base URL of a running mock (the control API is at <target>/_mock); default: a fresh in-process mock per scenario")
		f.bindEnv("target", "EQUALTURE_MOCK_SCENARIO_TARGET")
		f.StringVar(&o.receiverAddr, "receiver-addr", "127.0.0.1:0", "where the runner's callback receiver listens")
		f.bindEnv("receiver-addr", "EQUALTURE_MOCK_SCENARIO_RECEIVER_ADDR")
		f.StringVar(&o.receiverURL, "receiver-url", "", "how the target reaches the receiver, e.g. http://host.docker.internal:9900 (default http://<receiver address>)")
		f.bindEnv("receiver-url", "EQUALTURE_MOCK_SCENARIO_RECEIVER_URL")
		f.StringVar(&o.junit, "junit", "", "write a JUnit XML report to this file")
		f.bindEnv("junit", "EQUALTURE_MOCK_SCENARIO_JUNIT")
		f.StringVar(&o.adminToken, "admin-token", "", "the target's admin token, when its control API needs one")
		f.bindEnv("admin-token", "EQUALTURE_MOCK_ADMIN_TOKEN")
	}
	paths, err := parseWithPaths(f, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "equalture-mock scenario %s: %v\n", sub, err)
		return exitUsage
	}
	if len(paths) == 0 {
		paths = []string{"scenarios"}
	}
	files, err := scenario.Expand(paths)
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no scenario files (*.yaml) in %s", strings.Join(paths, ", "))
	}
	if err != nil {
		fmt.Fprintf(stderr, "equalture-mock scenario %s: %v\n", sub, err)
		return exitUsage
	}
	var scenarios []*scenario.Scenario
	bad := 0
	for _, file := range files {
		s, err := scenario.Load(file)
		if err != nil {
			fmt.Fprintln(stderr, err)
			bad++
			continue
		}
		scenarios = append(scenarios, s)
	}
	switch sub {
	case "validate":
		fmt.Fprintf(stdout, "%d valid, %d invalid\n", len(scenarios), bad)
	case "list":
		for _, s := range scenarios {
			fmt.Fprintf(stdout, "%s\n    %s\n", s.Name, s.File)
			if d := strings.Join(strings.Fields(s.Description), " "); d != "" {
				fmt.Fprintf(stdout, "    %s\n", d)
			}
		}
	case "run":
		if bad > 0 {
			fmt.Fprintf(stderr, "equalture-mock scenario run: %d file(s) are broken; nothing was run\n", bad)
			return exitUsage
		}
		return runScenarios(ctx, scenarios, o, stdout, stderr)
	}
	if bad > 0 {
		return exitFail
	}
	return exitOK
}

type scenarioOptions struct {
	target, receiverAddr, receiverURL, junit, adminToken string
}

// parseWithPaths applies the environment, then the arguments, where flags and paths may mix
// (`scenario run scenarios/ --junit r.xml`).
func parseWithPaths(f *flagSet, args []string) ([]string, error) {
	if err := f.applyEnv(); err != nil {
		return nil, err
	}
	var paths []string
	for {
		if err := f.Parse(args); err != nil {
			return nil, err
		}
		if f.NArg() == 0 {
			return paths, nil
		}
		paths, args = append(paths, f.Arg(0)), f.Args()[1:]
	}
}

func runScenarios(ctx context.Context, scenarios []*scenario.Scenario, o scenarioOptions, stdout, stderr io.Writer) int {
	sp, err := spec.Vendor()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFail
	}
	rcv, err := receiver.New(o.receiverAddr, o.receiverURL, sp)
	if err != nil {
		fmt.Fprintf(stderr, "equalture-mock scenario run: callback receiver on %s: %v\n", o.receiverAddr, err)
		return exitFail
	}
	defer rcv.Close()
	r := &run.Runner{Receiver: rcv, Contract: sp, Out: stdout, AdminToken: o.adminToken}
	if o.target == "" {
		r.Target = run.InProcess{New: func(base string) (run.Mock, error) {
			return mockserver.New(mockserver.Config{PublicURL: base})
		}}
		fmt.Fprintf(stdout, "Running %d scenario(s) against a fresh in-process mock each; callback receiver at %s\n\n", len(scenarios), rcv.URL)
	} else {
		r.Target = run.Remote{URL: o.target, AdminToken: o.adminToken}
		fmt.Fprintf(stdout, "Running %d scenario(s) against %s (reset before each); callback receiver at %s\n\n", len(scenarios), o.target, rcv.URL)
	}
	started := time.Now()
	results := r.RunAll(ctx, scenarios)
	if o.junit != "" {
		if err := writeFile(o.junit, func(w io.Writer) error { return run.WriteJUnit(w, results, started) }); err != nil {
			fmt.Fprintf(stderr, "equalture-mock scenario run: JUnit report: %v\n", err)
			return exitFail
		}
	}
	if ctx.Err() != nil || len(results) < len(scenarios) {
		fmt.Fprintln(stderr, "equalture-mock scenario run: interrupted")
		return exitFail
	}
	for _, res := range results {
		if !res.Passed() {
			return exitFail
		}
	}
	return exitOK
}
