package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	equalturemock "github.com/equalture/equalture-mock"
	"github.com/equalture/equalture-mock/contract"
	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/scenario"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/mockserver"
)

// runScenario is `equalture-mock scenario run|list|validate [paths]`.
func runScenario(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: equalture-mock scenario run|list|validate [flags] [files, directories or globs (default scenarios/)]")
		return exitUsage
	}
	sub, args := args[0], args[1:]
	f := newFlagSet("scenario "+sub, env, stderr)
	var target, receiverAddr, receiverURL, junit string
	if sub == "run" {
		f.StringVar(&target, "target", "", "base URL of a running mock (default: a fresh mock in-process per scenario)")
		f.bindEnv("target", "EQUALTURE_MOCK_SCENARIO_TARGET")
		f.StringVar(&receiverAddr, "receiver-addr", "127.0.0.1:0", "where the runner listens for callbacks")
		f.bindEnv("receiver-addr", "EQUALTURE_MOCK_SCENARIO_RECEIVER_ADDR")
		f.StringVar(&receiverURL, "receiver-url", "", "how the target reaches the receiver (default http://<receiver-addr>)")
		f.bindEnv("receiver-url", "EQUALTURE_MOCK_SCENARIO_RECEIVER_URL")
		f.StringVar(&junit, "junit", "", "write a JUnit report to this file")
		f.bindEnv("junit", "EQUALTURE_MOCK_SCENARIO_JUNIT")
	}
	if err := f.Parse(args); err != nil {
		return exitUsage
	}
	paths := f.Args()
	if len(paths) == 0 {
		paths = []string{"scenarios"}
	}
	files, err := scenario.Expand(paths)
	if err != nil {
		fmt.Fprintf(stderr, "scenario: %v\n", err)
		return exitUsage
	}
	var scenarios []*scenario.Scenario
	bad := 0
	for _, file := range files {
		s, err := scenario.Load(file)
		if err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			bad++
			continue
		}
		scenarios = append(scenarios, s)
	}
	switch sub {
	case "validate":
		fmt.Fprintf(stdout, "%d valid, %d invalid\n", len(scenarios), bad)
		if bad > 0 {
			return exitFail
		}
		return exitOK
	case "list":
		for _, s := range scenarios {
			fmt.Fprintf(stdout, "%-50s %s\n    %s\n", s.File, s.Name, strings.Join(strings.Fields(s.Description), " "))
		}
		if bad > 0 {
			return exitFail
		}
		return exitOK
	case "run":
		if bad > 0 {
			fmt.Fprintf(stderr, "scenario: %d file(s) are invalid; nothing was run\n", bad)
			return exitUsage
		}
		return runScenarios(ctx, scenarios, target, receiverAddr, receiverURL, junit, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "scenario: unknown subcommand %q (run, list, validate)\n", sub)
		return exitUsage
	}
}

func runScenarios(ctx context.Context, scenarios []*scenario.Scenario, target, receiverAddr, receiverURL, junit string, stdout, stderr io.Writer) int {
	sp, err := spec.Load(ctx, equalturemock.VendorSpec)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFail
	}
	rcv, err := contract.NewReceiver(receiverAddr, receiverURL, sp)
	if err != nil {
		fmt.Fprintf(stderr, "scenario: callback receiver on %s: %v\n", receiverAddr, err)
		return exitFail
	}
	defer rcv.Close()
	client := &http.Client{Timeout: 90 * time.Second}
	r := &scenario.Runner{Receiver: rcv, Contract: sp, Out: stdout, HTTP: client}
	if target == "" {
		r.Target = inProcessMock(ctx)
	} else {
		r.Target = resetTarget(ctx, strings.TrimRight(target, "/"), client)
	}
	started := time.Now()
	var results []scenario.Result
	passed := 0
	for _, s := range scenarios {
		if ctx.Err() != nil {
			break
		}
		res := r.Run(s)
		results = append(results, res)
		if res.Passed() {
			passed++
		}
	}
	if junit != "" {
		if err := scenario.WriteJUnit(junit, results, started); err != nil {
			fmt.Fprintf(stderr, "scenario: JUnit report: %v\n", err)
			return exitFail
		}
	}
	for _, res := range results {
		if !res.Passed() {
			fmt.Fprintf(stdout, "FAILED %s (%s)\n  %s\n", res.Scenario.Name, res.Scenario.File, res.Failure)
		}
	}
	fmt.Fprintf(stdout, "scenarios: %d passed, %d failed\n", passed, len(results)-passed)
	if passed != len(results) {
		return exitFail
	}
	return exitOK
}

// inProcessMock starts a fresh mock on a free loopback port for each scenario.
func inProcessMock(ctx context.Context) func() (string, func(), error) {
	return func() (string, func(), error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
		base := "http://" + ln.Addr().String()
		a, err := app.New(ctx, app.Options{Server: mockserver.Config{PublicURL: base, Seed: 1}})
		if err != nil {
			ln.Close()
			return "", nil, err
		}
		srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		return base, func() {
			_ = srv.Close()
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = a.Close(cctx)
		}, nil
	}
}

// resetTarget puts a running mock back to its fixtures before each scenario.
func resetTarget(ctx context.Context, base string, client *http.Client) func() (string, func(), error) {
	return func() (string, func(), error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/_mock/reset", nil)
		if err != nil {
			return "", nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", nil, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return "", nil, fmt.Errorf("POST %s/_mock/reset answered %s (scenarios need the mock's control API)", base, resp.Status)
		}
		return base, func() {}, nil
	}
}
