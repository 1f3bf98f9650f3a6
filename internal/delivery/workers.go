package delivery

import (
	"encoding/json"
	"net/http"

	"github.com/equalture/equalture-mock/internal/domain"
)

// attempt is what a worker needs to make one attempt, read under the lock.
type attempt struct {
	d       *delivery
	v       Delivery // the delivery as it stands (id, kind, URL, event)
	secret  string   // the webhook's secret now
	n       int      // the attempt's number
	payload json.RawMessage
}

// worker makes the attempts that are due, one at a time; Config.Workers of them run.
func (s *Sender) worker() {
	defer s.workers.Done()
	for {
		s.mu.Lock()
		for len(s.ready) == 0 && !s.closing {
			s.work.Wait()
		}
		if s.closing {
			s.mu.Unlock()
			return
		}
		d := s.ready[0]
		s.ready = s.ready[1:]
		if d.status != Pending || !s.logged(d) { // cancelled, reset, or already taken
			s.mu.Unlock()
			s.changed.Notify() // one waiting to settle may now be
			continue
		}
		a := attempt{d: d, v: d.view(), n: len(d.attempts) + 1}
		if d.kind == KindWebhook {
			a.secret = s.hooks[d.client][d.webhook].Secret
		}
		d.status = Delivering
		d.series++
		s.busy++
		s.mu.Unlock()
		s.changed.Notify()
		s.attempt(a)
	}
}

// attempt renders the payload from the application as it stands, sends it and records the
// outcome. An application anonymized by now gets nothing.
func (s *Sender) attempt(a attempt) {
	app, err := s.deps.Lookup(a.v.ReferenceID)
	if err != nil || app.Status == domain.Anonymized {
		s.mu.Lock()
		s.busy--
		if a.d.status == Delivering {
			s.stopLocked(a.d, Cancelled, ReasonAnonymized)
		}
		s.mu.Unlock()
		s.changed.Notify()
		return
	}
	a.payload = s.render(a.v, app)
	at := s.deps.Clock.Now()
	code, latency, err := s.send(a, at)
	if s.deps.Attempted != nil { // before it is recorded: once settled, every attempt is told
		s.deps.Attempted(a.v.Kind, a.v.EventType, code, err)
	}
	s.record(a.d, Attempt{N: a.n, At: at, StatusCode: code, Error: errText(err), LatencyMS: float64(latency.Microseconds()) / 1000})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// record records an attempt and decides what follows it; the next attempt, if any, is scheduled
// once the record is durable.
func (s *Sender) record(d *delivery, a Attempt) {
	s.mu.Lock()
	s.busy--
	if !s.logged(d) { // reset while in flight
		s.mu.Unlock()
		s.changed.Notify()
		return
	}
	d.attempts = append(d.attempts, a)
	now := s.deps.Clock.Now()
	switch {
	case d.status == Cancelled: // anonymized or its webhook deleted while in flight: it stays so
	case a.Error == "" && s.success(a.StatusCode):
		s.stopLocked(d, Delivered, "")
	case a.StatusCode == http.StatusGone:
		s.stopLocked(d, Failed, ReasonGone)
	default:
		s.nextLocked(d, now)
	}
	s.ungateLocked(d.ref) // its first attempt is made: results waiting for it may go
	outcome := d.status
	pos := s.appendLocked(records([]*delivery{d})...)
	s.planLocked(pos, d)
	s.mu.Unlock()
	s.changed.Notify()
	s.deps.Logger.Info("callback attempt", "delivery", d.id(), "attempt", a.N, "status", a.StatusCode, "error", a.Error, "outcome", string(outcome))
}

func (s *Sender) success(code int) bool {
	if s.cfg.Success == "2xx" {
		return code >= 200 && code < 300
	}
	return code == http.StatusOK
}
