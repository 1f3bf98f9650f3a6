package control

import (
	"net/http"

	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/store"
)

func (h *Handler) handleListApplications(w http.ResponseWriter, c *dispatch.Call) error {
	q := c.Request.URL.Query()
	status := store.Status(q.Get("status"))
	apps := []store.Application{}
	for _, a := range h.Store.List(q.Get("client_id")) {
		if status == "" || a.Status == status {
			apps = append(apps, a)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"applications": apps})
	return nil
}

func (h *Handler) handleGetApplication(w http.ResponseWriter, c *dispatch.Call) error {
	return replyTo[store.Application](w)(h.Service.Lookup(c.Params["reference_id"]))
}

func (h *Handler) handleStartApplication(w http.ResponseWriter, c *dispatch.Call) error {
	return replyTo[store.Application](w)(h.Service.Start(c.Params["reference_id"]))
}

func (h *Handler) handleExpireInvitation(w http.ResponseWriter, c *dispatch.Call) error {
	return replyTo[store.Application](w)(h.Service.ExpireInvitation(c.Params["reference_id"]))
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
	return replyTo[store.Application](w)(h.Service.Complete(c.Params["reference_id"], service.Completion{Fit: req.Fit, Scores: req.Scores}))
}

func (h *Handler) tokens(reason string) dispatch.Handler {
	return func(w http.ResponseWriter, c *dispatch.Call) error {
		var req struct {
			ClientID string `json:"client_id"`
		}
		if err := decode(c.Body, &req); err != nil {
			return err
		}
		ids, err := h.Auth.Invalidate(reason, req.ClientID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"clients": ids})
		return nil
	}
}
