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
	Level         int // the heading level of each trait's name: one below the page's
	Traits        []traitView
	Chart         chartColors
}

// chartColors are the chart's colours, set on the SVG itself (and the legend's swatches) so that
// what a test reads is what a browser draws. On the card's white, every pair a reader must tell
// apart is at least 3:1 apart (WCAG 1.4.11 non-text contrast): an accepted cell against the card
// and against a cell outside the range (which is white, outlined), the score's marker against the
// cell under it; and a score outside the range changes shape (a diamond, not a circle) as well
// as colour, so hue is never the only sign.
type chartColors struct {
	Range, Off, OffLine, Mark, MarkText, Miss, MissText, Tick string
}

// chart is the one palette of the chart and its legend.
var chart = chartColors{
	Range:    "#1e7b4f", // accepted cells: 5.3:1 on white
	Off:      "#ffffff", // cells outside the range: the card's white…
	OffLine:  "#5b6478", // …outlined, 5.9:1 on white
	Mark:     "#ffffff", // a score in range: a white disc on the accepted cell (5.3:1)…
	MarkText: "#1d2433", // …numbered in the text colour
	Miss:     "#a4262c", // a score outside the range: a dark red diamond on a white cell (7.3:1)…
	MissText: "#ffffff", // …numbered in white
	Tick:     "#5b6478", // the scale's numbers: text, 5.9:1
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
	Diamond   string // the points of a score's diamond marker (outside the range)
}

// newResultsView draws r with l's words, each trait's name a heading of level (2 or 3).
func newResultsView(r results.Results, l *Labels, level int) *resultsView {
	v := &resultsView{Fit: r.Fit, FitLabel: l.Fits[r.Fit], Level: level, Chart: chart}
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
			mid := (n-1)*50 + 25
			t.Cells = append(t.Cells, cellView{N: n, X: (n-1)*50 + 1, Mid: mid, In: accepted[n], Score: n == t.Score,
				Diamond: fmt.Sprintf("%d,2 %d,16 %d,30 %d,16", mid, mid+14, mid, mid-14)})
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
		Results:    newResultsView(res, l, 2),
		TTLMinutes: int(p.service.Config().PublicLinkTTL.Minutes()),
	})
}
