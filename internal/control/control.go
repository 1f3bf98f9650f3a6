// Package control is the mock's control API under /_mock: levers for tests and QA that the real
// service does not have (clock, lifecycle, tokens, faults, callbacks, outbox, journal, reset). Like
// the vendor API it is driven by its own contract (control-openapi.yaml): routes, validation and
// handler binding come from it.
package control

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/notify"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/store"
)

// Prefix is where the control API lives.
const Prefix = "/_mock/"

// maxBody limits control request bodies.
const maxBody = 1 << 20

// MaxWait bounds ?wait= (real time).
const MaxWait = 60 * time.Second

// Deps are the parts of the mock the control API moves and reads.
type Deps struct {
	Spec      *spec.Spec // control-openapi.yaml
	Store     *store.Store
	Clock     *clock.Virtual
	Fixtures  *fixtures.Set
	Results   *results.Generator
	Journal   *journal.Journal
	Faults    *fault.Set
	Callbacks *delivery.Dispatcher
	// Specs are served as they are: the control and the vendor contracts.
	ControlSpec, VendorSpec []byte
	// AdminToken, when set, is required as a Bearer token on every request.
	AdminToken string
	Logger     *slog.Logger
}

// Handler serves the control API.
type Handler struct {
	Deps
	ops map[string]handlerFunc
}

var _ http.Handler = (*Handler)(nil)

type handlerFunc func(w http.ResponseWriter, r *http.Request, params map[string]string, body []byte) error

// New builds the control API and binds a handler to every operation of its contract.
func New(d Deps) (*Handler, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Spec == nil || d.Store == nil || d.Clock == nil || d.Fixtures == nil || d.Results == nil || d.Journal == nil || d.Faults == nil || d.Callbacks == nil {
		return nil, errors.New("control: missing dependency")
	}
	h := &Handler{Deps: d}
	h.ops = map[string]handlerFunc{
		"getClock":            h.handleGetClock,
		"advanceClock":        h.handleAdvanceClock,
		"setClock":            h.handleSetClock,
		"freezeClock":         h.clockAction(d.Clock.Freeze),
		"unfreezeClock":       h.clockAction(d.Clock.Unfreeze),
		"resetClock":          h.clockAction(d.Clock.Reset),
		"listApplications":    h.handleListApplications,
		"getApplication":      h.handleGetApplication,
		"startApplication":    h.handleStartApplication,
		"completeApplication": h.handleCompleteApplication,
		"expireInvitation":    h.handleExpireInvitation,
		"expireTokens":        h.tokens("expired"),
		"revokeTokens":        h.tokens("revoked"),
		"listFaults":          h.handleListFaults,
		"addFault":            h.handleAddFault,
		"clearFaults":         emptying(d.Faults.Reset),
		"removeFault":         h.handleRemoveFault,
		"listCallbacks":       h.handleListCallbacks,
		"getCallback":         h.handleGetCallback,
		"redeliverCallback":   h.handleRedeliverCallback,
		"listOutbox":          h.handleListOutbox,
		"queryJournal":        h.handleQueryJournal,
		"clearJournal":        emptying(d.Journal.Reset),
		"reset":               h.handleReset,
		"snapshot":            h.handleSnapshot,
		"getControlSpec":      h.serveYAML(d.ControlSpec),
		"getVendorSpec":       h.serveYAML(d.VendorSpec),
	}
	ids := make([]string, 0, len(h.ops))
	for id := range h.ops {
		ids = append(ids, id)
	}
	if err := d.Spec.CheckHandlers(ids); err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	return h, nil
}

type ctxKey struct{}

// ServeHTTP routes a /_mock request through the control contract to its handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.checkAdmin(r); err != nil {
		h.writeError(w, err)
		return
	}
	route, err := h.Spec.FindRoute(r)
	if err != nil {
		h.writeError(w, err)
		return
	}
	if err := h.Spec.ValidateRequest(r.Context(), r, route, openapi3filter.NoopAuthenticationFunc); err != nil {
		h.writeError(w, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		h.writeError(w, err)
		return
	}
	if err := h.ops[route.Operation.OperationID](w, r, route.Params, body); err != nil {
		h.writeError(w, err)
	}
}

// checkAdmin accepts every request when no admin token is set, else only the right Bearer. (The
// contract's security is optional, so kin-openapi would let every request through.)
func (h *Handler) checkAdmin(r *http.Request) error {
	if h.AdminToken == "" {
		return nil
	}
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(h.AdminToken)) != 1 {
		return apierr.New(apierr.Unauthorized, "The control API needs the admin token: send Authorization: Bearer <admin token>").
			WithHeader("WWW-Authenticate", `Bearer realm="equalture-mock control"`)
	}
	return nil
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, apierr.New(apierr.BadRequest, "Cannot read the request body: %v", err)
	}
	return b, nil
}

func (h *Handler) writeError(w http.ResponseWriter, err error) { apierr.Write(w, h.Logger, err) }

func writeJSON(w http.ResponseWriter, status int, v any) { apierr.WriteJSON(w, status, v) }

// decode unmarshals a validated body into v; an empty body leaves v as it is.
func decode(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return ae
		}
		return apierr.New(apierr.BadRequest, "Malformed JSON: %v", err)
	}
	return nil
}

// waitParams reads ?wait= and ?min= (validated by the contract).
func waitParams(r *http.Request) (time.Duration, int) {
	q := r.URL.Query()
	wait, _ := time.ParseDuration(q.Get("wait"))
	wait = min(max(wait, 0), MaxWait)
	n, err := strconv.Atoi(q.Get("min"))
	if err != nil || n < 1 {
		n = 1
	}
	return wait, n
}

// waitList answers the items list() finds, waiting on b until there are at least ?min= of them or
// ?wait= has passed.
func waitList[T any](r *http.Request, b *notify.Broadcaster, list func() []T) []T {
	wait, n := waitParams(r)
	return notify.WaitFor(r.Context(), b, wait, func() ([]T, bool) {
		items := list()
		return items, len(items) >= n
	})
}

func (h *Handler) serveYAML(doc []byte) handlerFunc {
	return func(w http.ResponseWriter, _ *http.Request, _ map[string]string, _ []byte) error {
		w.Header().Set("Content-Type", "application/yaml")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(doc)
		return nil
	}
}

// replyTo writes a value as a 200, or returns the error that came with it:
// `return replyTo[store.Application](w)(h.Store.Start(ref))`.
func replyTo[T any](w http.ResponseWriter) func(T, error) error {
	return func(v T, err error) error {
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

func noContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }
