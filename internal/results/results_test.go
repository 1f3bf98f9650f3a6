package results_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/results"
)

func setup(t *testing.T) (*fixtures.Set, fixtures.Job) {
	t.Helper()
	fx, err := fixtures.Load(assets.Fixtures())
	if err != nil {
		t.Fatal(err)
	}
	job, _ := fx.Job("demo-client", "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01")
	return fx, job
}

// The engineer job: problem_solving_ability high [3-5], working_memory medium [2-5],
// problem_solving_style low [1-5], attention_to_detail medium [3-5], cognitive_flexibility low [2-4].
func TestFit(t *testing.T) {
	_, job := setup(t)
	tests := map[string]struct {
		scores map[string]int
		want   string
	}{
		"all in range":                 {map[string]int{"problem_solving_ability": 4, "working_memory": 3, "problem_solving_style": 1, "attention_to_detail": 5, "cognitive_flexibility": 3}, "high"},
		"a low trait out still high":   {map[string]int{"problem_solving_ability": 4, "working_memory": 3, "problem_solving_style": 1, "attention_to_detail": 5, "cognitive_flexibility": 5}, "high"},
		"high priority out caps":       {map[string]int{"problem_solving_ability": 2, "working_memory": 3, "problem_solving_style": 1, "attention_to_detail": 5, "cognitive_flexibility": 3}, "medium"},
		"two mediums out":              {map[string]int{"problem_solving_ability": 4, "working_memory": 1, "problem_solving_style": 1, "attention_to_detail": 1, "cognitive_flexibility": 3}, "medium"},
		"mostly out":                   {map[string]int{"problem_solving_ability": 1, "working_memory": 1, "problem_solving_style": 3, "attention_to_detail": 1, "cognitive_flexibility": 1}, "low"},
		"missing scores count as miss": {map[string]int{}, "low"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := results.Fit(job, domain.NewScores(tc.scores)); got != tc.want {
				t.Fatalf("Fit = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDrawIsReproducibleAndInRange(t *testing.T) {
	fx, job := setup(t)
	a, b := results.NewGenerator(fx, 42), results.NewGenerator(fx, 42)
	s1, s2 := a.Draw("ref-1", job), b.Draw("ref-1", job)
	if !reflect.DeepEqual(s1, s2) {
		t.Fatalf("same seed and reference: %v vs %v", s1, s2)
	}
	if len(s1) != len(job.Profile) {
		t.Fatalf("scores for %d traits, profile has %d", len(s1), len(job.Profile))
	}
	for code, v := range s1.Map() {
		if v < 1 || v > 5 {
			t.Fatalf("%s = %d, outside 1-5", code, v)
		}
	}
	differ := false
	for i := 0; i < 20 && !differ; i++ {
		differ = !reflect.DeepEqual(s1, a.Draw("ref-"+strings.Repeat("x", i+2), job))
	}
	if !differ {
		t.Fatal("twenty references drew the same scores")
	}
}

func TestDrawForFit(t *testing.T) {
	fx, job := setup(t)
	g := results.NewGenerator(fx, 1)
	for _, fit := range []string{"low", "medium", "high"} {
		s, err := g.DrawForFit("r", job, fit)
		if err != nil {
			t.Fatal(err)
		}
		if got := results.Fit(job, s); got != fit {
			t.Fatalf("DrawForFit(%s) gave scores of fit %s", fit, got)
		}
	}
	if _, err := g.DrawForFit("r", job, "great"); !apierr.Is(err, apierr.Invalid) {
		t.Fatalf("unknown fit: %v", err)
	}
	open := fixtures.Job{Profile: []fixtures.ProfileEntry{{Trait: "planning", Priority: "high", Range: []int{1, 2, 3, 4, 5}}}}
	if _, err := g.DrawForFit("r", open, "low"); !apierr.Is(err, apierr.Invalid) {
		t.Fatalf("a fit no score can give: %v", err)
	}
}

func TestRender(t *testing.T) {
	fx, job := setup(t)
	g := results.NewGenerator(fx, 1)
	scores := domain.NewScores(map[string]int{"problem_solving_ability": 5, "working_memory": 3, "problem_solving_style": 3, "attention_to_detail": 4, "cognitive_flexibility": 5})
	nl := g.Render(job, scores, "nl", "https://x.example/r")
	if got := nl.Scores["Probleemoplossend vermogen"]; got != "(5) Hogere capaciteit" {
		t.Fatalf("nl score = %q", got)
	}
	if d := nl.DetailedScores[0]; d.TraitCode != "problem_solving_ability" || d.CompetencyProfile.Priority != "high" || !reflect.DeepEqual(d.CompetencyProfile.Range, []int{3, 4, 5}) {
		t.Fatalf("detailed score = %+v", d)
	}
	en := g.Render(job, scores, "de", "u")
	if got := en.Scores["Cognitive flexibility"]; got != "(5) Very flexible" {
		t.Fatalf("fallback to en: %q", got)
	}
	if en.Fit != results.Fit(job, scores) {
		t.Fatalf("rendered fit %s differs from Fit", en.Fit)
	}
}

func TestCheckScores(t *testing.T) {
	_, job := setup(t)
	if err := results.CheckScores(job, map[string]int{"working_memory": 2}); err != nil {
		t.Fatal(err)
	}
	err := results.CheckScores(job, map[string]int{"working_memory": 0, "risk_taking": 3})
	var e *apierr.Error
	if !apierr.Is(err, apierr.Invalid) {
		t.Fatalf("CheckScores = %v", err)
	}
	e = err.(*apierr.Error)
	if got := e.FieldNames(); !reflect.DeepEqual(got, []string{"scores.risk_taking", "scores.working_memory"}) {
		t.Fatalf("fields = %v", got)
	}
}
