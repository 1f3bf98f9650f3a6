package pages

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/equalture/equalture-mock/internal/results"
)

// resultsView is results as the pages draw them: the fit, and per trait the score on a 1-5 scale
// with the job's accepted range shaded (server-rendered SVG).
type resultsView struct {
	Fit, FitLabel string
	Traits        []traitView
}

type traitView struct {
	Code, Name, Description, Priority, Range, Aria string
	Score                                          int
	InRange                                        bool
	Cells                                          []cellView
}

// cellView is one bucket of a trait's scale: 50 units wide in a 250-unit chart.
type cellView struct {
	N, X, Mid int
	In, Score bool
}

func newResultsView(r results.Results, l *Labels) *resultsView {
	v := &resultsView{Fit: r.Fit, FitLabel: l.Fits[r.Fit]}
	for _, d := range r.DetailedScores {
		accepted := map[int]bool{}
		for _, n := range d.CompetencyProfile.Range {
			accepted[n] = true
		}
		t := traitView{
			Code:        d.TraitCode,
			Name:        d.TraitName,
			Description: d.TraitBucketDescription,
			Priority:    fmt.Sprintf(l.Priority, l.Priorities[d.CompetencyProfile.Priority]),
			Range:       spans(d.CompetencyProfile.Range),
			Score:       d.TraitBucketScore,
			InRange:     accepted[d.TraitBucketScore],
		}
		where := l.OutOfRange
		if t.InRange {
			where = l.InRange
		}
		t.Aria = fmt.Sprintf(l.ChartLabel, t.Name, t.Score, where)
		for n := 1; n <= 5; n++ {
			t.Cells = append(t.Cells, cellView{N: n, X: (n-1)*50 + 1, Mid: (n-1)*50 + 25, In: accepted[n], Score: n == t.Score})
		}
		v.Traits = append(v.Traits, t)
	}
	return v
}

// spans writes an accepted range as the reader does: [3 4 5] is "3–5", [1 2 4] is "1–2, 4".
func spans(accepted []int) string {
	r := slices.Sorted(slices.Values(accepted))
	r = slices.Compact(r)
	var parts []string
	for i := 0; i < len(r); {
		j := i
		for j+1 < len(r) && r[j+1] == r[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(r[i])+"–"+strconv.Itoa(r[j]))
		} else {
			parts = append(parts, strconv.Itoa(r[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

type publicResultsView struct {
	view
	Results    *resultsView
	TTLMinutes int
}

// handlePublicResults is where a public link leads: the results, for 120 minutes, while the
// application still shows results.
func (p *Pages) handlePublicResults(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("locale")
	res, err := p.service.PublicResults(r.PathValue("ref"), r.URL.Query().Get("token"), loc)
	if err != nil {
		p.writeError(w, r, loc, 0, err)
		return
	}
	l := labelsFor(loc)
	p.render(w, http.StatusOK, "results", &publicResultsView{
		view:       newView(loc, l.ResultsTitle, localeSwitch(r, 0)),
		Results:    newResultsView(res, l),
		TTLMinutes: int(p.service.Config().PublicLinkTTL.Minutes()),
	})
}
