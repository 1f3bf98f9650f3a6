package control

import (
	"net/http"

	"github.com/equalture/equalture-mock/internal/dispatch"

	"github.com/equalture/equalture-mock/internal/delivery"
)

func (h *Handler) handleListCallbacks(w http.ResponseWriter, c *dispatch.Call) error {
	q := c.Request.URL.Query()
	f := delivery.Filter{
		ReferenceID: q.Get("reference_id"), ClientID: q.Get("client_id"), Status: delivery.Status(q.Get("status")),
		Kind: delivery.Kind(q.Get("kind")), EventType: q.Get("event_type"), EventID: q.Get("event_id"),
	}
	ds := waitList(c.Request, h.Callbacks.Changed(), func() []delivery.Delivery { return h.Callbacks.List(f) })
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
	return nil
}

func (h *Handler) handleGetCallback(w http.ResponseWriter, c *dispatch.Call) error {
	return replyTo[delivery.Delivery](w)(h.Callbacks.Get(c.Params["id"]))
}

func (h *Handler) handleRedeliverCallback(w http.ResponseWriter, c *dispatch.Call) error {
	return replyTo[delivery.Delivery](w)(h.Callbacks.Redeliver(c.Params["id"]))
}

func (h *Handler) handleSnapshot(w http.ResponseWriter, c *dispatch.Call) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"clock":        h.clockView(),
		"applications": h.Store.List(""),
		"deliveries":   h.Callbacks.List(delivery.Filter{}),
		"webhooks":     viewWebhooks(h.Service.Webhooks("")),
		"emails":       h.Store.Outbox(""),
		"faults":       h.Faults.List(),
		"journal_size": h.Journal.Len(),
	})
	return nil
}
