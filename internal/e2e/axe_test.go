package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equalture/equalture-mock/internal/testenv"
)

// axeSource is axe-core's source, the accessibility checker the tests inject into pages: npm,
// pinned in tools/axe, installed by make tools (testenv.AxeCore); go test installs nothing itself.
var axeSource = sync.OnceValues(func() (string, error) {
	p, err := testenv.AxeCore.Find()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	return string(b), err
})

// requireAxe returns axe-core's source, or skips the test when it is not installed — a failure
// under CI=true, where make tools installed it.
func requireAxe(t testing.TB) string {
	t.Helper()
	testenv.AxeCore.Require(t)
	src, err := axeSource()
	if err != nil {
		t.Fatal(err)
	}
	return src
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
