// Package e2e holds the browser tests: the pages behind the links the mock hands out and the
// operator console, clicked through in headless Chromium (Debian's chromium, driven with
// chromedp) against the whole mock on a loopback port. One browser serves the package; each test
// gets a fresh browser context (its own cookies) and a timeout, saves screenshots under
// reports/screenshots/, and has every HTML page the mock served it checked by testenv.CheckHTML.
// TestAccessibility runs axe-core (npm, pinned in tools/axe, installed by make tools) on every page
// type in both languages; without it that test skips, saying so, except under CI=true, where it
// fails.
//
// When Chromium is missing, TestMain runs scripts/browser-deps, which installs it with apt-get
// (as root, as scripts/image-test installs buildah); where it cannot be installed (not root, no
// apt-get) the tests skip, saying why — unless EQUALTURE_BROWSER_TESTS=require, which makes that a
// failure. A failed install on a machine that could install it fails the tests.
package e2e
