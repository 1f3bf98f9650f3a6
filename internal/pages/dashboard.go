package pages

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/service"
)

// The dashboard's pages live under /dashboard/{locale}/: results_url is
// /dashboard/{locale}/candidates/{reference_id}. A client signs in with its client id and secret
// from the fixtures; the session (a token auth.Sessions signs) is kept in a cookie, and only that
// client's applications can be seen.
const (
	sessionCookie = "eqm_dashboard"
	dashboardRoot = "/dashboard/"
)

func dashboardPath(loc string, parts ...string) string {
	p := dashboardRoot + fixtures.Locale(loc)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// signedIn returns the client r's session cookie names, or false (after redirecting to the
// sign-in form, which comes back to this page) when there is none or it is no longer valid.
func (p *Pages) signedIn(w http.ResponseWriter, r *http.Request, loc string) (fixtures.Client, bool) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if client, err := p.sessions.Client(c.Value); err == nil {
			return client, true
		}
	}
	http.Redirect(w, r, dashboardPath(loc, "sign_in")+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return fixtures.Client{}, false
}

// dashboardView is the common part of the dashboard's pages: the signed-in client and sign-out.
func dashboardView(r *http.Request, loc, title string, client fixtures.Client) view {
	v := newView(loc, title, localeSwitch(r, 1))
	v.User = client.Name
	if v.User == "" {
		v.User = client.ID
	}
	v.SignOut = dashboardPath(loc, "sign_out")
	return v
}

type candidatesView struct {
	view
	Rows []candidateRow
}

type candidateRow struct {
	URL, Name, Email, Job, StatusLabel string
	Status                             domain.Status
	Created                            time.Time
}

func (p *Pages) handleCandidates(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("locale")
	client, ok := p.signedIn(w, r, loc)
	if !ok {
		return
	}
	l := labelsFor(loc)
	v := &candidatesView{view: dashboardView(r, loc, l.Candidates, client)}
	for _, a := range p.service.Candidates(client.ID) {
		v.Rows = append(v.Rows, candidateRow{
			URL:         dashboardPath(loc, "candidates", a.ReferenceID),
			Name:        applicantName(a, l),
			Email:       a.Applicant.Email,
			Job:         p.service.Job(a).Name,
			Status:      a.Status,
			StatusLabel: l.Statuses[a.Status],
			Created:     a.CreatedAt,
		})
	}
	p.render(w, http.StatusOK, "candidates", v)
}

type candidateView struct {
	view
	Back, Name, Email, Job, StatusLabel, NoResults string
	Status                                         domain.Status
	Timeline                                       []momentView
	Results                                        *resultsView
}

type momentView struct {
	Status domain.Status
	Label  string
	At     time.Time
}

// handleCandidate is where results_url leads: the applicant, the timeline and the results.
func (p *Pages) handleCandidate(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("locale")
	client, ok := p.signedIn(w, r, loc)
	if !ok {
		return
	}
	c, err := p.service.Candidate(client.ID, r.PathValue("ref"), loc)
	if err != nil {
		p.writeError(w, r, loc, 1, err)
		return
	}
	l := labelsFor(loc)
	app := c.Application
	name := applicantName(app, l)
	v := &candidateView{
		view:        dashboardView(r, loc, name, client),
		Back:        dashboardPath(loc, "candidates"),
		Name:        name,
		Email:       app.Applicant.Email,
		Job:         c.Job.Name,
		Status:      app.Status,
		StatusLabel: l.Statuses[app.Status],
	}
	for _, m := range c.Timeline {
		v.Timeline = append(v.Timeline, momentView{Status: m.Status, Label: l.Statuses[m.Status], At: m.At})
	}
	switch {
	case c.Results != nil:
		v.Results = newResultsView(*c.Results, l, 3)
	case errors.Is(c.Why, service.ErrAnonymized):
		v.NoResults = l.NoResultsAnonymized
	default:
		v.NoResults = l.NoResults
	}
	p.render(w, http.StatusOK, "candidate", v)
}

// applicantName is a's applicant as the dashboard names them: an anonymized one in the reader's
// language (the store keeps a placeholder name in English, which the APIs answer).
func applicantName(a domain.Application, l *Labels) string {
	if a.Status == domain.Anonymized {
		return l.AnonymizedApplicant
	}
	return a.Applicant.FirstName + " " + a.Applicant.LastName
}

type signInView struct {
	view
	Action, Next, ClientID string
	Failed                 bool
}

func (p *Pages) signInView(r *http.Request, loc string) *signInView {
	return &signInView{view: newView(loc, labelsFor(loc).SignIn, localeSwitch(r, 1)), Action: dashboardPath(loc, "sign_in")}
}

func (p *Pages) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	v := p.signInView(r, r.PathValue("locale"))
	v.Next = safeNext(r.URL.Query().Get("next"))
	p.render(w, http.StatusOK, "signin", v)
}

// handleSignIn signs a client in with its credentials and goes back where it came from; wrong
// credentials send the form back (422: the form's content, not the request, is wrong).
func (p *Pages) handleSignIn(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("locale")
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		p.writeError(w, r, loc, 1, apierr.New(apierr.BadRequest, "The form could not be read: %v", err))
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	tok, _, err := p.sessions.SignIn(r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"))
	if err != nil {
		v := p.signInView(r, loc)
		v.Next, v.ClientID, v.Failed = next, r.PostForm.Get("client_id"), true
		p.render(w, http.StatusUnprocessableEntity, "signin", v)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: dashboardRoot,
		// Lax, not Strict: results_url is followed from the ATS, another site, and must arrive
		// signed in. Forms are guarded by the cross-origin check instead.
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
	if next == "" {
		next = dashboardPath(loc, "candidates")
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *Pages) handleSignOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: dashboardRoot, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, dashboardPath(r.PathValue("locale"), "sign_in"), http.StatusSeeOther)
}

// safeNext keeps a post-sign-in destination only if it is a dashboard page of this mock: never
// another host ("//evil.example", "/\evil.example"), so the sign-in cannot redirect off-site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, dashboardRoot) ||
		strings.Contains(next, "//") || strings.Contains(next, `\`) {
		return ""
	}
	return next
}
