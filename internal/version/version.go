// Package version reports the build's version, stamped with -ldflags "-X" at release builds and
// read from the Go build info otherwise.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version and Commit are set with -ldflags "-X github.com/equalture/equalture-mock/internal/version.Version=...".
var (
	Version = "dev"
	Commit  = ""
)

// String returns "equalture-mock <version> (<commit>, <go version>)".
func String() string {
	v, c := Version, Commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	if len(c) > 12 {
		c = c[:12]
	}
	return fmt.Sprintf("equalture-mock %s (%s, %s)", v, c, runtime.Version())
}
