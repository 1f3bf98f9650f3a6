// Package pages serves the web pages behind the links the mock hands out: the assessment an
// invitation leads to, and the public results page. Opening, submitting and reading them are
// lifecycle use cases; this package only renders.
package pages

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/lifecycle"
	"github.com/equalture/equalture-mock/internal/store"
)

// Pages is the pages' http.Handler; unknown paths get the API's JSON 404.
type Pages struct {
	lifecycle *lifecycle.Service
	log       *slog.Logger
	mux       *http.ServeMux
}

var _ http.Handler = (*Pages)(nil)

// New returns the pages.
func New(lc *lifecycle.Service, log *slog.Logger) *Pages {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pages{lifecycle: lc, log: log, mux: http.NewServeMux()}
	p.mux.HandleFunc("GET /{locale}/assessments/{assessment}/token/{token}", p.handleAssessment)
	p.mux.HandleFunc("POST /{locale}/assessments/{assessment}/token/{token}", p.handleAssessmentSubmit)
	p.mux.HandleFunc("GET /{locale}/candidate_results/{ref}/summary", p.handlePublicResults)
	p.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apierr.Write(w, log, apierr.New(apierr.NotFound, "Not Found: no operation at %s %s", r.Method, r.URL.Path))
	})
	return p
}

// ServeHTTP serves a page.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Locale}}"><head><meta charset="utf-8"><title>{{.Title}} · equalture-mock</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
.note{color:#666;font-size:.9rem}</style></head><body>
<h1>{{.Title}}</h1>
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .Action}}<form method="post" action="{{.Action}}"><button type="submit">Complete the assessment</button></form>{{end}}
{{with .Results}}<p>Fit: <strong>{{.Fit}}</strong></p>
<table><tr><th>Trait</th><th>Score</th><th>Priority</th><th>Accepted range</th></tr>
{{range .DetailedScores}}<tr><td>{{.TraitName}}</td><td>{{.TraitBucketDescription}}</td><td>{{.CompetencyProfile.Priority}}</td><td>{{.CompetencyProfile.Range}}</td></tr>{{end}}
</table>{{end}}
<p class="note">Served by equalture-mock, a mock of the Equalture Open Assessment API.</p>
</body></html>`))

type page struct {
	Locale, Title, Message string
	Action                 string // where the "complete" button posts, when it shows
	Results                any
}

func (p *Pages) write(w http.ResponseWriter, status int, pg page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pageTmpl.Execute(w, pg); err != nil {
		p.log.Error("render page", "err", err)
	}
}

func (p *Pages) writeError(w http.ResponseWriter, locale string, err error) {
	var ae *apierr.Error
	msg := "Something went wrong."
	if errors.As(err, &ae) {
		msg = ae.Detail
	}
	status := apierr.Status(apierr.CodeOf(err))
	p.write(w, status, page{Locale: locale, Title: http.StatusText(status), Message: msg})
}

// handleAssessment is where an invitation link leads: opening it starts the assessment.
func (p *Pages) handleAssessment(w http.ResponseWriter, r *http.Request) {
	loc := fixtures.Locale(r.PathValue("locale"))
	a, err := p.lifecycle.OpenAssessment(r.PathValue("token"))
	if err != nil {
		p.writeError(w, loc, err)
		return
	}
	p.writeAssessment(w, r, loc, a)
}

// handleAssessmentSubmit completes the assessment from its page, as finishing the games would.
func (p *Pages) handleAssessmentSubmit(w http.ResponseWriter, r *http.Request) {
	loc := fixtures.Locale(r.PathValue("locale"))
	a, err := p.lifecycle.SubmitAssessment(r.PathValue("token"), nil)
	if err != nil {
		p.writeError(w, loc, err)
		return
	}
	p.writeAssessment(w, r, loc, a)
}

func (p *Pages) writeAssessment(w http.ResponseWriter, r *http.Request, loc string, a lifecycle.Assessment) {
	app := a.Application
	pg := page{Locale: loc, Title: "Assessment: " + a.Job.Name,
		Message: fmt.Sprintf("Welcome %s. Your assessment for %s is %s.", app.Applicant.FirstName, a.Job.Name, app.Status)}
	if app.Status == store.Started {
		pg.Action = r.URL.Path
		pg.Message += " (This mock has no games: the button completes it with drawn scores and sends the results callback.)"
	}
	p.write(w, http.StatusOK, pg)
}

// handlePublicResults is where a public link leads: the results, for 120 minutes, while the
// application still shows results.
func (p *Pages) handlePublicResults(w http.ResponseWriter, r *http.Request) {
	loc := fixtures.Locale(r.PathValue("locale"))
	res, err := p.lifecycle.PublicResults(r.PathValue("ref"), r.URL.Query().Get("token"), loc)
	if err != nil {
		p.writeError(w, loc, err)
		return
	}
	ttl := strconv.Itoa(int(p.lifecycle.Config().PublicLinkTTL.Minutes()))
	p.write(w, http.StatusOK, page{Locale: loc, Title: "Candidate results", Results: res,
		Message: "Fit with the job's competency profile, by trait. Link valid for " + ttl + " minutes."})
}
