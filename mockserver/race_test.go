//go:build race

package mockserver_test

// raceDetector is on: tests that measure the heap run without it (make test runs them so).
const raceDetector = true
