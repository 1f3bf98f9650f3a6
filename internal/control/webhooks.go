package control

import (
	"net/http"
	"time"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/store"
)

// webhookView is a webhook as the control API shows it: whose, and never its secret.
type webhookView struct {
	ClientID   string    `json:"client_id"`
	Label      string    `json:"label"`
	URL        string    `json:"url"`
	SecretHint string    `json:"secret_hint"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func viewWebhooks(hooks []store.Webhook) []webhookView {
	out := make([]webhookView, len(hooks))
	for i, w := range hooks {
		out[i] = webhookView{ClientID: w.ClientID, Label: w.Label, URL: w.URL, SecretHint: service.SecretHint(w.Secret), CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC()}
	}
	return out
}

func (h *Handler) handleListWebhooks(w http.ResponseWriter, c *dispatch.Call) error {
	client := c.Request.URL.Query().Get("client_id")
	hooks := waitList(c.Request, h.Store.Changed(), func() []webhookView { return viewWebhooks(h.Service.Webhooks(client)) })
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": hooks})
	return nil
}

func (h *Handler) handleTriggerEvent(w http.ResponseWriter, c *dispatch.Call) error {
	var req struct {
		Type string `json:"type"`
	}
	if err := decode(c.Body, &req); err != nil {
		return err
	}
	id, err := h.Service.TriggerEvent(c.Params["reference_id"], req.Type)
	if err != nil {
		return err
	}
	resp := struct {
		EventID    string              `json:"event_id,omitempty"`
		Deliveries []delivery.Delivery `json:"deliveries"`
	}{EventID: id, Deliveries: []delivery.Delivery{}}
	if id != "" {
		resp.Deliveries = h.Callbacks.List(delivery.Filter{EventID: id})
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
