package cli

import (
	"os"
	"path/filepath"
	"testing"
)

func TestContractBinaryBeside(t *testing.T) {
	name := contractBinaryName()
	tests := map[string]struct {
		place string // where the suite is, relative to the install root; "" for nowhere
		want  string
	}{
		"next to the executable (archives, images)": {place: "bin/" + name, want: "bin/" + name},
		"in ../lib/equalture-mock (deb, rpm)":       {place: "lib/equalture-mock/" + name, want: "lib/equalture-mock/" + name},
		"nowhere":                                   {},
	}
	for label, tc := range tests {
		t.Run(label, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.place != "" {
				p := filepath.Join(root, tc.place)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := contractBinaryBeside(filepath.Join(root, "bin"))
			if tc.want == "" {
				if ok {
					t.Fatalf("found %s, want nothing", got)
				}
				return
			}
			if want := filepath.Join(root, tc.want); !ok || got != want {
				t.Fatalf("contractBinaryBeside = %q, %v; want %q", got, ok, want)
			}
		})
	}
}
