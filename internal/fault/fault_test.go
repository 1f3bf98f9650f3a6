package fault

import (
	"encoding/json"
	"testing"

	"github.com/equalture/equalture-mock/internal/duration"
)

func TestCheck(t *testing.T) {
	tests := map[string]struct {
		rule  Rule
		field string // "" when valid
	}{
		"status":          {Rule{Status: 503}, ""},
		"latency only":    {Rule{Latency: duration.Duration(1)}, ""},
		"no effect":       {Rule{Path: "/x"}, "status"},
		"bad status":      {Rule{Status: 99}, "status"},
		"bad break":       {Rule{Break: "boom"}, "break"},
		"range backwards": {Rule{Latency: duration.Duration(10), LatencyMax: duration.Duration(5)}, "latency_max"},
		"probability":     {Rule{Status: 500, Probability: 2}, "probability"},
		"body not json":   {Rule{Status: 500, Body: json.RawMessage(`{`)}, "body"},
		"negative nth":    {Rule{Status: 500, Nth: -1}, "nth"},
		"method":          {Rule{Status: 500, Method: "patch"}, ""},
		"not a method":    {Rule{Status: 500, Method: "GET /x"}, "method"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.rule.Check()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("valid rule refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid rule accepted")
			}
			if _, ok := err.(interface{ FieldNames() []string }); !ok {
				t.Fatalf("error %T is not a field error", err)
			}
		})
	}
}

func TestMatchCountsAndLimits(t *testing.T) {
	s := NewSet(1)
	s.Add(Rule{Method: "get", Path: "/a*", Status: 500, Times: 2})
	var hits int
	for i := 0; i < 5; i++ {
		if _, ok := s.Match("GET", "/abc", ""); ok {
			hits++
		}
	}
	if hits != 2 {
		t.Fatalf("fired %d times, want 2", hits)
	}
	if _, ok := s.Match("POST", "/abc", ""); ok {
		t.Fatal("a GET rule fired on POST")
	}
	r := s.List()[0]
	if r.Matched != 5 || r.Hits != 2 {
		t.Fatalf("counters = %d/%d", r.Matched, r.Hits)
	}
}

func TestProbabilityIsRoughlyHonoured(t *testing.T) {
	s := NewSet(7)
	s.Add(Rule{Status: 500, Probability: 0.25})
	hits := 0
	for i := 0; i < 4000; i++ {
		if _, ok := s.Match("GET", "/", ""); ok {
			hits++
		}
	}
	if hits < 800 || hits > 1200 {
		t.Fatalf("probability 0.25 fired %d of 4000 times", hits)
	}
}
