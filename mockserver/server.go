// Package mockserver is the Equalture Open Assessment API mock: an http.Handler whose routes come
// from openapi.yaml, whose every request is validated against it before its handler runs, and whose
// state lives in one store on one clock.
package mockserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/brianvoe/gofakeit/v6"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/phxtoken"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/store"
)

// Config holds the server's settings.
type Config struct {
	// PublicURL is the base of the links the mock hands out (assessment, public results, dashboard).
	PublicURL string
	// TokenTTL is how long an access token is valid (15 minutes).
	TokenTTL time.Duration
	// InvitationTTL is how long an invitation link is valid (1 week).
	InvitationTTL time.Duration
	// PublicLinkTTL is how long a public results link is valid (120 minutes).
	PublicLinkTTL time.Duration
	// MaxBodyBytes limits request bodies (1 MiB).
	MaxBodyBytes int64
	// Seed makes reference ids and scores reproducible.
	Seed int64
	// CallbackAllowHosts, when set, limits callback_url hosts ("ats.example.com", "*.example.com").
	CallbackAllowHosts []string
}

// Defaults for Config's zero fields.
const (
	DefaultTokenTTL      = 15 * time.Minute
	DefaultInvitationTTL = 7 * 24 * time.Hour
	DefaultPublicLinkTTL = 120 * time.Minute
	DefaultMaxBodyBytes  = 1 << 20
	realm                = "equalture"
)

func (c *Config) setDefaults() {
	if c.PublicURL == "" {
		c.PublicURL = "http://localhost:8080"
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.InvitationTTL <= 0 {
		c.InvitationTTL = DefaultInvitationTTL
	}
	if c.PublicLinkTTL <= 0 {
		c.PublicLinkTTL = DefaultPublicLinkTTL
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
}

// Deps are the server's collaborators, built once by the caller and shared with the rest of the
// mock (control API, callback dispatcher).
type Deps struct {
	Spec     *spec.Spec
	Store    *store.Store
	Clock    clock.Clock
	Fixtures *fixtures.Set
	Results  *results.Generator
	Tokens   *phxtoken.Signer
	Logger   *slog.Logger
	// Journal records every vendor API request (optional).
	Journal *journal.Journal
	// Faults are the control API's fault rules (optional).
	Faults *fault.Set
}

// Server serves the vendor API, the public pages behind its links and /healthz.
type Server struct {
	cfg Config
	Deps

	ops      map[string]handlerFunc // operationId → handler
	examples map[string]map[int][]byte
	pages    *http.ServeMux

	idMu sync.Mutex
	ids  *gofakeit.Faker
}

var _ http.Handler = (*Server)(nil)

// call is what a handler receives besides the request: the authenticated client, the path
// parameters and the validated body.
type call struct {
	client fixtures.Client
	params map[string]string
	body   []byte
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c call) error

// New builds the server and binds a handler to every operation of the contract; it fails if an
// operation has no handler or a handler names an operation the contract lacks.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg.setDefaults()
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Spec == nil || deps.Store == nil || deps.Clock == nil || deps.Fixtures == nil || deps.Results == nil || deps.Tokens == nil {
		return nil, errors.New("mockserver: missing dependency")
	}
	s := &Server{cfg: cfg, Deps: deps, ids: gofakeit.New(cfg.Seed)}
	s.ops = map[string]handlerFunc{
		"createAccessToken":    s.handleCreateAccessToken,
		"getAccessTokenLegacy": s.handleCreateAccessToken,
		"listJobs":             s.handleListJobs,
		"createApplication":    s.handleCreateApplication,
		"hireApplicant":        s.handleHireApplicant,
		"anonymizeApplication": s.handleAnonymizeApplication,
		"getPublicLink":        s.handleGetPublicLink,
		"getResults":           s.handleGetResults,
		"getStatus":            s.handleGetStatus,
	}
	if err := deps.Spec.CheckHandlers(keys(s.ops)); err != nil {
		return nil, fmt.Errorf("mockserver: %w", err)
	}
	s.examples = deps.Spec.Examples()
	s.pages = http.NewServeMux()
	s.pages.HandleFunc("GET /healthz", s.handleHealth)
	s.pages.HandleFunc("GET /{locale}/assessments/{assessment}/token/{token}", s.handleAssessmentPage)
	s.pages.HandleFunc("POST /{locale}/assessments/{assessment}/token/{token}", s.handleAssessmentSubmit)
	s.pages.HandleFunc("GET /{locale}/candidate_results/{ref}/summary", s.handlePublicResultsPage)
	s.pages.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, apierr.New(apierr.NotFound, "Not Found: no operation at %s %s", r.Method, r.URL.Path))
	})
	return s, nil
}

// ServeHTTP routes the vendor API through the contract and everything else to the pages mux.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel re-panicked on purpose
				panic(v)
			}
			s.writeError(w, &apierr.Error{Code: apierr.Internal, Detail: "Internal Server Error", Err: fmt.Errorf("panic: %v", v)})
		}
	}()
	if strings.HasPrefix(r.URL.Path, "/connect_ats/") {
		s.serveVendor(w, r)
		return
	}
	s.pages.ServeHTTP(w, r)
}

type authKey struct{}

// serveVendor answers a vendor API request: body read once (size-limited), fault rules, the
// Prefer override, routing and validation against the contract, then the operation's handler.
// Every request lands in the journal with its answer.
func (s *Server) serveVendor(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, capture: s.Journal != nil}
	entry := journal.Entry{Time: s.Clock.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	c := s.vendor(rec, r, &entry)
	if s.Logger.Enabled(r.Context(), slog.LevelInfo) {
		s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.String("operation", entry.OperationID), slog.String("client", c.client.ID),
			slog.Duration("took", time.Since(start)), slog.String("fault", entry.Fault))
	}
	if s.Journal == nil {
		return
	}
	switch {
	case c.client.ID != "":
		entry.ClientID = c.client.ID
	case entry.ClientID == "":
		entry.ClientID = s.identify(r)
	}
	entry.Status = rec.status
	entry.RequestBody = rawJSON(c.body)
	entry.ResponseBody = rawJSON(rec.body.Bytes())
	entry.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	s.Journal.Record(entry)
}

func (s *Server) vendor(w http.ResponseWriter, r *http.Request, entry *journal.Entry) (c call) {
	var err error
	if c.body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			err = apierr.New(apierr.TooLarge, "Request body too large (limit %d bytes)", tooLarge.Limit)
		} else {
			err = apierr.New(apierr.BadRequest, "Cannot read the request body: %v", err)
		}
		s.writeError(w, err)
		return c
	}
	r.Body = io.NopCloser(bytes.NewReader(c.body))
	route, routeErr := s.Spec.FindRoute(r)
	if routeErr == nil {
		entry.OperationID = route.Operation.OperationID
	}
	if s.Faults != nil && s.Faults.Len() > 0 {
		entry.ClientID = s.identify(r)
		if act, ok := s.Faults.Match(r.Method, r.URL.Path, entry.ClientID); ok {
			entry.Fault = act.RuleID
			if act.Apply(w, r) {
				return c
			}
		}
	}
	if routeErr != nil {
		s.writeError(w, routeErr)
		return c
	}
	if pref := r.Header.Get("Prefer"); pref != "" {
		if answered, err := s.preferred(w, route, pref); answered || err != nil {
			if err != nil {
				s.writeError(w, err)
			}
			return c
		}
	}
	ctx := context.WithValue(r.Context(), authKey{}, &c)
	if err := s.Spec.ValidateRequest(ctx, r, route, s.authenticate); err != nil {
		s.writeError(w, err)
		return c
	}
	c.params = route.Params
	if err := s.ops[route.Operation.OperationID](w, r, c); err != nil {
		s.writeError(w, err)
	}
	return c
}

func (s *Server) writeError(w http.ResponseWriter, err error) { apierr.Write(w, s.Logger, err) }

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) { apierr.WriteJSON(w, status, v) }

// newReferenceID draws the next application id from the seeded faker.
func (s *Server) newReferenceID() string {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	return s.ids.UUID()
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{
		"status":       "ok",
		"time":         s.Clock.Now().UTC(),
		"applications": s.Store.Count(),
	})
}
