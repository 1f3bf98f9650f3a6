// Package docs holds the tests that keep the documentation true: README.md and the pages under
// docs/ (docs/_incoming aside, raw material waiting to be folded in).
//
// They check that every relative link and #anchor resolves, that every page links back to the
// README and the index and is linked from both, that the README stays a short front door, and that
// every shell block runs: each page's runnable blocks run in one bash session, in order, against a
// real mock built from this tree, and the outputs the page shows (`# → …` comments) must appear.
// The conventions a page follows are in docs/README.md, "How these pages are tested".
package docs
