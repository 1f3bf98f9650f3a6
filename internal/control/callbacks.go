package control

import (
	"net/http"

	"github.com/equalture/equalture-mock/internal/delivery"
)

func (h *Handler) handleListCallbacks(w http.ResponseWriter, r *http.Request, _ map[string]string, _ []byte) error {
	q := r.URL.Query()
	f := delivery.Filter{ReferenceID: q.Get("reference_id"), ClientID: q.Get("client_id"), Status: delivery.Status(q.Get("status"))}
	ds := waitList(r, h.Callbacks.Changed(), func() []delivery.Delivery { return h.Callbacks.List(f) })
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
	return nil
}

func (h *Handler) handleGetCallback(w http.ResponseWriter, _ *http.Request, p map[string]string, _ []byte) error {
	return replyTo[delivery.Delivery](w)(h.Callbacks.Get(p["id"]))
}

func (h *Handler) handleRedeliverCallback(w http.ResponseWriter, _ *http.Request, p map[string]string, _ []byte) error {
	return replyTo[delivery.Delivery](w)(h.Callbacks.Redeliver(p["id"]))
}

func (h *Handler) handleSnapshot(w http.ResponseWriter, _ *http.Request, _ map[string]string, _ []byte) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"clock":        h.clockView(),
		"applications": h.Store.List(""),
		"deliveries":   h.Callbacks.List(delivery.Filter{}),
		"emails":       h.Store.Outbox(""),
		"faults":       h.Faults.List(),
		"journal_size": h.Journal.Len(),
	})
	return nil
}
