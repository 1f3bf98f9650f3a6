package delivery

import (
	"cmp"
	"slices"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/persist"
)

// The clients' webhooks live with the deliveries they receive: registering, updating and deleting
// one changes what is pending for it in the same step, under the same lock, in the same write.

// PutWebhook registers w (w.ClientID's webhook w.Label) or updates the one registered under that
// label, on the clock. An empty w.Secret keeps the current secret, or for a new webhook takes
// generated. Deliveries to an updated webhook that have not finished follow it: their next
// attempts go to its new URL, signed with its secret then. It returns the webhook as stored and
// whether it is new; a client holding domain.MaxWebhooks others gets a 409. It returns once the
// change is durable (the error may be a failed write).
func (s *Sender) PutWebhook(w domain.Webhook, generated string) (domain.Webhook, bool, error) {
	s.mu.Lock()
	old, exists := s.hooks[w.ClientID][w.Label]
	if !exists && len(s.hooks[w.ClientID]) >= domain.MaxWebhooks {
		s.mu.Unlock()
		return domain.Webhook{}, false, apierr.New(apierr.Conflict, "A client has at most %d webhooks: delete one first", domain.MaxWebhooks).Because("limit")
	}
	now := s.deps.Clock.Now()
	w.CreatedAt, w.UpdatedAt = now, now
	if exists {
		w.CreatedAt = old.CreatedAt
	}
	switch {
	case w.Secret != "":
	case exists:
		w.Secret = old.Secret
	default:
		w.Secret = generated
	}
	s.hookLocked(w)
	var touched []*delivery
	for _, d := range s.log {
		if d != nil && d.kind == KindWebhook && d.client == w.ClientID && d.webhook == w.Label && d.unfinished() {
			d.url = w.URL
			touched = append(touched, d)
		}
	}
	pos := s.appendLocked(append(records(touched), persist.Put(persist.Webhooks, webhookKey(w.ClientID, w.Label), w))...)
	s.mu.Unlock()
	return w, !exists, s.finish(pos)
}

func (s *Sender) hookLocked(w domain.Webhook) {
	if s.hooks[w.ClientID] == nil {
		s.hooks[w.ClientID] = make(map[string]domain.Webhook)
	}
	s.hooks[w.ClientID][w.Label] = w
}

func webhookKey(clientID, label string) string { return clientID + "\x00" + label }

// Webhooks returns clientID's webhooks ("" for every client's), by client, then label.
func (s *Sender) Webhooks(clientID string) []domain.Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	if clientID != "" {
		return s.webhooksLocked(clientID)
	}
	out := []domain.Webhook{}
	for id := range s.hooks {
		out = append(out, s.webhooksLocked(id)...)
	}
	slices.SortFunc(out, func(a, b domain.Webhook) int {
		return cmp.Or(cmp.Compare(a.ClientID, b.ClientID), cmp.Compare(a.Label, b.Label))
	})
	return out
}

// webhooksLocked returns clientID's webhooks by label.
func (s *Sender) webhooksLocked(clientID string) []domain.Webhook {
	out := make([]domain.Webhook, 0, len(s.hooks[clientID]))
	for _, w := range s.hooks[clientID] {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b domain.Webhook) int { return cmp.Compare(a.Label, b.Label) })
	return out
}

// DeleteWebhooks deletes clientID's webhook label, or every webhook of clientID when label is "",
// and returns what it deleted; deliveries to them that have not finished are cancelled (reason
// "webhook deleted"). An unknown label is a 404; deleting all of none deletes nothing. It returns
// once the change is durable (the error may be a failed write).
func (s *Sender) DeleteWebhooks(clientID, label string) ([]domain.Webhook, error) {
	s.mu.Lock()
	var gone []domain.Webhook
	for l, w := range s.hooks[clientID] {
		if label == "" || l == label {
			gone = append(gone, w)
			delete(s.hooks[clientID], l)
		}
	}
	if label != "" && len(gone) == 0 {
		s.mu.Unlock()
		return nil, apierr.New(apierr.NotFound, "No webhook %q", label)
	}
	if len(s.hooks[clientID]) == 0 {
		delete(s.hooks, clientID)
	}
	slices.SortFunc(gone, func(a, b domain.Webhook) int { return cmp.Compare(a.Label, b.Label) })
	var writes []persist.Write
	for _, w := range gone {
		var touched []*delivery
		for _, d := range s.log {
			if d != nil && d.kind == KindWebhook && d.client == clientID && d.webhook == w.Label && d.unfinished() {
				s.stopLocked(d, Cancelled, ReasonWebhookDeleted)
				touched = append(touched, d)
			}
		}
		writes = append(append(writes, records(touched)...), persist.Delete(persist.Webhooks, webhookKey(clientID, w.Label)))
	}
	var pos uint64
	if len(writes) > 0 {
		pos = s.appendLocked(writes...)
	}
	s.mu.Unlock()
	return gone, s.finish(pos)
}

// finish waits for pos to be durable and wakes waiters.
func (s *Sender) finish(pos uint64) error {
	s.changed.Notify()
	return s.db.Wait(pos)
}
