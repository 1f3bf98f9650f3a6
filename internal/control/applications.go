package control

import (
	"net/http"

	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/store"
)

func (h *Handler) handleListApplications(w http.ResponseWriter, c *dispatch.Call) error {
	q := c.Request.URL.Query()
	apps := h.Service.Applications(store.Filter{ClientID: q.Get("client_id"), Status: domain.Status(q.Get("status"))})
	views := make([]service.Application, len(apps))
	for i, a := range apps {
		views[i] = h.Service.View(a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"applications": views})
	return nil
}

// application answers an application (with its link) as a 200, or the error that came with it.
func (h *Handler) application(w http.ResponseWriter, a domain.Application, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.Service.View(a))
	return nil
}

func (h *Handler) handleGetApplication(w http.ResponseWriter, c *dispatch.Call) error {
	a, err := h.Service.Lookup(c.Params["reference_id"])
	return h.application(w, a, err)
}

func (h *Handler) handleStartApplication(w http.ResponseWriter, c *dispatch.Call) error {
	a, err := h.Service.Start(c.Params["reference_id"])
	return h.application(w, a, err)
}

func (h *Handler) handleExpireInvitation(w http.ResponseWriter, c *dispatch.Call) error {
	a, err := h.Service.ExpireInvitation(c.Params["reference_id"])
	return h.application(w, a, err)
}

// handleCompleteApplication completes an assessment with chosen or drawn scores.
func (h *Handler) handleCompleteApplication(w http.ResponseWriter, c *dispatch.Call) error {
	var req struct {
		Fit    string         `json:"fit"`
		Scores map[string]int `json:"scores"`
	}
	if err := decode(c.Body, &req); err != nil {
		return err
	}
	a, err := h.Service.Complete(c.Params["reference_id"], service.Completion{Fit: req.Fit, Scores: req.Scores})
	return h.application(w, a, err)
}

func (h *Handler) tokens(reason string) dispatch.Handler {
	return func(w http.ResponseWriter, c *dispatch.Call) error {
		var req struct {
			ClientID string `json:"client_id"`
		}
		if err := decode(c.Body, &req); err != nil {
			return err
		}
		ids, err := h.Service.InvalidateTokens(reason, req.ClientID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"clients": ids})
		return nil
	}
}
