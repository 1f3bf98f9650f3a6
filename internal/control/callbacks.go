package control

import (
	"net/http"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/dispatch"
)

func (h *Handler) handleListCallbacks(w http.ResponseWriter, c *dispatch.Call) error {
	q := c.Request.URL.Query()
	f := delivery.Filter{
		ReferenceID: q.Get("reference_id"), ClientID: q.Get("client_id"), Status: delivery.Status(q.Get("status")),
		Kind: delivery.Kind(q.Get("kind")), EventType: q.Get("event_type"), EventID: q.Get("event_id"),
	}
	ds := waitList(c.Request, h.Service.DeliveriesChanged(), func() []delivery.Delivery { return h.Service.Deliveries(f) })
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
	return nil
}

func (h *Handler) handleGetCallback(w http.ResponseWriter, c *dispatch.Call) error {
	return replyTo[delivery.Delivery](w)(h.Service.Delivery(c.Params["id"]))
}

func (h *Handler) handleRedeliverCallback(w http.ResponseWriter, c *dispatch.Call) error {
	return replyTo[delivery.Delivery](w)(h.Service.Redeliver(c.Params["id"]))
}

func (h *Handler) handleSnapshot(w http.ResponseWriter, c *dispatch.Call) error {
	s := h.Service.Snapshot()
	writeJSON(w, http.StatusOK, map[string]any{
		"clock":        viewClock(s.Clock),
		"applications": s.Applications,
		"deliveries":   s.Deliveries,
		"webhooks":     s.Webhooks,
		"emails":       s.Emails,
		"faults":       s.Faults,
		"journal_size": s.JournalSize,
	})
	return nil
}
