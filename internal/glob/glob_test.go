package glob

import "testing"

func TestMatch(t *testing.T) {
	tests := map[string]struct {
		pattern, s string
		want       bool
	}{
		"empty matches all":         {"", "/x", true},
		"star matches all":          {"*", "/connect_ats/jobs", true},
		"exact":                     {"/connect_ats/jobs", "/connect_ats/jobs", true},
		"exact differs":             {"/connect_ats/jobs", "/connect_ats/jobs/x", false},
		"prefix":                    {"/connect_ats/applications*", "/connect_ats/applications/1/status", true},
		"prefix itself":             {"/connect_ats/applications*", "/connect_ats/applications", true},
		"middle segment":            {"/connect_ats/applications/*/hire_applicant", "/connect_ats/applications/abc/hire_applicant", true},
		"middle segment wrong tail": {"/connect_ats/applications/*/hire_applicant", "/connect_ats/applications/abc/status", false},
		"overlapping ends":          {"/a*a", "/a", false},
		"two stars":                 {"*/applications/*/status", "/connect_ats/applications/x/status", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Compile(tc.pattern).Match(tc.s); got != tc.want {
				t.Fatalf("Compile(%q).Match(%q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
			}
		})
	}
}
