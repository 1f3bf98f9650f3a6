package control

import (
	"net/http"
	"time"

	"github.com/equalture/equalture-mock/internal/dispatch"

	"github.com/equalture/equalture-mock/internal/apierr"
)

type clockView struct {
	Now    time.Time `json:"now"`
	Frozen bool      `json:"frozen"`
	Offset string    `json:"offset"`
}

func (h *Handler) clockView() clockView {
	st := h.Clock.State()
	return clockView{Now: st.Now.UTC(), Frozen: st.Frozen, Offset: st.Offset.Round(time.Millisecond).String()}
}

func (h *Handler) writeClock(w http.ResponseWriter) { writeJSON(w, http.StatusOK, h.clockView()) }

func (h *Handler) handleGetClock(w http.ResponseWriter, c *dispatch.Call) error {
	h.writeClock(w)
	return nil
}

func (h *Handler) handleAdvanceClock(w http.ResponseWriter, c *dispatch.Call) error {
	var req struct {
		By string `json:"by"`
	}
	if err := decode(c.Body, &req); err != nil {
		return err
	}
	d, err := time.ParseDuration(req.By)
	if err != nil {
		return apierr.Field("by", "is invalid: must be a duration like 15m1s")
	}
	h.Clock.Advance(d)
	h.writeClock(w)
	return nil
}

func (h *Handler) handleSetClock(w http.ResponseWriter, c *dispatch.Call) error {
	var req struct {
		Now time.Time `json:"now"`
	}
	if err := decode(c.Body, &req); err != nil {
		return err
	}
	h.Clock.Set(req.Now)
	h.writeClock(w)
	return nil
}

func (h *Handler) clockAction(fn func()) dispatch.Handler {
	return func(w http.ResponseWriter, _ *dispatch.Call) error {
		fn()
		h.writeClock(w)
		return nil
	}
}
