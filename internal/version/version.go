// Package version tells which build of equalture-mock this is. Release builds (make build, make
// release, the images) stamp Version, Commit and Date with -ldflags "-X" (scripts/buildinfo says
// what); any other build — `go install …@v0.1.0`, `go build` in a checkout — falls back to the Go
// build info: the module version and the VCS revision and time the go command recorded.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

// Version, Commit and Date are stamped at release builds with
// -ldflags "-X github.com/equalture/equalture-mock/internal/version.Version=v0.1.0" (and .Commit,
// .Date): the release's semantic version, the full commit hash and the commit's date (RFC 3339, UTC).
// Empty means not stamped.
var (
	Version string
	Commit  string
	Date    string
)

// Info is what a build knows about itself.
type Info struct {
	Version  string // v0.1.0; a pseudo-version for builds between releases; "dev" when unknown
	Commit   string // the full commit hash, "unknown" when the build recorded none
	Date     string // the commit's date (RFC 3339), "unknown" when the build recorded none
	Modified bool   // built from a working tree with uncommitted changes (build info only)
	Go       string // the Go toolchain that built it
	Platform string // GOOS/GOARCH
}

// Get returns this build's Info: the stamped values, else the build info's.
var Get = sync.OnceValue(func() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(Version, Commit, Date, bi)
})

// resolve prefers the stamped values and falls back to the build info, field by field.
func resolve(version, commit, date string, bi *debug.BuildInfo) Info {
	in := Info{Version: version, Commit: commit, Date: date, Go: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Commit == "" {
					in.Commit = s.Value
				}
			case "vcs.time":
				if in.Date == "" {
					in.Date = s.Value
				}
			case "vcs.modified":
				// Only where the commit came from the build info: a stamped version says -dirty itself.
				in.Modified = s.Value == "true" && commit == ""
			}
		}
	}
	if in.Version == "" {
		in.Version = "dev"
	}
	if in.Commit == "" {
		in.Commit = "unknown"
	}
	if in.Date == "" {
		in.Date = "unknown"
	}
	return in
}

// String returns the one-line form `equalture-mock version` prints:
// "equalture-mock v0.1.0 (commit 5c7482e97520, 2026-12-06T07:13:21Z, go1.26.8 linux/amd64)".
func (in Info) String() string {
	c := in.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if in.Modified {
		c += "+dirty"
	}
	return fmt.Sprintf("equalture-mock %s (commit %s, %s, %s %s)", in.Version, c, in.Date, in.Go, in.Platform)
}

// String is Get().String().
func String() string { return Get().String() }
