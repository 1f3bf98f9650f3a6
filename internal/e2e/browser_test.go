package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// updateDocs copies the screenshots the README shows into docs/img.
var updateDocs = flag.Bool("docs", false, "copy the README's screenshots into docs/img")

// testTimeout bounds each test's browser work (real time).
const testTimeout = 60 * time.Second

var (
	browserCtx context.Context // the one browser; tests open contexts of their own in it
	root       string          // the module's root directory
	shots      string          // where screenshots go
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

// run starts the browser the tests share, unless they will skip: with -short, or when Chromium
// is missing (newTab then skips each test, or fails it under CI=true, through testenv.Chromium).
func run(m *testing.M) int {
	var err error
	if root, err = testenv.ModuleRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	bin, err := testenv.Chromium.Find()
	if testing.Short() || err != nil {
		return m.Run()
	}
	// Screenshots are kept where EQUALTURE_SCREENSHOTS says (make test: reports/screenshots, a CI
	// artefact), else in a directory removed at the end.
	if shots = os.Getenv("EQUALTURE_SCREENSHOTS"); shots == "" {
		if shots, err = os.MkdirTemp("", "equalture-e2e-screenshots-"); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(shots)
	}
	profile, err := os.MkdirTemp("", "equalture-e2e-chromium-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer removeProfile(profile)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // root in CI containers; the pages are the project's own
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		// What go.md says these machines need: no calls home, which their closed network refuses.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "en-US"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		fmt.Fprintf(os.Stderr, "e2e: starting %s: %v\n", bin, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: %s started in %v\n", bin, time.Since(start).Round(time.Millisecond))
	browserCtx = ctx
	return m.Run()
}

// removeProfile deletes Chromium's profile; its helpers may still write for a moment after it exits.
func removeProfile(dir string) {
	for range 50 {
		if os.RemoveAll(dir) == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tab is a test's browser: a fresh browser context (no cookies of other tests) with a timeout.
type tab struct {
	t   *testing.T
	ctx context.Context
	n   int // screenshots taken
}

// newTab also runs the test in parallel with the other browser tests (go test's -parallel, by
// default as many as there are CPUs): each has its own browser context and its own mock.
func newTab(t *testing.T) *tab {
	t.Helper()
	if testing.Short() {
		t.Skip("a browser test: not with -short")
	}
	testenv.Chromium.Require(t)
	t.Parallel()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, testTimeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
	})
	return &tab{t: t, ctx: ctx}
}

// do runs browser actions, failing the test on an error.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// load runs actions that load a page (a navigation, a form's submit button) and returns the
// page's HTTP status.
func (b *tab) load(what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, actions...)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if res != nil {
		return res.Status
	}
	// A form answered with a redirect (POST-redirect-GET) may leave RunResponse without the
	// document's response: the page's own navigation entry has its status.
	return eval[int64](b, `performance.getEntriesByType("navigation")[0].responseStatus`)
}

// text returns the visible text of the first element sel matches.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// shot saves a full-page screenshot as <test>-<n>-<name>.png in the screenshots directory and
// returns its path.
func (b *tab) shot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		b.t.Fatal(err)
	}
	b.n++
	file := filepath.Join(shots, fmt.Sprintf("%s-%d-%s.png", strings.ReplaceAll(b.t.Name(), "/", "_"), b.n, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", file)
	return file
}

// toDocs copies a screenshot into docs/img under name, with -docs.
func toDocs(t *testing.T, file, name string) {
	t.Helper()
	if !*updateDocs {
		return
	}
	b, err := os.ReadFile(file)
	if err == nil {
		err = os.WriteFile(filepath.Join(root, "docs", "img", name), b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// dialogs counts the JavaScript dialogs (alert, confirm, prompt) the tab's pages open, and
// dismisses them: an injected script's alert(1) would show up here.
func (b *tab) dialogs() *atomic.Int32 {
	var n atomic.Int32
	events := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range events {
			if err != nil {
				return
			}
			n.Add(1)
			_, _ = chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return &n
}

// newEnv starts the mock for a browser test: every HTML page it serves is checked by testenv.CheckHTML.
func newEnv(t *testing.T, opts ...func(*app.Options)) *testenv.Env {
	t.Helper()
	var mu sync.Mutex
	checked := 0
	h := testenv.NewWrapped(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &recorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			// Pages only: not redirects, nor the console's live part (a fragment of its page).
			if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || rec.status/100 == 3 || r.Header.Get("X-Console-Live") != "" {
				return
			}
			mu.Lock()
			checked++
			mu.Unlock()
			if err := testenv.CheckHTML(rec.body.Bytes()); err != nil {
				t.Errorf("%s %s: the page's HTML is not well formed:\n%v", r.Method, r.URL, err)
			}
		})
	}, opts...)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		t.Logf("%d HTML pages served and checked", checked)
	})
	return h
}

// recorder keeps a copy of what a handler writes.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
