package control

import (
	"errors"
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
	if err := h.Service.AdvanceClock(d); errors.Is(err, clock.ErrBackwards) {
		return apierr.Field("by", "must not be negative: "+err.Error())
	} else if err != nil {
		return err
	}
	h.writeClock(w)
	return nil
}

// clockSetView is the clock after a set, with how far it moved: a set that moved it back says so.
type clockSetView struct {
	clockView
	MovedBy  string `json:"moved_by"`
	WentBack bool   `json:"went_back"`
	Note     string `json:"note,omitempty"`
}

func (h *Handler) handleSetClock(w http.ResponseWriter, c *dispatch.Call) error {
	var req struct {
		Now time.Time `json:"now"`
	}
	if err := decode(c.Body, &req); err != nil {
		return err
	}
	before, err := h.Service.SetClock(req.Now)
	if err != nil {
		return err
	}
	v := clockSetView{clockView: viewClock(h.Service.Clock()), MovedBy: req.Now.Sub(before).Round(time.Millisecond).String()}
	if req.Now.Before(before) {
		v.WentBack = true
		v.Note = "The clock went back by " + before.Sub(req.Now).Round(time.Millisecond).String() +
			": links and tokens that had expired are valid again, and those issued since are not valid yet."
	}
	writeJSON(w, http.StatusOK, v)
	return nil
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
