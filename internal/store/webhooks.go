package store

import (
	"cmp"
	"slices"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
)

// MaxWebhooks is how many webhooks one client may have: registering one more is a 409.
const MaxWebhooks = 25

// Webhook is an endpoint a client registered for its events, under a label of its choosing.
// Secret signs what is sent to it; it leaves the mock only once, when it was generated.
type Webhook struct {
	ClientID  string    `json:"client_id"`
	Label     string    `json:"label"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PutWebhook registers w (w.ClientID's webhook w.Label) or updates the one registered under that
// label, on the store's clock. An empty w.Secret keeps the current secret, or for a new webhook
// takes generated. It returns the webhook as stored and whether it is new; a client already
// holding MaxWebhooks others gets a 409. The error may also be a failed write-through.
func (s *Store) PutWebhook(w Webhook, generated string) (Webhook, bool, error) {
	now := s.clock.Now()
	s.mu.Lock()
	old, exists := s.hooks[w.ClientID][w.Label]
	if !exists && len(s.hooks[w.ClientID]) >= MaxWebhooks {
		s.mu.Unlock()
		return Webhook{}, false, apierr.New(apierr.Conflict, "A client has at most %d webhooks: delete one first", MaxWebhooks).Because("limit")
	}
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
	stored := w
	ch := s.changeLocked(Change{Webhook: &stored})
	s.mu.Unlock()
	s.changed.Notify()
	return w, !exists, s.write(ch)
}

func (s *Store) hookLocked(w Webhook) {
	if s.hooks[w.ClientID] == nil {
		s.hooks[w.ClientID] = make(map[string]Webhook)
	}
	s.hooks[w.ClientID][w.Label] = w
}

// Webhooks returns clientID's webhooks ("" for every client's), by client, then label.
func (s *Store) Webhooks(clientID string) []Webhook {
	s.mu.RLock()
	out := []Webhook{}
	for id, hooks := range s.hooks {
		if clientID == "" || id == clientID {
			for _, w := range hooks {
				out = append(out, w)
			}
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Webhook) int {
		return cmp.Or(cmp.Compare(a.ClientID, b.ClientID), cmp.Compare(a.Label, b.Label))
	})
	return out
}

// Webhook returns clientID's webhook label, or a 404 (another client's is not clientID's).
func (s *Store) Webhook(clientID, label string) (Webhook, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	w, ok := s.hooks[clientID][label]
	if !ok {
		return Webhook{}, apierr.New(apierr.NotFound, "No webhook %q", label)
	}
	return w, nil
}

// DeleteWebhooks deletes clientID's webhook label, or every webhook of clientID when label is "",
// and returns what it deleted. An unknown label is a 404; deleting all of none deletes nothing.
// The error may also be a failed write-through.
func (s *Store) DeleteWebhooks(clientID, label string) ([]Webhook, error) {
	s.mu.Lock()
	var gone []Webhook
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
	slices.SortFunc(gone, func(a, b Webhook) int { return cmp.Compare(a.Label, b.Label) })
	var ch *Change
	if len(gone) > 0 {
		ch = s.changeLocked(Change{Unhooked: gone})
	}
	s.mu.Unlock()
	s.changed.Notify()
	return gone, s.write(ch)
}
