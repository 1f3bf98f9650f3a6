package control

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/coverage"

	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/notify"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/glob"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/service"
)

func (h *Handler) handleListOutbox(w http.ResponseWriter, c *dispatch.Call) error {
	q := c.Request.URL.Query()
	to, ref := q.Get("to"), q.Get("reference_id")
	f := service.OutboxFilter{ClientID: q.Get("client_id"), ReferenceID: ref, To: to}
	emails := waitList(c.Request, h.Service.ApplicationsChanged(), func() []service.Email { return h.Service.Outbox(f) })
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
	if v, err := strconv.ParseBool(q.Get("violations")); err == nil {
		f.Violations = &v
	}
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

// QueryJournal answers GET /_mock/journal (queryJournal) from j — the mock's control API and the
// validating proxy serve their journals with it: a page of matching entries, streamed one entry at
// a time, so even a page of large bodies is never built whole in memory a second time.
func QueryJournal(j *journal.Journal, log *slog.Logger) dispatch.Handler {
	return func(w http.ResponseWriter, c *dispatch.Call) error {
		q := c.Request.URL.Query()
		f := journalFilter(c.Request)
		after, _ := strconv.ParseInt(q.Get("cursor"), 10, 64)
		limit, _ := strconv.Atoi(q.Get("limit"))
		wait, least := waitParams(c.Request)
		page := notify.WaitFor(c.Request.Context(), j.Changed(), wait, func() (journal.Page, bool) {
			p := j.Find(f, after, limit)
			return p, len(p.Entries) >= least || p.Next != 0
		})
		w.Header().Set("Content-Type", apierr.ContentType)
		w.WriteHeader(http.StatusOK)
		bw := bufio.NewWriter(w)
		fmt.Fprintf(bw, `{"count":%d,"requests":[`, len(page.Entries))
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for i := range page.Entries {
			if i > 0 {
				_ = bw.WriteByte(',')
			}
			if err := enc.Encode(&page.Entries[i]); err != nil {
				// Entries always encode (bodies that are not JSON become strings); a failure here
				// is the connection's, and the answer is already under way.
				log.Warn("journal answer cut", "err", err)
				return nil
			}
		}
		_, _ = bw.WriteString("]")
		if page.Next != 0 {
			fmt.Fprintf(bw, `,"next_cursor":"%d"`, page.Next)
		}
		_, _ = bw.WriteString("}\n")
		if err := bw.Flush(); err != nil {
			log.Warn("journal answer cut", "err", err)
		}
		return nil
	}
}

// ClearJournal answers DELETE /_mock/journal (clearJournal) for the validating proxy's journal.
func ClearJournal(j *journal.Journal) dispatch.Handler { return emptying(j.Reset) }

// GetCoverage serves what the vendor API's traffic met of its contract (the mock's, or the
// validating proxy's).
func GetCoverage(rec *coverage.Recorder) dispatch.Handler {
	return func(w http.ResponseWriter, c *dispatch.Call) error {
		writeJSON(w, http.StatusOK, rec.Report())
		return nil
	}
}

// ResetCoverage answers DELETE /_mock/coverage (resetCoverage): the counts start again.
func ResetCoverage(rec *coverage.Recorder) dispatch.Handler { return emptying(rec.Reset) }

func (h *Handler) handleListFaults(w http.ResponseWriter, c *dispatch.Call) error {
	writeJSON(w, http.StatusOK, map[string]any{"faults": h.Service.Faults()})
	return nil
}

func (h *Handler) handleAddFault(w http.ResponseWriter, c *dispatch.Call) error {
	var rule fault.Rule
	if err := decode(c.Body, &rule); err != nil {
		return err
	}
	added, err := h.Service.AddFault(rule)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, added)
	return nil
}

// emptying runs fn (a reset of one part of the state) and answers 204.
func emptying(fn func()) dispatch.Handler {
	return func(w http.ResponseWriter, _ *dispatch.Call) error {
		fn()
		noContent(w)
		return nil
	}
}

func (h *Handler) handleRemoveFault(w http.ResponseWriter, c *dispatch.Call) error {
	if err := h.Service.RemoveFault(c.Params["id"]); err != nil {
		return err
	}
	noContent(w)
	return nil
}

// DefaultSettleWait is how long GET /_mock/settle waits when the request names no wait.
const DefaultSettleWait = 10 * time.Second

func (h *Handler) handleSettle(w http.ResponseWriter, c *dispatch.Call) error {
	wait, _ := waitParams(c.Request)
	if c.Request.URL.Query().Get("wait") == "" {
		wait = DefaultSettleWait
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), wait)
	defer cancel()
	err := h.Service.Settled(ctx)
	writeJSON(w, http.StatusOK, map[string]any{"settled": err == nil, "now": h.Service.Now().UTC()})
	return nil
}

func (h *Handler) handleReset(w http.ResponseWriter, _ *dispatch.Call) error {
	if err := h.Service.Reset(); err != nil {
		return err
	}
	noContent(w)
	return nil
}
