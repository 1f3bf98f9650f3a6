package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axe-core is the accessibility checker the tests inject into pages. It comes from npm, pinned in
// tools/axe (make tools installs it with npm ci); go test installs nothing itself.
const axePath = "tools/axe/node_modules/axe-core/axe.min.js"

var axeOnce = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join(root, axePath))
	return string(b), err
})

// requireAxe returns axe-core's source, or skips the test when it is not installed — a failure
// under CI=true, where make tools installed it.
func requireAxe(t *testing.T) string {
	t.Helper()
	src, err := axeOnce()
	if err == nil {
		return src
	}
	msg := fmt.Sprintf("axe-core is not installed (%v): run `make tools` (npm ci in tools/axe)", err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// axeViolation is one rule a page breaks, with the elements that break it.
type axeViolation struct {
	ID    string   `json:"id"`
	Help  string   `json:"help"`
	Nodes []string `json:"nodes"`
}

// axeCheck runs axe-core (WCAG 2.x A and AA rules and axe's best practices) on the tab's page and
// fails the test, naming each rule and element, on any violation. DevTools' evaluation is not
// subject to the page's Content-Security-Policy, so the pages need no exception for it.
func (b *tab) axeCheck(page string) {
	b.t.Helper()
	src := requireAxe(b.t)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](src+"\n;true")); err != nil {
		b.t.Fatalf("%s: injecting axe-core: %v", page, err)
	}
	const run = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({
		id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)}))))`
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: running axe-core: %v", page, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		b.t.Fatalf("%s: axe-core's answer %q: %v", page, out, err)
	}
	for _, v := range vs {
		b.t.Errorf("%s: axe %s (%s):\n  %s", page, v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
	}
}
