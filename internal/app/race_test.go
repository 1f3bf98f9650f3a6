//go:build race

package app_test

// raceDetector is on: tests that push a gigabyte through the mock or measure its heap run
// without it (make test runs them so).
const raceDetector = true
