// Package results makes an applicant's assessment results: bucket scores drawn reproducibly from a
// seed, rendered with the trait catalogue in the asked locale, and the fit derived from how the
// scores sit in the job's competency profile.
package results

import (
	"fmt"
	"hash/fnv"
	"maps"

	"github.com/brianvoe/gofakeit/v6"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fixtures"
)

// Fit values, from worst to best.
const (
	FitLow    = "low"
	FitMedium = "medium"
	FitHigh   = "high"
)

// CompetencyProfile is a job's requirement on one trait, as the API shows it.
type CompetencyProfile struct {
	Priority string `json:"priority"`
	Range    []int  `json:"range"`
}

// DetailedScore is one trait's score with the job's requirement on it.
type DetailedScore struct {
	CompetencyProfile      CompetencyProfile `json:"competency_profile"`
	TraitBucketDescription string            `json:"trait_bucket_description"`
	TraitBucketScore       int               `json:"trait_bucket_score"`
	TraitCode              string            `json:"trait_code"`
	TraitName              string            `json:"trait_name"`
}

// Results is what `GET .../results` answers and the callback PUTs.
type Results struct {
	ResultsURL     string            `json:"results_url"`
	Scores         map[string]string `json:"scores"`
	Fit            string            `json:"fit"`
	DetailedScores []DetailedScore   `json:"detailed_scores"`
}

// Generator draws and renders results from the fixtures' trait catalogue.
type Generator struct {
	fx   *fixtures.Set
	seed int64
}

// NewGenerator returns a generator; the same seed gives the same scores for the same application.
func NewGenerator(fx *fixtures.Set, seed int64) *Generator { return &Generator{fx: fx, seed: seed} }

// bucketWeights make middle buckets likelier than the extremes, as in a real population.
var (
	buckets       = []any{1, 2, 3, 4, 5}
	bucketWeights = []float32{1, 2, 3, 2, 1}
)

func (g *Generator) faker(referenceID string, attempt int) *gofakeit.Faker {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", g.seed, referenceID, attempt)
	// gofakeit treats seed 0 as "random": keep the derived seed non-zero.
	return gofakeit.New(int64(h.Sum64()>>1) | 1)
}

// Draw returns bucket scores (trait code → 1..5) for every trait of job's profile, reproducible for
// the generator's seed and referenceID.
func (g *Generator) Draw(referenceID string, job fixtures.Job) domain.Scores {
	return domain.NewScores(g.draw(referenceID, job, 0))
}

// DrawWith is Draw with the chosen scores (checked against job first) in place of their draws.
func (g *Generator) DrawWith(referenceID string, job fixtures.Job, chosen map[string]int) (domain.Scores, error) {
	if err := CheckScores(job, chosen); err != nil {
		return nil, err
	}
	scores := g.draw(referenceID, job, 0)
	maps.Copy(scores, chosen)
	return domain.NewScores(scores), nil
}

func (g *Generator) draw(referenceID string, job fixtures.Job, attempt int) map[string]int {
	f := g.faker(referenceID, attempt)
	scores := make(map[string]int, len(job.Profile))
	for _, p := range job.Profile {
		v, err := f.Weighted(buckets, bucketWeights)
		n, ok := v.(int)
		if err != nil || !ok {
			n = 3
		}
		scores[p.Trait] = n
	}
	return scores
}

// DrawForFit returns reproducible scores whose fit is fit, or a 422 when job's profile cannot give it.
func (g *Generator) DrawForFit(referenceID string, job fixtures.Job, fit string) (domain.Scores, error) {
	if fit != FitLow && fit != FitMedium && fit != FitHigh {
		return nil, apierr.Field("fit", "must be low, medium or high")
	}
	for attempt := 0; attempt < 64; attempt++ {
		s := domain.NewScores(g.draw(referenceID, job, attempt))
		if Fit(job, s) == fit {
			return s, nil
		}
	}
	// Seeded draws rarely miss; build the answer for the extremes by hand.
	m := make(map[string]int, len(job.Profile))
	for _, p := range job.Profile {
		m[p.Trait] = pick(p, fit != FitLow)
	}
	if s := domain.NewScores(m); Fit(job, s) == fit {
		return s, nil
	}
	return nil, apierr.Field("fit", fmt.Sprintf("%s is not reachable with this job's competency profile", fit))
}

// pick returns a score inside p's range (in) or outside it when there is one.
func pick(p fixtures.ProfileEntry, in bool) int {
	for score := 5; score >= 1; score-- {
		if p.Accepts(score) == in {
			return score
		}
	}
	return p.Range[0]
}

// Fit says how scores sit in job's profile: each trait weighs by its priority (low 1, medium 2,
// high 3); high when at least 80% of the weight is in range and no high-priority trait is out,
// medium from 50%, low below.
func Fit(job fixtures.Job, scores domain.Scores) string {
	var total, in int
	highMiss := false
	for _, p := range job.Profile {
		w := fixtures.Priorities[p.Priority]
		total += w
		if v, _ := scores.Get(p.Trait); p.Accepts(v) {
			in += w
		} else if p.Priority == "high" {
			highMiss = true
		}
	}
	switch {
	case total == 0:
		return FitLow
	case in*10 >= total*8 && !highMiss:
		return FitHigh
	case in*2 >= total:
		return FitMedium
	default:
		return FitLow
	}
}

// CheckScores checks chosen scores against job's profile: every trait named must be in it and
// every score in 1..5. Traits left out are drawn.
func CheckScores(job fixtures.Job, scores map[string]int) error {
	var e *apierr.Error
	for code, v := range scores {
		known := false
		for _, p := range job.Profile {
			known = known || p.Trait == code
		}
		field := "scores." + code
		switch {
		case !known:
			e = addField(e, field, "is not a trait of this job's competency profile")
		case v < 1 || v > 5:
			e = addField(e, field, "must be between 1 and 5")
		}
	}
	if e == nil {
		return nil
	}
	return e
}

func addField(e *apierr.Error, field, msg string) *apierr.Error {
	if e == nil {
		e = &apierr.Error{Code: apierr.Invalid}
	}
	e.Add(field, msg)
	return e
}

// Render turns scores into results in locale (falling back to en).
func (g *Generator) Render(job fixtures.Job, scores domain.Scores, locale, resultsURL string) Results {
	loc := fixtures.Locale(locale)
	r := Results{
		ResultsURL:     resultsURL,
		Scores:         make(map[string]string, len(job.Profile)),
		Fit:            Fit(job, scores),
		DetailedScores: make([]DetailedScore, 0, len(job.Profile)),
	}
	for _, p := range job.Profile {
		t, _ := g.fx.Trait(p.Trait) // fixtures.Load guarantees profile traits exist
		score, _ := scores.Get(p.Trait)
		desc := ""
		if score >= 1 && score <= len(t.Buckets[loc]) {
			desc = fmt.Sprintf("(%d) %s", score, t.Buckets[loc][score-1])
		}
		r.Scores[t.Name[loc]] = desc
		r.DetailedScores = append(r.DetailedScores, DetailedScore{
			CompetencyProfile:      CompetencyProfile{Priority: p.Priority, Range: p.Range},
			TraitBucketDescription: desc,
			TraitBucketScore:       score,
			TraitCode:              p.Trait,
			TraitName:              t.Name[loc],
		})
	}
	return r
}
