package control

import (
	"net/http"

	"github.com/equalture/equalture-mock/internal/notify"
)

// Callbacks is the results-callback dispatcher as the control API uses it. Deliveries are
// answered as they marshal to JSON.
type Callbacks interface {
	// Deliveries lists deliveries, oldest first; "" filters match everything.
	Deliveries(referenceID, clientID, status string) []any
	// Delivery returns one delivery, or a 404 *apierr.Error.
	Delivery(id string) (any, error)
	// Redeliver starts a new series of attempts for a delivery.
	Redeliver(id string) (any, error)
	// Changed wakes waiters on every change of any delivery.
	Changed() *notify.Broadcaster
	// Reset forgets every delivery.
	Reset()
}

func (h *Handler) handleListCallbacks(w http.ResponseWriter, r *http.Request, _ map[string]string, _ []byte) error {
	q := r.URL.Query()
	ds := waitList(r, h.Callbacks.Changed(), func() []any {
		return h.Callbacks.Deliveries(q.Get("reference_id"), q.Get("client_id"), q.Get("status"))
	})
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
	return nil
}

func (h *Handler) handleGetCallback(w http.ResponseWriter, _ *http.Request, p map[string]string, _ []byte) error {
	d, err := h.Callbacks.Delivery(p["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (h *Handler) handleRedeliverCallback(w http.ResponseWriter, _ *http.Request, p map[string]string, _ []byte) error {
	d, err := h.Callbacks.Redeliver(p["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (h *Handler) handleSnapshot(w http.ResponseWriter, _ *http.Request, _ map[string]string, _ []byte) error {
	st := h.Clock.State()
	writeJSON(w, http.StatusOK, map[string]any{
		"clock":        clockView{Now: st.Now.UTC(), Frozen: st.Frozen, Offset: st.Offset.String()},
		"applications": h.Store.List(""),
		"deliveries":   h.Callbacks.Deliveries("", "", ""),
		"emails":       h.Store.Outbox(""),
		"faults":       h.Faults.List(),
		"journal_size": h.Journal.Len(),
	})
	return nil
}
