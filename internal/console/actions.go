package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/duration"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/service"
)

// The actions decode a form, call the service the control API's handler for the same action
// calls, and go back to the console with what happened.

// failed turns a service's error into the console's message about anchor: the API's own words.
func failed(what string, err error, anchor string) flash {
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		return flash{Text: what + " failed: " + err.Error(), Bad: true, Anchor: anchor}
	}
	return flash{Text: what + " failed: " + ae.Summary(), Bad: true, Anchor: anchor}
}

// handleClock moves the mock's clock: advance (by a duration), freeze, unfreeze, reset.
func (h *Handler) handleClock(w http.ResponseWriter, r *http.Request) {
	switch action := r.PathValue("action"); action {
	case "advance":
		by := strings.TrimSpace(r.PostForm.Get("by"))
		d, err := time.ParseDuration(by)
		if err != nil {
			h.done(w, r, flash{Text: fmt.Sprintf("Advance failed: %q is not a duration like 15m1s or 168h", by), Bad: true, Anchor: "clock"})
			return
		}
		if err := h.Service.AdvanceClock(d); err != nil {
			h.done(w, r, flash{Text: "Advance failed: " + err.Error(), Bad: true, Anchor: "clock"})
			return
		}
		h.done(w, r, flash{Text: "Clock advanced by " + d.String() + ": now " + h.Service.Now().UTC().Format(time.RFC3339), Anchor: "clock"})
	case "freeze":
		h.moved(w, r, h.Service.FreezeClock(), func() string { return "Clock frozen at " + h.Service.Now().UTC().Format(time.RFC3339) })
	case "unfreeze":
		h.moved(w, r, h.Service.UnfreezeClock(), func() string { return "Clock running again" })
	case "reset":
		h.moved(w, r, h.Service.ResetClock(), func() string { return "Clock back on real time" })
	default:
		h.page(w, r, http.StatusNotFound, "No clock action "+action)
	}
}

// moved goes back to the clock with what moving it did.
func (h *Handler) moved(w http.ResponseWriter, r *http.Request, err error, did func() string) {
	if err != nil {
		h.done(w, r, failed("Moving the clock", err, "clock"))
		return
	}
	h.done(w, r, flash{Text: did(), Anchor: "clock"})
}

// handleApplication starts, completes (with a fit, or drawn scores) or expires an application.
func (h *Handler) handleApplication(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("ref")
	var err error
	var did string
	switch action := r.PathValue("action"); action {
	case "start":
		_, err = h.Service.Start(ref)
		did = "started"
	case "complete":
		how := service.Completion{Fit: r.PostForm.Get("fit")}
		_, err = h.Service.Complete(ref, how)
		did = "completed"
		if how.Fit != "" {
			did += " with fit " + how.Fit
		}
	case "expire":
		_, err = h.Service.ExpireInvitation(ref)
		did = "expired (its invitation lapsed)"
	default:
		h.page(w, r, http.StatusNotFound, "No application action "+action)
		return
	}
	if err != nil {
		h.done(w, r, failed("Application "+ref, err, "app-"+ref))
		return
	}
	h.done(w, r, flash{Text: "Application " + ref + " " + did, Anchor: "app-" + ref})
}

func (h *Handler) handleRedeliver(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := h.Service.Redeliver(id); err != nil {
		h.done(w, r, failed("Redelivering "+id, err, "dlv-"+id))
		return
	}
	h.done(w, r, flash{Text: "Delivery " + id + " is being sent again", Anchor: "dlv-" + id})
}

// handleAddFault adds a fault rule from the form's fields (empty ones left out); the fault set
// checks it, as it checks the control API's.
func (h *Handler) handleAddFault(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	rule := fault.Rule{
		Method:   strings.ToUpper(strings.TrimSpace(f.Get("method"))),
		Path:     strings.TrimSpace(f.Get("path")),
		ClientID: strings.TrimSpace(f.Get("client_id")),
		Break:    f.Get("break"),
	}
	var bad []string
	number := func(field string, into *int) {
		if v := strings.TrimSpace(f.Get(field)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				bad = append(bad, field+" must be a whole number")
			}
			*into = n
		}
	}
	number("status", &rule.Status)
	number("times", &rule.Times)
	number("nth", &rule.Nth)
	if v := strings.TrimSpace(f.Get("latency")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			bad = append(bad, "latency must be a duration like 1500ms")
		}
		rule.Latency = duration.Duration(d)
	}
	if len(bad) > 0 {
		h.done(w, r, flash{Text: "Adding the fault rule failed: " + strings.Join(bad, "; "), Bad: true, Anchor: "faults"})
		return
	}
	added, err := h.Service.AddFault(rule)
	if err != nil {
		h.done(w, r, failed("Adding the fault rule", err, "faults"))
		return
	}
	h.done(w, r, flash{Text: "Fault rule " + added.ID + " added", Anchor: "faults"})
}

func (h *Handler) handleRemoveFault(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.Service.RemoveFault(id); err != nil {
		h.done(w, r, flash{Text: "No fault rule " + id, Bad: true, Anchor: "faults"})
		return
	}
	h.done(w, r, flash{Text: "Fault rule " + id + " removed", Anchor: "faults"})
}
