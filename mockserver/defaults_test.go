package mockserver

import (
	"slices"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/vendorapi"
)

// The documented defaults are literal constants, so go doc shows values rather than internal
// names; they must be what the parts really use when a Config field is zero.
func TestDefaultsAreTheParts(t *testing.T) {
	tests := map[string]struct{ public, internal any }{
		"public URL":        {DefaultPublicURL, service.DefaultPublicURL},
		"token TTL":         {DefaultTokenTTL, contractTokenTTL(t)},
		"invitation TTL":    {DefaultInvitationTTL, service.DefaultInvitationTTL},
		"public link TTL":   {DefaultPublicLinkTTL, service.DefaultPublicLinkTTL},
		"max body bytes":    {int64(DefaultMaxBodyBytes), int64(vendorapi.DefaultMaxBodyBytes)},
		"journal size":      {DefaultJournalSize, journal.DefaultMax},
		"journal max bytes": {int64(DefaultJournalMaxBytes), int64(journal.DefaultMaxBytes)},
		"callback workers":  {DefaultCallbackWorkers, delivery.DefaultWorkers},
		"callback timeout":  {DefaultCallbackTimeout, delivery.DefaultTimeout},
		"callback jitter":   {DefaultCallbackJitter, delivery.DefaultJitter},
	}
	for name, tc := range tests {
		if tc.public != tc.internal {
			t.Errorf("%s: mockserver says %v, the mock uses %v", name, tc.public, tc.internal)
		}
	}
	if !slices.Equal(DefaultCallbackSchedule(), delivery.DefaultSchedule) {
		t.Errorf("callback schedule: mockserver says %v, the mock uses %v", DefaultCallbackSchedule(), delivery.DefaultSchedule)
	}
	// The zero policy takes the defaults: no jitter only when asked.
	if got := options(Config{}).Callbacks.Jitter; got != DefaultCallbackJitter {
		t.Errorf("zero jitter became %v", got)
	}
	if got := options(Config{Callbacks: CallbackPolicy{NoJitter: true}}).Callbacks.Jitter; got != 0 {
		t.Errorf("NoJitter became jitter %v", got)
	}
	if got := options(Config{}).Seed; got == 0 {
		t.Error("seed 0 was not drawn")
	}
}

// contractTokenTTL is the token lifetime openapi.yaml documents, which the mock uses by default.
func contractTokenTTL(t *testing.T) time.Duration {
	ttl, err := app.DefaultTokenTTL()
	if err != nil {
		t.Fatal(err)
	}
	return ttl
}
