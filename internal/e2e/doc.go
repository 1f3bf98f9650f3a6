// Package e2e holds the browser tests: the pages behind the links the mock hands out and the
// operator console, clicked through in headless Chromium (Debian's chromium, driven with
// chromedp) against the whole mock on a loopback port. One browser serves the package; each test
// gets a fresh browser context (its own cookies) and a timeout, saves screenshots (in
// $EQUALTURE_SCREENSHOTS, which make test sets to reports/screenshots, else in a temporary
// directory), and has every HTML page the mock served it checked by testenv.CheckHTML.
// TestAccessibility runs axe-core (npm, pinned in tools/axe, installed by make tools) on every page
// type in both languages.
//
// The tests install nothing: `make test` installs Chromium first (make browser-deps). Where it
// is missing they skip, saying so and naming that command — unless CI=true, where they fail
// (testenv.Chromium). With -short they skip.
package e2e
