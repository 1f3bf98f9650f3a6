package service

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/egress"
)

// newSecretBytes is how many random bytes a generated webhook secret holds.
const newSecretBytes = 32

// WebhookRegistration is what a client sends to register a webhook, or to update the one under
// Label. An empty Secret lets the mock generate one for a new webhook, and keeps the current one
// of an existing webhook.
type WebhookRegistration struct {
	Label, URL, Secret string
}

// RegisteredWebhook is a webhook as registered: whether it is new, and the secret the mock
// generated for it (NewSecret, only in this answer: it is never shown again).
type RegisteredWebhook struct {
	domain.Webhook
	Created   bool
	NewSecret string
}

// RegisterWebhook registers clientID's webhook, or updates the one under its label: an absolute
// http(s) URL (the callback host allow-list applies, as to callback_url) and a Standard Webhooks
// secret. Deliveries to an updated webhook that have not finished follow it to its new URL and
// secret.
func (s *Service) RegisterWebhook(clientID string, r WebhookRegistration) (RegisteredWebhook, error) {
	if _, ok := s.deps.Fixtures.Client(clientID); !ok {
		return RegisteredWebhook{}, apierr.New(apierr.NotFound, "No client %q", clientID)
	}
	if err := domain.CheckLabel(r.Label); err != nil {
		return RegisteredWebhook{}, apierr.Field("label", err.Error())
	}
	if err := checkWebhookURL(s.egress, r.URL); err != nil {
		return RegisteredWebhook{}, apierr.Field("url", err.Error())
	}
	if r.Secret != "" {
		if err := domain.CheckSecret(r.Secret); err != nil {
			return RegisteredWebhook{}, apierr.Field("secret", err.Error())
		}
	}
	generated, err := newSecret()
	if err != nil {
		return RegisteredWebhook{}, err
	}
	hook, created, err := s.sender.PutWebhook(domain.Webhook{ClientID: clientID, Label: r.Label, URL: r.URL, Secret: r.Secret}, generated)
	out := RegisteredWebhook{Webhook: hook, Created: created}
	if hook.Secret == generated {
		out.NewSecret = generated
	}
	return out, err
}

// Webhooks returns clientID's webhooks ("" for every client's), by client, then label.
func (s *Service) Webhooks(clientID string) []domain.Webhook { return s.sender.Webhooks(clientID) }

// DeleteWebhooks deletes clientID's webhook label, or all of clientID's when label is "" (a 404
// for an unknown label, nothing for none), and returns what it deleted. Deliveries to them that
// have not finished are cancelled (reason "webhook deleted").
func (s *Service) DeleteWebhooks(clientID, label string) ([]domain.Webhook, error) {
	return s.sender.DeleteWebhooks(clientID, label)
}

// TriggerEvent sends event typ about application ref to its client's webhooks again, now (the
// control API's lever), and returns the event's id and its deliveries (none, and no id, when the
// client has no webhook). Only an
// event the application has had can be sent (domain.Lifecycle.Resend), and none once it is
// anonymized (409). It goes through the store like a transition, so it is ordered after every
// change before it.
func (s *Service) TriggerEvent(ref, typ string) (string, []delivery.Delivery, error) {
	if !slices.Contains(delivery.EventTypes, typ) {
		return "", nil, apierr.Field("type", "must be one of "+strings.Join(delivery.EventTypes, ", "))
	}
	var sent []domain.Event
	_, err := s.store.Update("", ref, func(a *domain.Application, now time.Time) ([]domain.Event, error) {
		var err error
		sent, err = s.lc.Resend(*a, now, domain.EventType(typ))
		return sent, err // stamped in place by the store
	})
	if err != nil || len(sent) == 0 {
		return "", nil, err
	}
	id := s.sender.EventID(sent[0].Seq)
	ds := s.sender.List(delivery.Filter{EventID: id})
	if len(ds) == 0 {
		return "", ds, nil
	}
	return id, ds, nil
}

// checkWebhookURL says why raw may not be a webhook URL: not an absolute http(s) URL, or a target
// the egress policy refuses.
func checkWebhookURL(allow *egress.Policy, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an absolute http(s) URL")
	}
	return allow.CheckURL(raw)
}

func newSecret() (string, error) {
	key := make([]byte, newSecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("service: generating a webhook secret: %w", err)
	}
	return domain.SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}
