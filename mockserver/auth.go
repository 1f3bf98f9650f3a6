package mockserver

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/phxtoken"
)

// tokenData is what an access token carries: the client and its token generation (bumped when the
// control API expires or revokes a client's tokens).
type tokenData struct {
	ClientID string `json:"client_id"`
	Gen      int    `json:"gen"`
}

// authenticate is kin-openapi's AuthenticationFunc: it checks the scheme the operation names and
// records the client in the call stashed in ctx.
func (s *Server) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	c, _ := ctx.Value(authKey{}).(*call)
	if c == nil {
		return errors.New("mockserver: no call in context")
	}
	r := in.RequestValidationInput.Request
	var (
		client fixtures.Client
		err    error
	)
	switch in.SecuritySchemeName {
	case "basicAuth":
		client, err = s.authenticateBasic(r)
	case "bearerAuth":
		client, err = s.authenticateBearer(r)
	default:
		return fmt.Errorf("mockserver: unknown security scheme %q", in.SecuritySchemeName)
	}
	if err != nil {
		return err
	}
	c.client = client
	return nil
}

func (s *Server) authenticateBasic(r *http.Request) (fixtures.Client, error) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return fixtures.Client{}, basicChallenge("Missing client credentials: send HTTP Basic auth with client_id and client_secret")
	}
	client, known := s.Fixtures.Client(id)
	// Compare against a secret even for an unknown id, so timing does not reveal which ids exist.
	want := client.Secret
	if !known {
		want = "\x00unknown-client"
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 || !known {
		return fixtures.Client{}, basicChallenge("Invalid client credentials")
	}
	return client, nil
}

func basicChallenge(detail string) *apierr.Error {
	return apierr.New(apierr.Unauthorized, "%s", detail).
		WithHeader("WWW-Authenticate", fmt.Sprintf(`Basic realm=%q, charset="UTF-8"`, realm))
}

func (s *Server) authenticateBearer(r *http.Request) (fixtures.Client, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Bearer") {
		return fixtures.Client{}, apierr.New(apierr.Unauthorized, "Missing access token: send Authorization: Bearer <access_token>").
			WithHeader("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q`, realm))
	}
	tok = strings.TrimSpace(tok)
	claims, err := s.Tokens.Verify(tok, s.Clock.Now())
	if err != nil {
		return fixtures.Client{}, bearerInvalid(err.Error())
	}
	var d tokenData
	if err := json.Unmarshal(claims.Data, &d); err != nil || d.ClientID == "" {
		return fixtures.Client{}, bearerInvalid(phxtoken.ErrMalformed.Error())
	}
	client, ok := s.Fixtures.Client(d.ClientID)
	if !ok {
		return fixtures.Client{}, bearerInvalid("the access token names an unknown client")
	}
	if g := s.Store.TokenGeneration(d.ClientID); g.Gen != d.Gen {
		reason := "the access token was " + g.Reason
		if g.Reason == "" {
			reason = phxtoken.ErrRevoked.Error()
		}
		return fixtures.Client{}, bearerInvalid(reason)
	}
	return client, nil
}

func bearerInvalid(reason string) *apierr.Error {
	detail := strings.ToUpper(reason[:1]) + reason[1:]
	return apierr.New(apierr.Unauthorized, "%s", detail).
		WithHeader("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="invalid_token", error_description=%q`, realm, reason))
}

func (s *Server) handleCreateAccessToken(w http.ResponseWriter, _ *http.Request, c call) error {
	gen := s.Store.TokenGeneration(c.client.ID).Gen
	tok, err := s.Tokens.Sign(tokenData{ClientID: c.client.ID, Gen: gen}, s.Clock.Now(), s.cfg.TokenTTL)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, http.StatusOK, map[string]string{"access_token": tok})
	return nil
}
