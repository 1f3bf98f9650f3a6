// Package pages serves the web pages behind the links the mock hands out: the assessment an
// invitation leads to, the public results page, and the dashboard's candidate view behind
// results_url (with a sign-in as a fixture client). Opening, submitting and reading them are
// lifecycle use cases and signing in is auth's; this package only decodes forms, calls them and
// renders, in English or Dutch.
package pages

import (
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/webui"
)

// Deps are the pages' collaborators.
type Deps struct {
	Service *service.Service
	// Sessions signs clients in to the dashboard.
	Sessions *auth.Sessions
	Logger   *slog.Logger
}

// Pages is the pages' http.Handler; unknown paths get the API's JSON 404.
type Pages struct {
	service  *service.Service
	sessions *auth.Sessions
	log      *slog.Logger
	handler  http.Handler
}

var _ http.Handler = (*Pages)(nil)

//go:embed templates/*.html
var templateFS embed.FS

// tmpl holds one template set per page, each with the layout and the partials.
var tmpl = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"assessment", "thanks", "message", "results", "signin", "candidates", "candidate"} {
		out[name] = webui.ParseFS(templateFS, name, "partials.html", name+".html")
	}
	return out
}()

// New returns the pages.
func New(d Deps) *Pages {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pages{service: d.Service, sessions: d.Sessions, log: d.Logger}
	notFound := func(w http.ResponseWriter, r *http.Request) {
		apierr.Write(w, d.Logger, apierr.New(apierr.NotFound, "Not Found: no operation at %s %s", r.Method, r.URL.Path))
	}
	links := http.NewServeMux()
	links.HandleFunc("GET /{locale}/assessments/{assessment}/token/{token}", p.handleAssessment)
	links.HandleFunc("POST /{locale}/assessments/{assessment}/token/{token}", p.handleAssessmentSubmit)
	links.HandleFunc("GET /{locale}/assessments/{assessment}/token/{token}"+thanksSuffix, p.handleThanks)
	links.HandleFunc("GET /{locale}/candidate_results/{ref}/summary", p.handlePublicResults)
	links.Handle("GET /favicon.ico", webui.Favicon)
	links.Handle("GET "+webui.FaviconSVGPath, webui.Favicon)
	links.HandleFunc("/", notFound)
	// The dashboard has a mux of its own: its patterns and the links' overlap ("/dashboard/x/
	// candidates/y" against "/{locale}/candidate_results/{ref}/summary" for some paths).
	dashboard := http.NewServeMux()
	dashboard.HandleFunc("GET /dashboard/{locale}/candidates", p.handleCandidates)
	dashboard.HandleFunc("GET /dashboard/{locale}/candidates/{ref}", p.handleCandidate)
	dashboard.HandleFunc("GET /dashboard/{locale}/sign_in", p.handleSignInForm)
	dashboard.HandleFunc("POST /dashboard/{locale}/sign_in", p.handleSignIn)
	dashboard.HandleFunc("POST /dashboard/{locale}/sign_out", p.handleSignOut)
	dashboard.HandleFunc("/", notFound)
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, dashboardRoot) {
			dashboard.ServeHTTP(w, r)
			return
		}
		links.ServeHTTP(w, r)
	})
	// The dashboard's forms (sign in, sign out) post only from the mock's own pages: a page on
	// another origin — another port of localhost too, which SameSite cookies would let through —
	// is refused by its Sec-Fetch-Site or Origin header. Requests without either (scripts, curl)
	// pass, as the assessment's POST from scripts must.
	p.handler = http.NewCrossOriginProtection().Handler(mux)
	return p
}

// ServeHTTP serves a page.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// view is what every page's template reads besides its own fields.
type view struct {
	Lang, Title, Nonce string
	L                  *Labels
	Switch             []langLink // the page in each locale
	User, SignOut      string     // the dashboard's signed-in client and where signing out posts
}

type langLink struct {
	Code, Name, URL string
	Current         bool
}

// newView returns the common part of a page in locale titled title; switchTo(loc) is the URL of
// the same page in loc.
func newView(locale, title string, switchTo func(loc string) string) view {
	loc := fixtures.Locale(locale)
	v := view{Lang: loc, Title: title, L: labelsFor(loc)}
	for _, l := range fixtures.Locales {
		v.Switch = append(v.Switch, langLink{Code: l, Name: labels[l].LangName, URL: switchTo(l), Current: l == loc})
	}
	return v
}

// localeSwitch returns a function giving r's URL with its locale path segment (segment i, from
// 0) set to another locale, query kept.
func localeSwitch(r *http.Request, i int) func(string) string {
	return func(loc string) string {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if i < len(parts) {
			parts[i] = loc
		}
		u := *r.URL
		u.Path = "/" + strings.Join(parts, "/")
		u.RawPath = ""
		return u.RequestURI()
	}
}

// render answers page with data (webui.Render); setNonce receives the response's script nonce
// before the template runs.
func (p *Pages) render(w http.ResponseWriter, status int, page string, data interface{ setNonce(string) }) {
	data.setNonce(webui.Headers(w))
	webui.Render(w, p.log, tmpl[page], status, data)
}

func (v *view) setNonce(n string) { v.Nonce = n }

// messageView is a page that only says something: a link that cannot be used, an error.
type messageView struct {
	view
	Status                int
	Heading, Text, Detail string
}

// writeError renders err as a page in the reader's language, with err's status: why a link
// cannot be used comes from the service's reasons.
func (p *Pages) writeError(w http.ResponseWriter, r *http.Request, locale string, localeAt int, err error) {
	l := labelsFor(locale)
	status := apierr.Status(apierr.CodeOf(err))
	heading, text := l.ErrorTitle, l.ErrorText
	switch {
	case errors.Is(err, service.ErrLinkExpired):
		heading, text = l.ExpiredTitle, l.ExpiredText
	case errors.Is(err, service.ErrLinkUsed):
		heading, text = l.UsedTitle, l.UsedText
	case errors.Is(err, service.ErrAnonymized):
		heading, text = l.AnonymizedTitle, l.AnonymizedText
	case errors.Is(err, service.ErrLinkInvalid):
		heading, text = l.InvalidTitle, l.InvalidText
	case status == http.StatusNotFound:
		heading, text = l.NotFoundTitle, l.NotFoundText
	}
	if status == http.StatusInternalServerError {
		p.log.Error("page", "path", r.URL.Path, "err", err)
	}
	v := &messageView{view: newView(locale, heading, localeSwitch(r, localeAt)), Status: status, Heading: heading, Text: text}
	if fixtures.Locale(locale) == fixtures.Locales[0] && status != http.StatusInternalServerError {
		v.Detail = detail(err, heading) // the API's own words, in English: useful to an integrator reading the page
	}
	p.render(w, status, "message", v)
}

// detail is what err's own message adds to a page headed heading: nothing for the reasons the
// page already states (an expired, used or anonymized link says so in its heading and text), the
// rest of "This link is not valid: <why>" for an invalid link, the whole message otherwise.
func detail(err error, heading string) string {
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Detail == "" {
		return ""
	}
	switch {
	case errors.Is(err, service.ErrLinkExpired), errors.Is(err, service.ErrLinkUsed), errors.Is(err, service.ErrAnonymized):
		return ""
	case errors.Is(err, service.ErrLinkInvalid):
		_, why, _ := strings.Cut(ae.Detail, ": ")
		return why
	case strings.EqualFold(strings.TrimSuffix(ae.Detail, "."), strings.TrimSuffix(heading, ".")):
		return ""
	}
	return ae.Detail
}
