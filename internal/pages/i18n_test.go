package pages

import (
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fixtures"
)

var verbs = regexp.MustCompile(`%[a-z]`)

// Every locale has every label, with the same printf verbs as English, and every label is
// translated: no Dutch label is the English one.
func TestEveryLabelIsTranslated(t *testing.T) {
	en := reflect.ValueOf(*labels["en"])
	for _, loc := range fixtures.Locales {
		l, ok := labels[loc]
		if !ok {
			t.Fatalf("no labels for %s", loc)
		}
		v := reflect.ValueOf(*l)
		for i := 0; i < v.NumField(); i++ {
			name := v.Type().Field(i).Name
			for key, pair := range flatten(en.Field(i), v.Field(i)) {
				base, got := pair[0], pair[1]
				if got == "" {
					t.Errorf("%s: %s%s is empty", loc, name, key)
					continue
				}
				if !slices.Equal(verbs.FindAllString(got, -1), verbs.FindAllString(base, -1)) {
					t.Errorf("%s: %s%s = %q has other verbs than en's %q", loc, name, key, got, base)
				}
				if loc != "en" && got == base {
					t.Errorf("%s: %s%s = %q is not translated", loc, name, key, got)
				}
			}
		}
	}
	for _, st := range []domain.Status{domain.Invited, domain.Started, domain.Completed, domain.Hired, domain.Expired, domain.Anonymized} {
		if labels["en"].Statuses[st] == "" {
			t.Errorf("status %s has no label", st)
		}
	}
}

// flatten pairs up a label field of two locales: a string, each element of an array, each value
// of a map (keyed by "[key]").
func flatten(en, loc reflect.Value) map[string][2]string {
	out := map[string][2]string{}
	switch en.Kind() {
	case reflect.String:
		out[""] = [2]string{en.String(), loc.String()}
	case reflect.Array:
		for i := 0; i < en.Len(); i++ {
			out["["+en.Index(i).String()+"]"] = [2]string{en.Index(i).String(), loc.Index(i).String()}
		}
	case reflect.Map:
		for _, k := range en.MapKeys() {
			var got string
			if v := loc.MapIndex(k); v.IsValid() {
				got = v.String()
			}
			out["["+k.String()+"]"] = [2]string{en.MapIndex(k).String(), got}
		}
	}
	return out
}

func TestParseAnswers(t *testing.T) {
	tests := map[string]struct {
		form map[string][]string
		want map[string][]int
		err  bool
	}{
		"in order": {map[string][]string{"a.planning.0": {"4"}, "a.planning.1": {"2"}, "other": {"x"}}, map[string][]int{"planning": {4, 2}}, false},
		// Unanswered statements are 0s, which the lifecycle refuses: never dropped (a dropped
		// trait made a partial form look empty, and complete with drawn scores).
		"a gap is unanswered":         {map[string][]string{"a.planning.0": {"4"}, "a.planning.2": {"2"}}, map[string][]int{"planning": {4, 0, 2}}, false},
		"the first one unanswered":    {map[string][]string{"a.working_memory.1": {"2"}}, map[string][]int{"working_memory": {0, 2}}, false},
		"empty value":                 {map[string][]string{"a.planning.0": {""}}, map[string][]int{"planning": {0}}, false},
		"no answer field: no answers": {map[string][]string{"other": {"x"}}, map[string][]int{}, false},
		"not a number":                {map[string][]string{"a.planning.0": {"four"}}, nil, true},
		"no index":                    {map[string][]string{"a.planning": {"4"}}, nil, true},
		"index out of form":           {map[string][]string{"a.planning.99": {"4"}}, nil, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseAnswers(tc.form)
			if (err != nil) != tc.err || !tc.err && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("parseAnswers = %v, %v; want %v (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestSpans(t *testing.T) {
	for in, want := range map[string]string{"3 4 5": "3–5", "1 2 4": "1–2, 4", "5 3 4": "3–5", "2": "2", "1 3 5": "1, 3, 5"} {
		var r []int
		for _, c := range in {
			if c != ' ' {
				r = append(r, int(c-'0'))
			}
		}
		if got := spans(r); got != want {
			t.Errorf("spans(%v) = %q, want %q", r, got, want)
		}
	}
}
