//go:build !unix

package testenv

// lock is a no-op where flock is not available: two processes may then build the same binary at
// once, each into its own partial file, and the last rename wins.
func lock(string) (func(), error) { return func() {}, nil }

// private checks nothing where file ownership is not Unix's.
func private(string) error { return nil }
