// Package control is the mock's control API under /_mock: levers for tests and QA that the real
// service does not have (clock, lifecycle, tokens, faults, callbacks and webhooks, outbox,
// journal, settle, reset). Like the vendor API it is served by the dispatcher from its own
// contract (control-openapi.yaml): routes, body limit, validation and handler binding come from
// it. Its handlers only decode, call the service and encode: every lever is the service's.
package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/notify"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/spec"
)

// Prefix is where the control API lives.
const Prefix = "/_mock/"

// maxBody limits control request bodies (413 beyond, like the vendor API).
const maxBody = 1 << 20

// MaxWait bounds ?wait= (real time).
const MaxWait = 60 * time.Second

// Deps are what the control API serves.
type Deps struct {
	Spec    *spec.Spec // control-openapi.yaml
	Service *service.Service
	// Specs are served as they are: the control and the vendor contracts.
	ControlSpec, VendorSpec []byte
	// Admin, when it requires a token, wants it as a Bearer on every request.
	Admin  *auth.Admin
	Logger *slog.Logger
}

// Handler serves the control API.
type Handler struct {
	*dispatch.Dispatcher
	Deps
}

// New builds the control API and binds a handler to every operation of its contract.
func New(d Deps) (*Handler, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Spec == nil || d.Service == nil || d.Admin == nil {
		return nil, errors.New("control: missing dependency")
	}
	h := &Handler{Deps: d}
	ops := map[string]dispatch.Handler{
		"getClock":            h.handleGetClock,
		"advanceClock":        h.handleAdvanceClock,
		"setClock":            h.handleSetClock,
		"freezeClock":         h.clockAction(d.Service.FreezeClock),
		"unfreezeClock":       h.clockAction(d.Service.UnfreezeClock),
		"resetClock":          h.clockAction(d.Service.ResetClock),
		"listApplications":    h.handleListApplications,
		"getApplication":      h.handleGetApplication,
		"startApplication":    h.handleStartApplication,
		"completeApplication": h.handleCompleteApplication,
		"expireInvitation":    h.handleExpireInvitation,
		"expireTokens":        h.tokens(auth.Expired),
		"revokeTokens":        h.tokens(auth.Revoked),
		"listFaults":          h.handleListFaults,
		"addFault":            h.handleAddFault,
		"clearFaults":         emptying(d.Service.ClearFaults),
		"removeFault":         h.handleRemoveFault,
		"listCallbacks":       h.handleListCallbacks,
		"getCallback":         h.handleGetCallback,
		"redeliverCallback":   h.handleRedeliverCallback,
		"listAllWebhooks":     h.handleListWebhooks,
		"triggerEvent":        h.handleTriggerEvent,
		"listOutbox":          h.handleListOutbox,
		"queryJournal":        QueryJournal(d.Service.Journal(), d.Logger),
		"clearJournal":        emptying(d.Service.ClearJournal),
		"getCoverage":         GetCoverage(d.Service.Coverage()),
		"resetCoverage":       ResetCoverage(d.Service.Coverage()),
		"reset":               h.handleReset,
		"snapshot":            h.handleSnapshot,
		"settle":              h.handleSettle,
		"getControlSpec":      serveYAML(d.ControlSpec),
		"getVendorSpec":       serveYAML(d.VendorSpec),
	}
	var err error
	h.Dispatcher, err = dispatch.New(dispatch.Options{
		Spec:         d.Spec,
		Handlers:     ops,
		MaxBodyBytes: maxBody,
		Middleware:   []dispatch.Middleware{RequireAdmin(d.Admin)},
		Logger:       d.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	return h, nil
}

// RequireAdmin lets every request through when a requires no admin token, else only those with
// the right Bearer (auth.Admin.CheckBearer: guesses back off). The contract's security is
// optional, so kin-openapi alone lets every request through. The proxy guards its own /_mock with
// it too.
func RequireAdmin(a *auth.Admin) dispatch.Middleware {
	return func(next dispatch.Handler) dispatch.Handler {
		if !a.Required() {
			return next
		}
		return func(w http.ResponseWriter, c *dispatch.Call) error {
			if err := a.CheckBearer(c.Request); err != nil {
				return err
			}
			return next(w, c)
		}
	}
}

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

func serveYAML(doc []byte) dispatch.Handler {
	return func(w http.ResponseWriter, _ *dispatch.Call) error {
		w.Header().Set("Content-Type", "application/yaml")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(doc)
		return nil
	}
}

// replyTo writes a value as a 200, or returns the error that came with it:
// `return replyTo[delivery.Delivery](w)(h.Service.Redeliver(id))`.
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
