package delivery

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/persist"
)

// The vendor webhook events. The vendor's documentation names them application_started and
// application_finished in its list of events and assessment_started and assessment_finished in
// their payloads; the payloads are what receivers parse, so the mock sends those.
const (
	EventStarted  = string(domain.EventStarted)  // the applicant opened the assessment
	EventFinished = string(domain.EventFinished) // the applicant completed it
)

// EventTypes are the events, in the order an application has them.
var EventTypes = []string{EventStarted, EventFinished}

// NaiveLayout is how application_start_date is written: the vendor's example is a naive date-time
// (2025-02-17T11:58:11), sent in UTC on the mock's clock.
const NaiveLayout = "2006-01-02T15:04:05"

// Envelope is what a webhook receives: the event's id (a UUID, also its webhook-id header), its
// type and its data.
type Envelope struct {
	ID   string    `json:"id"`
	Type string    `json:"type"`
	Data EventData `json:"data"`
}

// EventData is an event's data: the application, and for assessment_started when it started.
type EventData struct {
	ReferenceID          string `json:"reference_id"`
	ApplicationStartDate string `json:"application_start_date,omitempty"`
}

// envelope is event typ, id, about app as it stands.
func envelope(id string, typ domain.EventType, app domain.Application) Envelope {
	data := EventData{ReferenceID: app.ReferenceID}
	if typ == domain.EventStarted {
		data.ApplicationStartDate = app.StartedAt.UTC().Format(NaiveLayout)
	}
	return Envelope{ID: id, Type: string(typ), Data: data}
}

// EventID is the id (a UUID, version 4 in form) of the event the store numbered seq: drawn from
// the seed and the number, so the same seed and requests give the same ids, and none repeats.
func (s *Sender) EventID(seq uint64) string { return eventID(s.cfg.Seed, seq) }

func eventID(seed, seq uint64) string {
	r := rand.New(rand.NewPCG(seed^0x6576656e74, seq)) // "event": not the jitter's stream
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Publish makes what each event sends, in order: assessment_started and assessment_finished go to
// every webhook of the application's client (a resent one too); a completion's
// assessment_finished also makes the results PUT, which follows those deliveries; an
// anonymization cancels everything of the application that has not been delivered and erases
// what the log shows of it. It appends writes (the change) and the deliveries' records as one
// write, and arms the deliveries once that is durable. The store calls it under its lock
// (store.Publisher).
func (s *Sender) Publish(events []domain.Event, writes []persist.Write) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var made, touched []*delivery
	for _, e := range events {
		switch e.Type {
		case domain.EventStarted, domain.EventFinished:
			if s.closing {
				s.deps.Logger.Warn("event not sent: shutting down", "reference_id", e.Application.ReferenceID, "event", e.Type)
				continue
			}
			finished := s.raiseLocked(e)
			made = append(made, finished...)
			if e.Type == domain.EventFinished && !e.Resent {
				made = append(made, s.resultsLocked(e, finished))
			}
		case domain.EventAnonymized:
			touched = append(touched, s.eraseLocked(e.Application.ReferenceID)...)
		}
	}
	if len(made) > 0 {
		writes = append(writes, persist.Put(persist.State, keyLastSeq, s.lastSeq))
	}
	pos := s.appendLocked(append(writes, records(append(touched, made...))...)...)
	s.planLocked(pos, made...)
	if len(made)+len(touched) > 0 {
		defer s.changed.Notify()
	}
	return pos
}

// newLocked adds a pending delivery of kind about app to the log, with the next number, its first
// attempt planned.
func (s *Sender) newLocked(app domain.Application, kind Kind, now time.Time) *delivery {
	s.lastSeq++
	d := &delivery{seq: s.lastSeq, ref: app.ReferenceID, client: app.ClientID, kind: kind, status: Pending, created: now, attempts: []Attempt{}}
	s.log = append(s.log, d)
	if len(s.log) == 1 {
		s.first = d.seq
	}
	s.nextLocked(d, now)
	return d
}

// raiseLocked makes one delivery of event e for each webhook of its application's client, in
// the webhooks' lanes; the event's id comes from its number.
func (s *Sender) raiseLocked(e domain.Event) []*delivery {
	hooks := s.webhooksLocked(e.Application.ClientID)
	if len(hooks) == 0 {
		return nil
	}
	id := s.EventID(e.Seq)
	out := make([]*delivery, len(hooks))
	for i, h := range hooks {
		d := s.newLocked(e.Application, KindWebhook, e.At)
		d.url, d.webhook, d.event, d.eventID = h.URL, h.Label, e.Type, id
		l := d.lane()
		s.lanes[l] = append(s.lanes[l], d)
		out[i] = d
	}
	return out
}

// resultsLocked makes the results delivery of a completion, following its assessment_finished
// deliveries.
func (s *Sender) resultsLocked(e domain.Event, finished []*delivery) *delivery {
	d := s.newLocked(e.Application, KindResults, e.At)
	d.url = e.Application.CallbackURL
	for _, f := range finished {
		d.after = append(d.after, f.seq)
	}
	return d
}

// eraseLocked cancels every delivery of application ref that has not been delivered and marks
// all of them erased: nothing more of it leaves the mock, and the log no longer shows its
// payloads. An attempt in flight finishes, unrecorded as a success.
func (s *Sender) eraseLocked(ref string) []*delivery {
	var touched []*delivery
	for _, d := range s.log {
		if d == nil || d.ref != ref {
			continue
		}
		d.erased = true
		if d.status != Delivered {
			s.stopLocked(d, Cancelled, ReasonAnonymized)
		}
		touched = append(touched, d)
	}
	return touched
}

// method is what a delivery of kind is sent with.
func method(k Kind) string {
	if k == KindWebhook {
		return http.MethodPost
	}
	return http.MethodPut
}
