package jsonpath_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/equalture/equalture-mock/internal/jsonpath"
)

// decode decodes doc as the scenario runner does (numbers kept as written) or, with floats, as the
// journal does.
func decode(t *testing.T, doc string, floats bool) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(doc)))
	if !floats {
		d.UseNumber()
	}
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLookup(t *testing.T) {
	// A scenario's answer: a key holding dots, lists, a number too big for a float.
	answer := `{"errors": {"applicant_details.email": ["can't be blank"], "job_id": ["bad"]},
		"detailed_scores": [{"trait_code": "planning", "competency_profile": {"range": [1, 2]}}], "n": 12345678901234567890}`
	// A journal entry's request body.
	hire := `{"add_to_team":true,"start_date":"2025-07-01","n":{"x":[1,2]}}`
	// Keys that overlap: the longest one that fits wins, a shorter one is still reachable.
	overlap := `{"a": {"b": "short"}, "a.b": "long", "a.b.c": {"d": "longest"}}`
	tests := map[string]struct {
		doc    string
		floats bool
		path   string
		want   string // the value found, as JSON; "" when not found
	}{
		"dotted key":         {doc: answer, path: "errors.applicant_details.email.0", want: `"can't be blank"`},
		"bracket index":      {doc: answer, path: "errors.applicant_details.email[0]", want: `"can't be blank"`},
		"nested index":       {doc: answer, path: "detailed_scores.0.competency_profile.range.1", want: "2"},
		"bracket then dot":   {doc: answer, path: "detailed_scores[0].trait_code", want: `"planning"`},
		"leading bracket":    {doc: `[["x"]]`, path: "[0][0]", want: `"x"`},
		"big number intact":  {doc: answer, path: "n", want: "12345678901234567890"},
		"out of range":       {doc: answer, path: "detailed_scores.1"},
		"negative index":     {doc: answer, path: "detailed_scores.-1"},
		"missing key":        {doc: answer, path: "errors.email"},
		"index into a map":   {doc: answer, path: "errors.0"},
		"whole document":     {doc: `{"a":1}`, path: "$", want: `{"a":1}`},
		"empty path":         {doc: `{"a":1}`, path: "", want: `{"a":1}`},
		"longest key first":  {doc: overlap, path: "a.b", want: `"long"`},
		"longest key deeper": {doc: overlap, path: "a.b.c.d", want: `"longest"`},
		"key is a prefix":    {doc: overlap, path: "a.bc"},

		"journal string":        {doc: hire, floats: true, path: "start_date", want: `"2025-07-01"`},
		"journal bool":          {doc: hire, floats: true, path: "add_to_team", want: "true"},
		"journal list index":    {doc: hire, floats: true, path: "n.x.1", want: "2"},
		"journal bracket index": {doc: hire, floats: true, path: "n.x[1]", want: "2"},
		"journal missing":       {doc: hire, floats: true, path: "nope"},
		"into a scalar":         {doc: `"not json object"`, floats: true, path: "a"},
		"past a scalar":         {doc: hire, floats: true, path: "start_date.x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, found := jsonpath.Lookup(decode(t, tc.doc, tc.floats), tc.path)
			if found != (tc.want != "") {
				t.Fatalf("found = %v, want %v (got %v)", found, tc.want != "", got)
			}
			if !found {
				return
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("got %s, want %s", b, tc.want)
			}
		})
	}
}
