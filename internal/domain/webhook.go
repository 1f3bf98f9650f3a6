package domain

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Webhook is an endpoint a client registered, under a label of its choosing, to hear its
// applications' events. Secret signs what is sent to it; it leaves the mock only once, when the
// mock generated it.
type Webhook struct {
	ClientID  string    `json:"client_id"`
	Label     string    `json:"label"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxWebhooks is how many webhooks one client may have.
const MaxWebhooks = 25

// Secrets are Standard Webhooks secrets: "whsec_" and the base64 of 24 to 64 random bytes.
const (
	SecretPrefix   = "whsec_"
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

var labelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckLabel says why label cannot name a webhook.
func CheckLabel(label string) error {
	if !labelRE.MatchString(label) {
		return errors.New("must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit")
	}
	return nil
}

// CheckSecret says why secret is not a Standard Webhooks secret ("whsec_" and the base64 of 24 to
// 64 bytes).
func CheckSecret(secret string) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if !strings.HasPrefix(secret, SecretPrefix) || err != nil || len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return fmt.Errorf("must be %s followed by the base64 of %d to %d random bytes", SecretPrefix, MinSecretBytes, MaxSecretBytes)
	}
	return nil
}
