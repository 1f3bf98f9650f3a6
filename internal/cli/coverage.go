package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/apiclient"
	"github.com/equalture/equalture-mock/internal/coverage"
	"github.com/equalture/equalture-mock/internal/spec"
)

// runCoverage is `equalture-mock coverage`: what an integration's traffic met of openapi.yaml,
// read from a running mock or validating proxy (GET /_mock/coverage) or from a saved report, as a
// table, JUnit, HTML, and an exit code below a threshold.
func runCoverage(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	f := newFlagSet("coverage", env, stderr)
	var (
		base, token, from, junitPath, htmlPath string
		failUnder                              float64
	)
	f.StringVar(&base, "url", "http://localhost:8080", "the mock or validating proxy to read coverage from (its GET /_mock/coverage)")
	f.bindEnv("url", "EQUALTURE_MOCK_COVERAGE_URL")
	f.StringVar(&token, "admin-token", "", "the control API's admin token, when the mock has one")
	f.bindEnv("admin-token", "EQUALTURE_MOCK_ADMIN_TOKEN")
	f.StringVar(&from, "from", "", "read a saved report instead: the JSON of /_mock/coverage, or a proxy --report (its coverage)")
	f.bindEnv("from", "EQUALTURE_MOCK_COVERAGE_FROM")
	f.StringVar(&junitPath, "junit", "", "write JUnit XML here (a test case per item; those not met skipped, saying how to provoke them)")
	f.bindEnv("junit", "EQUALTURE_MOCK_COVERAGE_JUNIT")
	f.StringVar(&htmlPath, "html", "", "write a self-contained HTML page here (a CI artifact)")
	f.bindEnv("html", "EQUALTURE_MOCK_COVERAGE_HTML")
	f.Float64Var(&failUnder, "fail-under", 0, "exit 1 when less than this percentage of the documented items was met")
	f.bindEnv("fail-under", "EQUALTURE_MOCK_COVERAGE_FAIL_UNDER")
	if code, ok := f.parseOrExit(args, stderr); !ok {
		return code
	}
	if failUnder < 0 || failUnder > 100 {
		fmt.Fprintln(stderr, "equalture-mock coverage: --fail-under must be a percentage (0-100)")
		return exitUsage
	}
	var (
		rep coverage.Report
		err error
	)
	if from != "" {
		rep, err = readCoverage(from)
	} else {
		rep, err = fetchCoverage(ctx, base, token)
	}
	if err != nil {
		fmt.Fprintf(stderr, "equalture-mock coverage: %v\n", err)
		return exitFail
	}
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "equalture-mock coverage: %v\n", err)
		return exitFail
	}
	if err := errors.Join(
		writeFile(junitPath, func(w io.Writer) error { return rep.WriteJUnit(w, time.Now()) }),
		writeFile(htmlPath, rep.WriteHTML),
	); err != nil {
		fmt.Fprintf(stderr, "equalture-mock coverage: %v\n", err)
		return exitFail
	}
	if rep.Percent < failUnder {
		fmt.Fprintf(stderr, "equalture-mock coverage: %.1f%% met, under --fail-under %.1f%%\n", rep.Percent, failUnder)
		return exitFail
	}
	return exitOK
}

// fetchCoverage reads GET /_mock/coverage of the mock or proxy at base, checked against
// control-openapi.yaml.
func fetchCoverage(ctx context.Context, base, token string) (coverage.Report, error) {
	cs, err := spec.Control()
	if err != nil {
		return coverage.Report{}, err
	}
	c := &apiclient.Client{Base: strings.TrimRight(base, "/") + "/_mock", Contract: cs, Prefix: "/_mock", Timeout: 30 * time.Second}
	if token != "" {
		c.Options = []apiclient.Option{apiclient.Bearer(token)}
	}
	r, err := c.Do(ctx, http.MethodGet, "/coverage", nil)
	switch {
	case err != nil:
		return coverage.Report{}, err
	case r.Status == http.StatusUnauthorized:
		return coverage.Report{}, fmt.Errorf("%s answered 401: the mock has an admin token; pass it with --admin-token", base)
	case r.Status != http.StatusOK:
		return coverage.Report{}, fmt.Errorf("%s: is it the mock or the validating proxy?", r)
	case r.Violation != "":
		return coverage.Report{}, fmt.Errorf("the answer breaks control-openapi.yaml: %s", r.Violation)
	}
	var rep coverage.Report
	return rep, json.Unmarshal(r.Body, &rep)
}

// readCoverage reads a saved report: a coverage report, or a proxy report holding one.
func readCoverage(path string) (coverage.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return coverage.Report{}, err
	}
	var doc struct {
		coverage.Report
		Coverage *coverage.Report `json:"coverage"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return coverage.Report{}, fmt.Errorf("%s is not a coverage report: %w", path, err)
	}
	if doc.Coverage != nil {
		return *doc.Coverage, nil
	}
	if doc.Documented == 0 {
		return coverage.Report{}, fmt.Errorf("%s holds no coverage (want the JSON of /_mock/coverage or a proxy --report)", path)
	}
	return doc.Report, nil
}
