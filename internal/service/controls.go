package service

import (
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/coverage"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/notify"
	"github.com/equalture/equalture-mock/internal/redact"
	"github.com/equalture/equalture-mock/internal/store"
)

// The mock's controls: what the control API, the console and the Go control handle move and
// read besides the use cases.

// Clock returns the clock's time, whether it is frozen and its offset from real time.
func (s *Service) Clock() clock.State { return s.deps.Clock.State() }

// Now returns the clock's time.
func (s *Service) Now() time.Time { return s.deps.Clock.Now() }

// AdvanceClock moves the clock forward by d: tokens and links expire, retries and automatic
// completions come due. A negative d is refused (clock.ErrBackwards): moving back brings expired
// links and tokens back to life, which only setting the clock does, saying so. The new course is
// written before it returns.
func (s *Service) AdvanceClock(d time.Duration) error {
	return s.moveClock(func() error {
		_, err := s.deps.Clock.Forward(d)
		return err
	})
}

// SetClock moves the clock to t, forward or back, and returns the time it showed before.
func (s *Service) SetClock(t time.Time) (before time.Time, err error) {
	err = s.moveClock(func() error {
		before = s.deps.Clock.Set(t)
		return nil
	})
	return before, err
}

// FreezeClock stops the clock at its time.
func (s *Service) FreezeClock() error { return s.moveClock(always(s.deps.Clock.Freeze)) }

// UnfreezeClock lets the clock run with real time again from where it stands.
func (s *Service) UnfreezeClock() error { return s.moveClock(always(s.deps.Clock.Unfreeze)) }

// ResetClock puts the clock back on real time, running.
func (s *Service) ResetClock() error { return s.moveClock(always(s.deps.Clock.Reset)) }

// always is a move of the clock that cannot be refused.
func always(move func()) func() error {
	return func() error {
		move()
		return nil
	}
}

// InvalidateTokens makes every token issued so far to clientID (every client when "") invalid,
// for reason (auth.Expired or auth.Revoked); an unknown client is a 422, and returns the clients it did so for.
func (s *Service) InvalidateTokens(reason, clientID string) ([]string, error) {
	var ids []string
	if clientID == "" {
		for _, c := range s.deps.Fixtures.Clients {
			ids = append(ids, c.ID)
		}
	} else {
		if _, ok := s.deps.Fixtures.Client(clientID); !ok {
			return nil, apierr.Field("client_id", "is not a client of the fixtures")
		}
		ids = []string{clientID}
	}
	if err := s.store.InvalidateTokens(reason, ids...); err != nil {
		return nil, err
	}
	return ids, nil
}

// TokenGeneration returns clientID's current token generation (auth checks tokens against it).
func (s *Service) TokenGeneration(clientID string) store.TokenGeneration {
	return s.store.TokenGeneration(clientID)
}

// Faults returns the fault rules with their counters.
func (s *Service) Faults() []fault.Rule { return s.deps.Faults.List() }

// AddFault adds a fault rule, checked.
func (s *Service) AddFault(r fault.Rule) (fault.Rule, error) { return s.deps.Faults.Add(r) }

// RemoveFault removes fault rule id (a 404 for an unknown one).
func (s *Service) RemoveFault(id string) error {
	if !s.deps.Faults.Remove(id) {
		return apierr.New(apierr.NotFound, "No fault rule %q", id)
	}
	return nil
}

// ClearFaults removes every fault rule.
func (s *Service) ClearFaults() { s.deps.Faults.Reset() }

// Journal is the request journal, for reading (the control API's queries, the console).
func (s *Service) Journal() *journal.Journal { return s.deps.Journal }

// Coverage is what the vendor API's traffic met of its contract (nil without a recorder); a reset
// keeps it, DELETE /_mock/coverage forgets it.
func (s *Service) Coverage() *coverage.Recorder { return s.deps.Coverage }

// ClearJournal empties the request journal.
func (s *Service) ClearJournal() { s.deps.Journal.Reset() }

// ApplicationsPage returns the applications f selects, newest first, from the offset-th on, at
// most limit of them, and how many f selects in all (the console's lists).
func (s *Service) ApplicationsPage(f store.Filter, offset, limit int) ([]domain.Application, int) {
	return s.store.Page(f, offset, limit)
}

// OutboxPage returns clientID's invitation emails ("" for all), newest first, from the offset-th
// on, at most limit of them, and how many there are in all.
func (s *Service) OutboxPage(clientID string, offset, limit int) ([]Email, int) {
	apps, total := s.store.Page(store.Filter{ClientID: clientID, InvitationType: domain.InviteEmail}, offset, limit)
	return s.invitationEmails(apps), total
}

// DeliveriesPage returns the deliveries f matches, newest first, from the offset-th on, at most
// limit of them, and how many f matches in all.
func (s *Service) DeliveriesPage(f delivery.Filter, offset, limit int) ([]delivery.Delivery, int) {
	return s.sender.Page(f, offset, limit)
}

// Deliveries returns the deliveries f matches, oldest first, with their payloads.
func (s *Service) Deliveries(f delivery.Filter) []delivery.Delivery { return s.sender.List(f) }

// Delivery returns delivery id, or a 404.
func (s *Service) Delivery(id string) (delivery.Delivery, error) { return s.sender.Get(id) }

// Redeliver starts a new series of attempts for a finished delivery.
func (s *Service) Redeliver(id string) (delivery.Delivery, error) { return s.sender.Redeliver(id) }

// ApplicationsChanged wakes waiters on every change of an application (the outbox with it).
func (s *Service) ApplicationsChanged() *notify.Broadcaster { return s.store.Changed() }

// DeliveriesChanged wakes waiters on every change of a delivery or a webhook.
func (s *Service) DeliveriesChanged() *notify.Broadcaster { return s.sender.Changed() }

// Snapshot is the mock's whole state at once.
type Snapshot struct {
	Clock        clock.State
	Applications []Application
	Deliveries   []delivery.Delivery
	Webhooks     []WebhookView
	Emails       []Email
	Faults       []fault.Rule
	JournalSize  int
}

// Snapshot returns the mock's whole state.
func (s *Service) Snapshot() Snapshot {
	apps := s.store.List(store.Filter{})
	views := make([]Application, len(apps))
	for i, a := range apps {
		views[i] = s.View(a)
	}
	return Snapshot{
		Clock:        s.Clock(),
		Applications: views,
		Deliveries:   s.sender.List(delivery.Filter{}),
		Webhooks:     s.WebhookViews(""),
		Emails:       s.Outbox(OutboxFilter{}),
		Faults:       s.Faults(),
		JournalSize:  s.deps.Journal.Len(),
	}
}

// WebhookView is a webhook as the control API and the console show it: whose, and never its
// secret.
type WebhookView struct {
	ClientID   string    `json:"client_id"`
	Label      string    `json:"label"`
	URL        string    `json:"url"`
	SecretHint string    `json:"secret_hint"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// WebhookViews returns clientID's webhooks ("" for every client's) as they are shown.
func (s *Service) WebhookViews(clientID string) []WebhookView {
	hooks := s.sender.Webhooks(clientID)
	out := make([]WebhookView, len(hooks))
	for i, w := range hooks {
		out[i] = WebhookView{ClientID: w.ClientID, Label: w.Label, URL: w.URL, SecretHint: redact.Hint(w.Secret), CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC()}
	}
	return out
}
