package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	const sha = "5c7482e97520c034ae1990fadeb7340a40b78cfa"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: sha},
			{Key: "vcs.time", Value: "2026-12-06T07:13:21Z"},
			{Key: "vcs.modified", Value: modified},
		}
	}
	tests := map[string]struct {
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  Info
		line                  string
	}{
		"stamped (make build, make release, the images)": {
			version: "v0.1.0", commit: sha, date: "2026-12-06T07:13:21Z",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("true")},
			want: Info{Version: "v0.1.0", Commit: sha, Date: "2026-12-06T07:13:21Z"},
			line: "equalture-mock v0.1.0 (commit 5c7482e97520, 2026-12-06T07:13:21Z, ",
		},
		"go install …@v0.1.0: the module version, no VCS": {
			bi:   &debug.BuildInfo{Main: debug.Module{Path: "github.com/equalture/equalture-mock", Version: "v0.1.0"}},
			want: Info{Version: "v0.1.0", Commit: "unknown", Date: "unknown"},
			line: "equalture-mock v0.1.0 (commit unknown, unknown, ",
		},
		"go build in a modified checkout: pseudo-version and VCS": {
			bi: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261206071321-5c7482e97520+dirty"},
				Settings: vcs("true")},
			want: Info{Version: "v0.0.0-20261206071321-5c7482e97520+dirty", Commit: sha,
				Date: "2026-12-06T07:13:21Z", Modified: true},
			line: "(commit 5c7482e97520+dirty, 2026-12-06T07:13:21Z, ",
		},
		"go run without VCS (e.g. -buildvcs=false)": {
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want: Info{Version: "dev", Commit: "unknown", Date: "unknown"},
			line: "equalture-mock dev (commit unknown, unknown, ",
		},
		"Dockerfile with only VERSION passed: the rest from nothing": {
			version: "v0.1.0",
			want:    Info{Version: "v0.1.0", Commit: "unknown", Date: "unknown"},
			line:    "equalture-mock v0.1.0 (commit unknown, unknown, ",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := resolve(tc.version, tc.commit, tc.date, tc.bi)
			tc.want.Go, tc.want.Platform = runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH
			if got != tc.want {
				t.Fatalf("resolve = %+v, want %+v", got, tc.want)
			}
			if line := got.String(); !strings.Contains(line, tc.line) ||
				!strings.HasSuffix(line, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+")") {
				t.Fatalf("String() = %q, want it to contain %q and end with the toolchain and platform", line, tc.line)
			}
		})
	}
}
