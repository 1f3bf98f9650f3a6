package journal

import (
	"testing"

	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/glob"
)

func TestRingKeepsNewest(t *testing.T) {
	j := New(3)
	for i := 1; i <= 5; i++ {
		j.Record(Entry{Path: "/p", Status: 200 + i})
	}
	got := j.Find(Filter{})
	if len(got) != 3 || got[0].Status != 203 || got[2].Status != 205 || got[2].ID != 5 {
		t.Fatalf("entries = %+v, want the newest three in order", got)
	}
	j.Reset()
	if j.Len() != 0 {
		t.Fatal("reset left entries")
	}
}

func TestFilter(t *testing.T) {
	j := New(0)
	j.Record(Entry{Method: "POST", Path: "/connect_ats/applications/1/hire_applicant", ClientID: "a", Status: 200,
		RequestBody: Body(`{"add_to_team":true,"start_date":"2025-07-01","n":{"x":[1,2]}}`)})
	j.Record(Entry{Method: "GET", Path: "/connect_ats/jobs", ClientID: "b", Status: 401, RequestBody: Body(`"not json object"`),
		Violations: []dispatch.Violation{{Kind: dispatch.KindResponse, Message: "no WWW-Authenticate"}}})
	yes, no := true, false
	tests := map[string]struct {
		f    Filter
		want int
	}{
		"all":                {Filter{}, 2},
		"method any case":    {Filter{Method: "post"}, 1},
		"path glob":          {Filter{Path: glob.Compile("/connect_ats/applications/*/hire_applicant")}, 1},
		"client":             {Filter{ClientID: "b"}, 1},
		"status":             {Filter{Status: 401}, 1},
		"body string":        {Filter{Body: map[string]string{"start_date": "2025-07-01"}}, 1},
		"body bool":          {Filter{Body: map[string]string{"add_to_team": "true"}}, 1},
		"body array index":   {Filter{Body: map[string]string{"n.x.1": "2"}}, 1},
		"body bracket index": {Filter{Body: map[string]string{"n.x[1]": "2"}}, 1},
		"body mismatch":      {Filter{Body: map[string]string{"start_date": "2025-07-02"}}, 0},
		"body missing":       {Filter{Body: map[string]string{"nope": ""}}, 0},
		"with violations":    {Filter{Violations: &yes}, 1},
		"without violations": {Filter{Violations: &no}, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := len(j.Find(tc.f)); got != tc.want {
				t.Fatalf("found %d, want %d", got, tc.want)
			}
		})
	}
}
