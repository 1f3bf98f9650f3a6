// Package console is the operator console at /_mock/ui: the mock's state at a glance for ATS
// developers and QA — applications with their timelines, deliveries (results and webhook events)
// with every attempt, every client's webhooks, the outbox, the newest journal entries, the clock
// and the fault rules — and buttons for the control API's actions. It is HTML for people, not part
// of the control API's contract: its forms post urlencoded to handlers here that decode them and
// call the service the control API's handlers call, so every rule keeps its one home; then they redirect back (POST-redirect-GET) with a message.
//
// Safety: every value is escaped by html/template; with an admin token the console needs a
// sign-in (the token, once, then a signed cookie); every form carries a CSRF token bound to the
// browser's console cookie, and cross-origin posts are refused by their Sec-Fetch-Site or Origin.
package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/webui"
)

// Prefix is the console's path: under the control API's prefix, routed before it.
const Prefix = "/_mock/ui"

// Owns reports whether path is the console's.
func Owns(path string) bool { return path == Prefix || strings.HasPrefix(path, Prefix+"/") }

// Deps are what the console shows and moves: the service the control API uses. It reads the
// lists a page at a time, newest first, with how many match in all (the service's ...Page
// methods), so a page costs the same at 10 applications and at 10,000.
type Deps struct {
	Service  *service.Service
	Fixtures *fixtures.Set
	// Admin, when it requires a token, wants it once on the sign-in form (guesses back off).
	Admin *auth.Admin
	// Key signs the console's cookie and derives its CSRF tokens (a key of its own, derived from
	// the mock's signing key).
	Key    []byte
	Logger *slog.Logger
}

// Handler serves the console.
type Handler struct {
	Deps
	handler http.Handler
}

var _ http.Handler = (*Handler)(nil)

//go:embed templates/*.html
var templateFS embed.FS

// tmpl holds a template set per console page: the frame with one section's template, and the
// sign-in (also the page for errors).
var tmpl = func() map[string]*template.Template {
	out := map[string]*template.Template{"signin": webui.ParseFS(templateFS, "signin", "signin.html")}
	for _, s := range sections {
		out[s.Name] = webui.ParseFS(templateFS, s.Name, "frame.html", s.Name+".html")
	}
	return out
}()

// New returns the console.
func New(d Deps) (*Handler, error) {
	if d.Service == nil || d.Admin == nil || d.Fixtures == nil || len(d.Key) == 0 {
		return nil, errors.New("console: missing dependency")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{Deps: d}
	mux := http.NewServeMux()
	for _, s := range sections {
		mux.HandleFunc("GET "+Prefix+s.Path, h.signedIn(h.section(s)))
	}
	mux.HandleFunc("GET "+Prefix+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET "+Prefix+"/sign_in", h.handleSignInForm)
	mux.HandleFunc("POST "+Prefix+"/sign_in", h.csrf(h.handleSignIn))
	mux.HandleFunc("POST "+Prefix+"/sign_out", h.csrf(h.handleSignOut))
	mux.HandleFunc("POST "+Prefix+"/clock/{action}", h.signedIn(h.csrf(h.handleClock)))
	mux.HandleFunc("POST "+Prefix+"/applications/{ref}/{action}", h.signedIn(h.csrf(h.handleApplication)))
	mux.HandleFunc("POST "+Prefix+"/callbacks/{id}/redeliver", h.signedIn(h.csrf(h.handleRedeliver)))
	mux.HandleFunc("POST "+Prefix+"/faults", h.signedIn(h.csrf(h.handleAddFault)))
	mux.HandleFunc("POST "+Prefix+"/faults/{id}/remove", h.signedIn(h.csrf(h.handleRemoveFault)))
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		h.page(w, r, http.StatusNotFound, "No console page at "+r.URL.Path)
	})
	// Cross-origin posts are refused by their headers before any form is read: another port of
	// localhost (the ATS under test) is same-site, so SameSite cookies alone would not stop it.
	h.handler = http.NewCrossOriginProtection().Handler(mux)
	return h, nil
}

// ServeHTTP serves a console page or action.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

// The console's cookie: "<session id>.<signed in: 1 or 0>.<MAC>". The MAC covers the id, the flag
// and the admin token's fingerprint, so a cookie signed in under one admin token is not under
// another. Signing in starts a new session (a new id, so new CSRF tokens): an id planted before
// the sign-in is worth nothing after it.
const (
	cookieName = "eqm_console"
	flashName  = "eqm_console_flash"
	csrfField  = "csrf"
)

type session struct {
	id       string
	signedIn bool
}

func (h *Handler) mac(parts ...string) string {
	m := hmac.New(sha256.New, h.Key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *Handler) cookieValue(s session) string {
	flag := "0"
	if s.signedIn {
		flag = "1"
	}
	return s.id + "." + flag + "." + h.mac("session", s.id, flag, h.Admin.Fingerprint())
}

// session returns r's console session, if its cookie is one this console signed.
func (h *Handler) session(r *http.Request) (session, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return session{}, false
	}
	id, rest, ok1 := strings.Cut(c.Value, ".")
	flag, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || id == "" || (flag != "0" && flag != "1") {
		return session{}, false
	}
	if !hmac.Equal([]byte(sig), []byte(h.mac("session", id, flag, h.Admin.Fingerprint()))) {
		return session{}, false
	}
	return session{id: id, signedIn: flag == "1" || !h.Admin.Required()}, true
}

// ensureSession returns r's session, starting one (a cookie) when it has none.
func (h *Handler) ensureSession(w http.ResponseWriter, r *http.Request) session {
	if s, ok := h.session(r); ok {
		return s
	}
	s := newSession(!h.Admin.Required())
	h.setSession(w, r, s)
	return s
}

// newSession is a session with a new random id.
func newSession(signedIn bool) session {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return session{id: base64.RawURLEncoding.EncodeToString(b), signedIn: signedIn}
}

func (h *Handler) setSession(w http.ResponseWriter, r *http.Request, s session) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: h.cookieValue(s), Path: Prefix,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// csrfToken is the token forms of session s carry.
func (h *Handler) csrfToken(s session) string { return h.mac("csrf", s.id) }

// signedIn lets the request through when the console needs no sign-in or its session is signed
// in; otherwise it sends the browser to the sign-in form.
func (h *Handler) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s, ok := h.session(r); !h.Admin.Required() || ok && s.signedIn {
			next(w, r)
			return
		}
		http.Redirect(w, r, Prefix+"/sign_in", http.StatusSeeOther)
	}
}

// csrf lets a form through only with the CSRF token of the browser's session: a page elsewhere
// cannot read it, so it cannot post a console form in the operator's name.
func (h *Handler) csrf(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			h.page(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
			return
		}
		s, ok := h.session(r)
		if !ok || subtle.ConstantTimeCompare([]byte(r.PostForm.Get(csrfField)), []byte(h.csrfToken(s))) != 1 {
			h.page(w, r, http.StatusForbidden, "This form has expired or did not come from the console: reload the console and try again.")
			return
		}
		next(w, r)
	}
}

// flash is a message for the next page the browser loads (after an action's redirect): what an
// action did or why it was refused, shown at the top of the page, which the redirect does not
// scroll away from (no fragment). Anchor is the element the action was about ("app-<ref>"),
// linked from the message when the page shows it.
type flash struct {
	Text   string
	Bad    bool
	Anchor string
}

// done ends an action: its message in a cookie for the next page, and back to the console page
// (and its filters and page number) the action was taken on.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, f flash) {
	v := url.Values{"t": {f.Text}, "a": {f.Anchor}}
	if f.Bad {
		v.Set("bad", "1")
	}
	http.SetCookie(w, &http.Cookie{Name: flashName, Value: v.Encode(), Path: Prefix,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, safeBack(r.PostForm.Get("back")), http.StatusSeeOther)
}

// safeBack keeps a form's way back only if it is a console page of this mock (a path under
// Prefix, with a query): never another host, never a fragment.
func safeBack(back string) string {
	u, err := url.Parse(back)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Fragment != "" || !Owns(u.Path) ||
		strings.Contains(back, "//") || strings.ContainsAny(back, "\\#") {
		return Prefix
	}
	return back
}

// takeFlash returns the message an action left, and clears it.
func (h *Handler) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashName)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashName, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	v, err := url.ParseQuery(c.Value)
	if err != nil || v.Get("t") == "" {
		return nil
	}
	return &flash{Text: v.Get("t"), Bad: v.Get("bad") == "1", Anchor: v.Get("a")}
}

// view is what both console templates read besides their own fields.
type view struct {
	Lang, Title, Nonce, CSRF string
	SignedIn, NeedsSignIn    bool
	Flash                    *flash
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, data any, nonce *string) {
	*nonce = webui.Headers(w)
	webui.Render(w, h.Logger, tmpl[name], status, data)
}

type signInView struct {
	view
	Failed bool
}

// page answers a console request that went wrong with a short page saying so.
func (h *Handler) page(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v := &signInView{view: view{Lang: "en", Title: http.StatusText(status), Flash: &flash{Text: msg, Bad: true}}}
	h.render(w, status, "signin", v, &v.Nonce)
}

func (h *Handler) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	if !h.Admin.Required() {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	s := h.ensureSession(w, r)
	v := &signInView{view: view{Lang: "en", Title: "Sign in", CSRF: h.csrfToken(s), NeedsSignIn: true}}
	h.render(w, http.StatusOK, "signin", v, &v.Nonce)
}

// handleSignIn checks the admin token (auth.Admin: wrong ones back off per client address) and
// starts a new, signed-in session; the token itself is not kept in the cookie.
func (h *Handler) handleSignIn(w http.ResponseWriter, r *http.Request) {
	s, _ := h.session(r) // csrf checked it
	err := errors.New("no admin token to sign in with")
	if h.Admin.Required() {
		err = h.Admin.Check(r, r.PostForm.Get("token"), true)
	}
	if err == nil {
		h.setSession(w, r, newSession(true))
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	v := &signInView{view: view{Lang: "en", Title: "Sign in", CSRF: h.csrfToken(s), NeedsSignIn: h.Admin.Required()}, Failed: true}
	status := http.StatusUnprocessableEntity
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Code == apierr.TooManyRequests {
		status, v.Failed, v.Flash = http.StatusTooManyRequests, false, &flash{Text: ae.Detail + ".", Bad: true}
		w.Header().Set("Retry-After", ae.Header.Get("Retry-After"))
	}
	h.render(w, status, "signin", v, &v.Nonce)
}

func (h *Handler) handleSignOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, Prefix+"/sign_in", http.StatusSeeOther)
}
