package lifecycle

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/egress"
	"github.com/equalture/equalture-mock/internal/redact"
	"github.com/equalture/equalture-mock/internal/store"
)

// ReasonWebhookDeleted is why deliveries to a deleted webhook were cancelled.
const ReasonWebhookDeleted = "webhook deleted"

// Secrets are Standard Webhooks secrets: "whsec_" and the base64 of 24 to 64 random bytes; the
// mock generates 32.
const (
	SecretPrefix   = "whsec_"
	minSecretBytes = 24
	maxSecretBytes = 64
	newSecretBytes = 32
)

var labelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// WebhookRegistration is what a client sends to register a webhook, or to update the one under
// Label. An empty Secret lets the mock generate one for a new webhook, and keeps the current one
// of an existing webhook.
type WebhookRegistration struct {
	Label, URL, Secret string
}

// RegisteredWebhook is a webhook as registered: whether it is new, and the secret the mock
// generated for it (NewSecret, only in this answer: it is never shown again).
type RegisteredWebhook struct {
	store.Webhook
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
	if !labelRE.MatchString(r.Label) {
		return RegisteredWebhook{}, apierr.Field("label", "must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit")
	}
	if err := checkWebhookURL(s.deps.Egress, r.URL); err != nil {
		return RegisteredWebhook{}, apierr.Field("url", err.Error())
	}
	if r.Secret != "" {
		if err := CheckSecret(r.Secret); err != nil {
			return RegisteredWebhook{}, apierr.Field("secret", err.Error())
		}
	}
	generated, err := newSecret()
	if err != nil {
		return RegisteredWebhook{}, err
	}
	hook, created, err := s.deps.Store.PutWebhook(store.Webhook{ClientID: clientID, Label: r.Label, URL: r.URL, Secret: r.Secret}, generated)
	out := RegisteredWebhook{Webhook: hook, Created: created}
	if hook.Secret == generated {
		out.NewSecret = generated
	}
	if err != nil {
		return out, err
	}
	if !created && s.deps.Deliveries != nil {
		err = s.deps.Deliveries.RetargetWebhook(hook)
	}
	return out, err
}

// Webhooks returns clientID's webhooks ("" for every client's), by client, then label.
func (s *Service) Webhooks(clientID string) []store.Webhook { return s.deps.Store.Webhooks(clientID) }

// DeleteWebhooks deletes clientID's webhook label, or all of clientID's when label is "" (a 404
// for an unknown label, nothing for none), and returns what it deleted. Deliveries to them that
// have not finished are cancelled (reason "webhook deleted").
func (s *Service) DeleteWebhooks(clientID, label string) ([]store.Webhook, error) {
	gone, err := s.deps.Store.DeleteWebhooks(clientID, label)
	if s.deps.Deliveries != nil {
		for _, w := range gone {
			err = errors.Join(err, s.deps.Deliveries.CancelWebhook(clientID, w.Label, ReasonWebhookDeleted))
		}
	}
	return gone, err
}

// TriggerEvent sends event typ about application ref to its client's webhooks again, now (the
// control API's lever), and returns the event's id ("" when the client has no webhook). Only an
// event the application has had can be sent: assessment_started once it started,
// assessment_finished once it completed; an anonymized application gets none (409).
func (s *Service) TriggerEvent(ref, typ string) (string, error) {
	if !slices.Contains(delivery.EventTypes, typ) {
		return "", apierr.Field("type", "must be one of "+strings.Join(delivery.EventTypes, ", "))
	}
	app, err := s.deps.Store.Lookup(ref)
	if err != nil {
		return "", err
	}
	switch {
	case app.Status == store.Anonymized:
		return "", apierr.New(apierr.Conflict, "The application is anonymized: it gets no more events")
	case typ == delivery.EventStarted && app.StartedAt.IsZero():
		return "", apierr.New(apierr.Conflict, "The application has not started (it is %s): no %s to send", app.Status, typ)
	case typ == delivery.EventFinished && app.CompletedAt.IsZero():
		return "", apierr.New(apierr.Conflict, "The application has not completed (it is %s): no %s to send", app.Status, typ)
	case s.deps.Deliveries == nil:
		return "", errors.New("lifecycle: no dispatcher to send events")
	}
	return s.deps.Deliveries.Raise(app, typ)
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

// CheckSecret says why secret is not a Standard Webhooks secret ("whsec_" and the base64 of 24 to
// 64 bytes).
func CheckSecret(secret string) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if !strings.HasPrefix(secret, SecretPrefix) || err != nil || len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return fmt.Errorf("must be %s followed by the base64 of %d to %d random bytes", SecretPrefix, minSecretBytes, maxSecretBytes)
	}
	return nil
}

func newSecret() (string, error) {
	key := make([]byte, newSecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("lifecycle: generating a webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// SecretHint shows enough of a secret to tell which one it is, never the secret: its prefix and
// first four characters (redact.Hint, the one hint of every secret the mock shows).
func SecretHint(secret string) string { return redact.Hint(secret) }
