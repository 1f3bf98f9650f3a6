package coverage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/coverage"
	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/scenario"
	"github.com/equalture/equalture-mock/internal/scenario/run"
	"github.com/equalture/equalture-mock/mockserver"
)

var update = flag.Bool("update", false, "rewrite the coverage table of docs/scenarios.md from the scenario library's run")

// The markers around the generated table in docs/scenarios.md.
const (
	beginMark = "<!-- coverage:begin"
	endMark   = "<!-- coverage:end -->"
)

// TestScenarioLibraryCoverage runs the whole scenario library against one mock (reset between
// scenarios, as `equalture-mock scenario run --target` does) and wants the table in
// docs/scenarios.md to show what it covers (go test ./internal/coverage -run Library -update
// rewrites it).
func TestScenarioLibraryCoverage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	mock, err := mockserver.New(mockserver.Config{PublicURL: base, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mock, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = mock.Close(context.Background())
	})
	sp := vendor(t)
	rcv, err := receiver.New("127.0.0.1:0", "", sp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rcv.Close() })
	files, err := scenario.Expand([]string{"../../scenarios"})
	if err != nil {
		t.Fatal(err)
	}
	r := &run.Runner{Receiver: rcv, Contract: sp, Target: run.Remote{URL: base}}
	for _, file := range files {
		s, err := scenario.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if res := r.Run(context.Background(), s); !res.Passed() {
			t.Fatalf("%s: %v\n%s", file, res.Failure, res.Output)
		}
	}
	resp, err := http.Get(base + "/_mock/coverage")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep coverage.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := rep.WriteMarkdown(&table); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join("..", "..", "docs", "scenarios.md")
	doc, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := bytes.Cut(doc, []byte(beginMark))
	_, after, ok2 := bytes.Cut(rest, []byte(endMark))
	if !ok1 || !ok2 {
		t.Fatalf("docs/scenarios.md lacks the markers %q and %q", beginMark, endMark)
	}
	first, _, _ := bytes.Cut(rest, []byte("\n"))
	want := slices.Concat(before, []byte(beginMark), first, []byte("\n"), table.Bytes(), []byte(endMark), after)
	if *update {
		if err := os.WriteFile(page, want, 0o644); err != nil {
			t.Fatal(err)
		}
		doc = want
	}
	if !bytes.Equal(doc, want) {
		t.Fatalf("docs/scenarios.md does not show what the library covers; run go test ./internal/coverage -run Library -update\nthe library covers:\n%s", table.String())
	}
	if rep.Covered < 40 {
		t.Fatalf("the library covers %d items: it did not run", rep.Covered)
	}
}
