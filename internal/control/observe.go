package control

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/glob"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/store"
)

func (h *Handler) handleListOutbox(w http.ResponseWriter, r *http.Request, _ map[string]string, _ []byte) error {
	q := r.URL.Query()
	to, ref := q.Get("to"), q.Get("reference_id")
	emails := waitList(r, h.Store.Changed(), func() []store.Email {
		out := []store.Email{}
		for _, m := range h.Store.Outbox(q.Get("client_id")) {
			if (to == "" || strings.EqualFold(m.To, to)) && (ref == "" || m.ReferenceID == ref) {
				out = append(out, m)
			}
		}
		return out
	})
	writeJSON(w, http.StatusOK, map[string]any{"emails": emails})
	return nil
}

// journalFilter reads the journal query: the named filters plus body.<path>=value pairs.
func journalFilter(r *http.Request) journal.Filter {
	q := r.URL.Query()
	f := journal.Filter{
		Method:      q.Get("method"),
		Path:        glob.Compile(q.Get("path")),
		ClientID:    q.Get("client_id"),
		OperationID: q.Get("operation_id"),
	}
	f.Status, _ = strconv.Atoi(q.Get("status"))
	for k, vs := range q {
		if field, ok := strings.CutPrefix(k, "body."); ok && len(vs) > 0 {
			if f.Body == nil {
				f.Body = make(map[string]string)
			}
			f.Body[field] = vs[0]
		}
	}
	return f
}

func (h *Handler) handleQueryJournal(w http.ResponseWriter, r *http.Request, _ map[string]string, _ []byte) error {
	f := journalFilter(r)
	entries := waitList(r, h.Journal.Changed(), func() []journal.Entry { return h.Journal.Find(f) })
	writeJSON(w, http.StatusOK, map[string]any{"count": len(entries), "requests": entries})
	return nil
}

func (h *Handler) handleListFaults(w http.ResponseWriter, _ *http.Request, _ map[string]string, _ []byte) error {
	writeJSON(w, http.StatusOK, map[string]any{"faults": h.Faults.List()})
	return nil
}

func (h *Handler) handleAddFault(w http.ResponseWriter, _ *http.Request, _ map[string]string, body []byte) error {
	var rule fault.Rule
	if err := decode(body, &rule); err != nil {
		return err
	}
	added, err := h.Faults.Add(rule)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, added)
	return nil
}

// emptying runs fn (a reset of one part of the state) and answers 204.
func emptying(fn func()) handlerFunc {
	return func(w http.ResponseWriter, _ *http.Request, _ map[string]string, _ []byte) error {
		fn()
		noContent(w)
		return nil
	}
}

func (h *Handler) handleRemoveFault(w http.ResponseWriter, _ *http.Request, p map[string]string, _ []byte) error {
	if !h.Faults.Remove(p["id"]) {
		return apierr.New(apierr.NotFound, "No fault rule %q", p["id"])
	}
	noContent(w)
	return nil
}

func (h *Handler) handleReset(w http.ResponseWriter, _ *http.Request, _ map[string]string, _ []byte) error {
	h.Callbacks.Reset()
	h.Store.Reset()
	h.Journal.Reset()
	h.Faults.Reset()
	h.Clock.Reset()
	noContent(w)
	return nil
}
