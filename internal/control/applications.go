package control

import (
	"net/http"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/store"
)

func (h *Handler) handleListApplications(w http.ResponseWriter, r *http.Request, _ map[string]string, _ []byte) error {
	status := store.Status(r.URL.Query().Get("status"))
	apps := []store.Application{}
	for _, a := range h.Store.List(r.URL.Query().Get("client_id")) {
		if status == "" || a.Status == status {
			apps = append(apps, a)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"applications": apps})
	return nil
}

func (h *Handler) handleGetApplication(w http.ResponseWriter, _ *http.Request, p map[string]string, _ []byte) error {
	return replyTo[store.Application](w)(h.Store.Lookup(p["reference_id"]))
}

func (h *Handler) handleStartApplication(w http.ResponseWriter, _ *http.Request, p map[string]string, _ []byte) error {
	return replyTo[store.Application](w)(h.Store.Start(p["reference_id"]))
}

func (h *Handler) handleExpireInvitation(w http.ResponseWriter, _ *http.Request, p map[string]string, _ []byte) error {
	return replyTo[store.Application](w)(h.Store.ExpireInvitation(p["reference_id"]))
}

// handleCompleteApplication completes an assessment with chosen or drawn scores; the store's
// completion event sends the results callback.
func (h *Handler) handleCompleteApplication(w http.ResponseWriter, _ *http.Request, p map[string]string, body []byte) error {
	var req struct {
		Fit    string         `json:"fit"`
		Scores map[string]int `json:"scores"`
	}
	if err := decode(body, &req); err != nil {
		return err
	}
	app, err := h.Store.Lookup(p["reference_id"])
	if err != nil {
		return err
	}
	job, _ := h.Fixtures.Job(app.ClientID, app.JobID)
	if req.Fit != "" && len(req.Scores) > 0 {
		return apierr.Field("fit", "give either fit or scores, not both")
	}
	var scores map[string]int
	switch {
	case req.Fit != "":
		if scores, err = h.Results.DrawForFit(app.ReferenceID, job, req.Fit); err != nil {
			return err
		}
	default:
		if err := results.CheckScores(job, req.Scores); err != nil {
			return err
		}
		scores = h.Results.Draw(app.ReferenceID, job)
		for trait, v := range req.Scores {
			scores[trait] = v
		}
	}
	return replyTo[store.Application](w)(h.Store.Complete(app.ReferenceID, scores))
}

func (h *Handler) tokens(reason string) handlerFunc {
	return func(w http.ResponseWriter, _ *http.Request, _ map[string]string, body []byte) error {
		var req struct {
			ClientID string `json:"client_id"`
		}
		if err := decode(body, &req); err != nil {
			return err
		}
		var ids []string
		if req.ClientID != "" {
			if _, ok := h.Fixtures.Client(req.ClientID); !ok {
				return apierr.Field("client_id", "is not a client of the fixtures")
			}
			ids = []string{req.ClientID}
		} else {
			for _, c := range h.Fixtures.Clients {
				ids = append(ids, c.ID)
			}
		}
		h.Store.InvalidateTokens(reason, ids...)
		writeJSON(w, http.StatusOK, map[string]any{"clients": ids})
		return nil
	}
}
