package control

import (
	"net/http"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/service"
)

func (h *Handler) handleListWebhooks(w http.ResponseWriter, c *dispatch.Call) error {
	client := c.Request.URL.Query().Get("client_id")
	hooks := waitList(c.Request, h.Service.DeliveriesChanged(), func() []service.WebhookView { return h.Service.WebhookViews(client) })
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
	id, ds, err := h.Service.TriggerEvent(c.Params["reference_id"], req.Type)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		EventID    string              `json:"event_id,omitempty"`
		Deliveries []delivery.Delivery `json:"deliveries"`
	}{EventID: id, Deliveries: append([]delivery.Delivery{}, ds...)})
	return nil
}
