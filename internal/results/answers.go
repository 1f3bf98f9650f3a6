package results

import (
	"fmt"
	"hash/fnv"
	"sort"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fixtures"
)

// The mock assessment: a few statements per trait of a job's competency profile, each answered on
// a five-point scale from "strongly disagree" (1) to "strongly agree" (5). It stands in for the
// real service's games; it measures nothing, but the same answers always give the same scores.

// Answer bounds: the five points of the agreement scale.
const (
	MinAnswer = 1
	MaxAnswer = 5
)

// Section is the part of the mock assessment about one trait: its statements in one locale.
type Section struct {
	Trait     string   // trait code
	Name      string   // trait name in the locale
	Questions []string // statements, answered by position
}

// fallbackQuestion is the one statement a trait without questions in the catalogue gets: its
// name and its highest bucket.
var fallbackQuestion = map[string]string{
	"en": "%s: %q describes me well.",
	"nl": "%s: %q past goed bij mij.",
}

// Questionnaire returns the mock assessment of job in locale (falling back to en): one section per
// trait of its competency profile, in the profile's order.
func (g *Generator) Questionnaire(job fixtures.Job, locale string) []Section {
	loc := fixtures.Locale(locale)
	out := make([]Section, 0, len(job.Profile))
	for _, p := range job.Profile {
		t, _ := g.fx.Trait(p.Trait) // fixtures.Load guarantees profile traits exist
		qs := t.Questions[loc]
		if len(qs) == 0 {
			qs = []string{fmt.Sprintf(fallbackQuestion[loc], t.Name[loc], t.Buckets[loc][len(t.Buckets[loc])-1])}
		}
		out = append(out, Section{Trait: p.Trait, Name: t.Name[loc], Questions: qs})
	}
	return out
}

// ScoreAnswers turns answers to job's mock assessment (trait code → one answer per statement, in
// order) into bucket scores: per trait the mean of its answers, rounded to the nearest bucket. A
// mean exactly between two buckets (3.5 from 3 and 4) goes up or down as the generator's seed,
// the trait and the answers say, so the same seed and answers always give the same scores.
//
// Every trait of the profile must be answered, every statement once, each answer 1..5; a 422 names
// each trait that is not ("answers.<trait>").
func (g *Generator) ScoreAnswers(job fixtures.Job, answers map[string][]int) (domain.Scores, error) {
	var e *apierr.Error
	scores := make(map[string]int, len(job.Profile))
	known := make(map[string]bool, len(job.Profile))
	for _, s := range g.Questionnaire(job, fixtures.Locales[0]) {
		known[s.Trait] = true
		field := "answers." + s.Trait
		got := answers[s.Trait]
		switch {
		case len(got) != len(s.Questions):
			e = addField(e, field, fmt.Sprintf("needs %d answers, has %d", len(s.Questions), len(got)))
			continue
		case !inScale(got):
			e = addField(e, field, fmt.Sprintf("answers must be between %d and %d", MinAnswer, MaxAnswer))
			continue
		}
		scores[s.Trait] = g.bucket(s.Trait, got)
	}
	extra := make([]string, 0)
	for code := range answers {
		if !known[code] {
			extra = append(extra, code)
		}
	}
	sort.Strings(extra)
	for _, code := range extra {
		e = addField(e, "answers."+code, "is not a trait of this job's competency profile")
	}
	if e != nil {
		return nil, e
	}
	return domain.NewScores(scores), nil
}

func inScale(answers []int) bool {
	for _, a := range answers {
		if a < MinAnswer || a > MaxAnswer {
			return false
		}
	}
	return true
}

// bucket is the rounded mean of answers (all in 1..5, at least one), a tie broken by the seed.
func (g *Generator) bucket(trait string, answers []int) int {
	sum, n := 0, len(answers)
	for _, a := range answers {
		sum += a
	}
	lo := sum / n
	switch rem := sum % n; {
	case rem*2 < n:
		return lo
	case rem*2 > n:
		return lo + 1
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/answers/%s/%v", g.seed, trait, answers)
	return lo + int(h.Sum64()&1)
}
