package console

import "testing"

// An action goes back only to a console page: never another host, never a fragment.
func TestSafeBack(t *testing.T) {
	for back, want := range map[string]string{
		"/_mock/ui?state=invited&page=2":    "/_mock/ui?state=invited&page=2",
		"/_mock/ui/callbacks?status=failed": "/_mock/ui/callbacks?status=failed",
		"":                                  Prefix,
		"?state=invited":                    Prefix,
		"/_mock/ui#app-1":                   Prefix,
		"//evil.example/_mock/ui":           Prefix,
		"https://evil.example/_mock/ui":     Prefix,
		`/_mock/ui\evil`:                    Prefix,
		"/_mock/uix":                        Prefix,
		"/_mock/clock":                      Prefix,
		"/_mock/ui//evil.example":           Prefix,
	} {
		if got := safeBack(back); got != want {
			t.Errorf("safeBack(%q) = %q, want %q", back, got, want)
		}
	}
}
