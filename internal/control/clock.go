package control

import (
	"net/http"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/dispatch"
)

type clockView struct {
	Now    time.Time `json:"now"`
	Frozen bool      `json:"frozen"`
	Offset string    `json:"offset"`
}

func viewClock(st clock.State) clockView {
	return clockView{Now: st.Now.UTC(), Frozen: st.Frozen, Offset: st.Offset.Round(time.Millisecond).String()}
}

func (h *Handler) writeClock(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, viewClock(h.Service.Clock()))
}

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
	return h.clockAction(func() error { return h.Service.AdvanceClock(d) })(w, c)
}

func (h *Handler) handleSetClock(w http.ResponseWriter, c *dispatch.Call) error {
	var req struct {
		Now time.Time `json:"now"`
	}
	if err := decode(c.Body, &req); err != nil {
		return err
	}
	return h.clockAction(func() error { return h.Service.SetClock(req.Now) })(w, c)
}

// clockAction moves the clock with move and answers where it stands.
func (h *Handler) clockAction(move func() error) dispatch.Handler {
	return func(w http.ResponseWriter, _ *dispatch.Call) error {
		if err := move(); err != nil {
			return err
		}
		h.writeClock(w)
		return nil
	}
}
