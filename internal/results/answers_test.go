package results_test

import (
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/results"
)

// all answers every trait of the engineer job's profile (three statements each) with a.
func all(a int) map[string][]int {
	return map[string][]int{
		"problem_solving_ability": {a, a, a}, "working_memory": {a, a, a}, "problem_solving_style": {a, a, a},
		"attention_to_detail": {a, a, a}, "cognitive_flexibility": {a, a, a},
	}
}

func with(m map[string][]int, trait string, answers ...int) map[string][]int {
	c := make(map[string][]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	if answers == nil {
		delete(c, trait)
	} else {
		c[trait] = answers
	}
	return c
}

func TestQuestionnaire(t *testing.T) {
	fx, job := setup(t)
	g := results.NewGenerator(fx, 1)
	en, nl := g.Questionnaire(job, "en"), g.Questionnaire(job, "nl")
	if len(en) != len(job.Profile) || len(nl) != len(en) {
		t.Fatalf("%d en and %d nl sections for %d traits", len(en), len(nl), len(job.Profile))
	}
	for i, s := range en {
		if s.Trait != job.Profile[i].Trait || len(s.Questions) != 3 || len(nl[i].Questions) != 3 {
			t.Fatalf("section %d = %+v", i, s)
		}
		if s.Questions[0] == nl[i].Questions[0] || nl[i].Name != mustTrait(t, fx, s.Trait).Name["nl"] {
			t.Fatalf("section %d is not in Dutch: %+v", i, nl[i])
		}
	}
	if fr := g.Questionnaire(job, "fr"); !reflect.DeepEqual(fr, en) {
		t.Fatal("an unknown locale does not fall back to en")
	}
}

func mustTrait(t *testing.T, fx *fixtures.Set, code string) fixtures.Trait {
	t.Helper()
	tr, ok := fx.Trait(code)
	if !ok {
		t.Fatalf("no trait %s", code)
	}
	return tr
}

func TestQuestionnaireFallsBackToOneStatement(t *testing.T) {
	fx, err := fixtures.Load(fstest.MapFS{
		"clients.yaml": {Data: []byte(`clients:
  - client_id: c
    client_secret: s
    jobs:
      - id: 0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01
        name: J
        competency_profile: [{trait: grit, priority: high, range: [3, 4, 5]}]
`)},
		"traits.yaml": {Data: []byte(`traits:
  - code: grit
    name: {en: Grit, nl: Doorzettingsvermogen}
    buckets: {en: [a, b, c, d, Very gritty], nl: [a, b, c, d, Zeer volhardend]}
`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	job, _ := fx.Job("c", "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01")
	g := results.NewGenerator(fx, 1)
	nl := g.Questionnaire(job, "nl")
	if len(nl) != 1 || len(nl[0].Questions) != 1 || !strings.Contains(nl[0].Questions[0], "Zeer volhardend") {
		t.Fatalf("fallback = %+v", nl)
	}
	scores, err := g.ScoreAnswers(job, map[string][]int{"grit": {4}})
	if err != nil || func() bool { v, _ := scores.Get("grit"); return v != 4 }() {
		t.Fatalf("ScoreAnswers = %v, %v", scores, err)
	}
}

func TestScoreAnswers(t *testing.T) {
	fx, job := setup(t)
	g := results.NewGenerator(fx, 7)
	tests := map[string]struct {
		answers map[string][]int
		want    map[string]int // the traits checked
		errs    []string       // fields of the 422
	}{
		"all strongly agree": {all(5), map[string]int{"problem_solving_ability": 5, "cognitive_flexibility": 5}, nil},
		"all neutral":        {all(3), map[string]int{"working_memory": 3}, nil},
		"rounded mean down":  {with(all(3), "working_memory", 1, 2, 2), map[string]int{"working_memory": 2}, nil}, // 1.67 → 2
		"rounded mean up":    {with(all(3), "working_memory", 4, 5, 5), map[string]int{"working_memory": 5}, nil}, // 4.67 → 5
		"nearer the lower":   {with(all(3), "working_memory", 1, 1, 2), map[string]int{"working_memory": 1}, nil}, // 1.33 → 1
		"missing trait":      {with(all(3), "working_memory"), nil, []string{"answers.working_memory"}},
		"short trait":        {with(all(3), "attention_to_detail", 4, 4), nil, []string{"answers.attention_to_detail"}},
		"out of scale":       {with(all(3), "attention_to_detail", 4, 6, 4), nil, []string{"answers.attention_to_detail"}},
		"unknown trait":      {with(all(3), "planning", 3, 3, 3), nil, []string{"answers.planning"}},
		"nothing":            {map[string][]int{}, nil, []string{"answers.problem_solving_ability", "answers.cognitive_flexibility"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := g.ScoreAnswers(job, tc.answers)
			if tc.errs != nil {
				if err == nil {
					t.Fatalf("no error, scores %v", got)
				}
				for _, f := range tc.errs {
					if !strings.Contains(err.Error(), f) {
						t.Errorf("error %v does not name %s", err, f)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(job.Profile) {
				t.Fatalf("scores %v do not cover the profile", got)
			}
			for trait, want := range tc.want {
				if got.Map()[trait] != want {
					t.Errorf("%s = %d, want %d (all %v)", trait, got.Map()[trait], want, got)
				}
			}
		})
	}
}

// A mean between two buckets is settled by the seed: the same every time for one seed, and both
// ways across seeds.
func TestScoreAnswersTieIsSeeded(t *testing.T) {
	fx, err := fixtures.Load(fstest.MapFS{
		"clients.yaml": {Data: []byte(`clients:
  - client_id: c
    client_secret: s
    jobs:
      - id: 0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01
        name: J
        competency_profile: [{trait: grit, priority: high, range: [3, 4, 5]}]
`)},
		"traits.yaml": {Data: []byte(`traits:
  - code: grit
    name: {en: Grit, nl: Doorzettingsvermogen}
    buckets: {en: [a, b, c, d, e], nl: [a, b, c, d, e]}
    questions: {en: [one, two], nl: [een, twee]}
`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	job, _ := fx.Job("c", "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01")
	tie := map[string][]int{"grit": {3, 4}}
	seen := map[int]bool{}
	for seed := int64(1); seed <= 16; seed++ {
		a, err := results.NewGenerator(fx, seed).ScoreAnswers(job, tie)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := results.NewGenerator(fx, seed).ScoreAnswers(job, tie)
		if a.Map()["grit"] != b.Map()["grit"] || a.Map()["grit"] != 3 && a.Map()["grit"] != 4 {
			t.Fatalf("seed %d: 3 and 4 gave %d, then %d", seed, a.Map()["grit"], b.Map()["grit"])
		}
		seen[a.Map()["grit"]] = true
	}
	if !seen[3] || !seen[4] {
		t.Fatalf("16 seeds broke the tie only one way: %v", seen)
	}
}
