package auth

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/fixtures"
)

// DefaultSessionTTL is how long a dashboard sign-in lasts on the mock's clock: long enough to
// outlive the moves tests make (a week for invitations), short enough to end.
const DefaultSessionTTL = 30 * 24 * time.Hour

// Sessions signs clients in to the mock's dashboard (the pages behind results_url) with their
// client credentials, as the real dashboard needs a login. A session is a Phoenix.Token signed with
// a key of its own, so a session cannot stand for an access token or the other way round.
type Sessions struct {
	signer   *Signer
	fixtures *fixtures.Set
	clock    clock.Clock
	ttl      time.Duration
}

// NewSessions returns sessions signed by signer (not the access tokens' signer), valid for ttl
// (DefaultSessionTTL when 0) on clk.
func NewSessions(signer *Signer, fx *fixtures.Set, clk clock.Clock, ttl time.Duration) *Sessions {
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	return &Sessions{signer: signer, fixtures: fx, clock: clk, ttl: ttl}
}

type sessionData struct {
	ClientID string `json:"client_id"`
	Purpose  string `json:"purpose"`
}

const purposeDashboard = "dashboard"

// SignIn checks a client's credentials and returns a session token for it (401 when they are wrong).
func (s *Sessions) SignIn(clientID, secret string) (string, fixtures.Client, error) {
	client, ok := CheckSecret(s.fixtures, clientID, secret)
	if !ok {
		return "", fixtures.Client{}, apierr.New(apierr.Unauthorized, "Invalid client credentials")
	}
	tok, err := s.signer.Sign(sessionData{ClientID: client.ID, Purpose: purposeDashboard}, s.clock.Now(), s.ttl)
	if err != nil {
		return "", fixtures.Client{}, err
	}
	return tok, client, nil
}

// Client returns the client signed in with session token tok (401 when it is not a valid session).
func (s *Sessions) Client(tok string) (fixtures.Client, error) {
	claims, err := s.signer.Verify(tok, s.clock.Now())
	if errors.Is(err, ErrExpired) {
		return fixtures.Client{}, apierr.New(apierr.Unauthorized, "The session expired: sign in again")
	}
	if err != nil {
		return fixtures.Client{}, apierr.New(apierr.Unauthorized, "Not signed in")
	}
	var d sessionData
	if err := json.Unmarshal(claims.Data, &d); err != nil || d.Purpose != purposeDashboard {
		return fixtures.Client{}, apierr.New(apierr.Unauthorized, "Not signed in: not a dashboard session")
	}
	client, ok := s.fixtures.Client(d.ClientID)
	if !ok {
		return fixtures.Client{}, apierr.New(apierr.Unauthorized, "Not signed in: unknown client")
	}
	return client, nil
}
