// Package auth is who may call the vendor API: client credentials checked with HTTP Basic, access
// tokens in the real service's Phoenix.Token format (signed and verified here, as are the links
// the mock hands out and the dashboard's sessions) issued for 15 minutes on the mock's clock, and
// the generations that let the control API expire or revoke a client's tokens at once. Every
// WWW-Authenticate challenge the vendor API sends is built here.
package auth

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/store"
)

// Realm is the realm of the vendor API's challenges.
const Realm = apierr.Realm

// The security schemes of openapi.yaml this package checks.
const (
	SchemeBasic  = "basicAuth"
	SchemeBearer = "bearerAuth"
)

// Token invalidation reasons (the control API's expire and revoke).
const (
	Expired = "expired"
	Revoked = "revoked"
)

// tokenData is what an access token carries: the client and its token generation.
type tokenData struct {
	ClientID string `json:"client_id"`
	Gen      int    `json:"gen"`
}

// Authenticator checks credentials and issues access tokens.
type Authenticator struct {
	tokens   *Signer
	gens     Generations
	fixtures *fixtures.Set
	clock    clock.Clock
	ttl      time.Duration
	decoded  *cache[tokenData] // what verified tokens carry
}

// maxDecoded bounds the memory of decoded tokens.
const maxDecoded = 4096

// Generations says which token generation each client is in: a token of an older one is refused
// (the service keeps them, and moves them on when the control API expires or revokes tokens).
type Generations interface {
	TokenGeneration(clientID string) store.TokenGeneration
}

// New returns an Authenticator issuing tokens valid for ttl on clk.
func New(tokens *Signer, gens Generations, fx *fixtures.Set, clk clock.Clock, ttl time.Duration) *Authenticator {
	return &Authenticator{tokens: tokens, gens: gens, fixtures: fx, clock: clk, ttl: ttl, decoded: newCache[tokenData](maxDecoded)}
}

// Authenticate checks r against the security scheme the contract names and returns the client.
func (a *Authenticator) Authenticate(r *http.Request, scheme string) (fixtures.Client, error) {
	switch scheme {
	case SchemeBasic:
		return a.basic(r)
	case SchemeBearer:
		return a.bearer(r)
	default:
		return fixtures.Client{}, fmt.Errorf("auth: unknown security scheme %q", scheme)
	}
}

func (a *Authenticator) basic(r *http.Request) (fixtures.Client, error) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return fixtures.Client{}, basicChallenge("Missing client credentials: send HTTP Basic auth with client_id and client_secret").Because(ReasonMissing)
	}
	client, ok := CheckSecret(a.fixtures, id, secret)
	if !ok {
		return fixtures.Client{}, basicChallenge("Invalid client credentials").Because(ReasonInvalid)
	}
	return client, nil
}

// CheckSecret returns the client of fx with id if secret is its secret: the one check of client
// credentials, for the vendor API's Basic auth and the dashboard's sign-in.
func CheckSecret(fx *fixtures.Set, id, secret string) (fixtures.Client, bool) {
	client, known := fx.Client(id)
	// Compare against a secret even for an unknown id, so timing does not reveal which ids exist.
	want := client.Secret
	if !known {
		want = "\x00unknown-client"
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 || !known {
		return fixtures.Client{}, false
	}
	return client, true
}

func basicChallenge(detail string) *apierr.Error {
	return apierr.New(apierr.Unauthorized, "%s", detail).WithHeader("WWW-Authenticate", Challenge(SchemeBasic))
}

// Challenge is the WWW-Authenticate value of a 401 for an operation secured by scheme.
func Challenge(scheme string) string {
	if scheme == SchemeBasic {
		return apierr.Challenge("Basic", Realm, `charset="UTF-8"`)
	}
	return apierr.Challenge("Bearer", Realm)
}

func (a *Authenticator) bearer(r *http.Request) (fixtures.Client, error) {
	tok, ok := bearerToken(r)
	if !ok {
		return fixtures.Client{}, apierr.New(apierr.Unauthorized, "Missing access token: send Authorization: Bearer <access_token>").
			WithHeader("WWW-Authenticate", Challenge(SchemeBearer)).Because(ReasonMissing)
	}
	claims, err := a.tokens.Verify(tok, a.clock.Now())
	if err != nil {
		return fixtures.Client{}, bearerInvalid(err.Error(), reasonOf(err))
	}
	d, err := a.decode(tok, claims)
	if err != nil {
		return fixtures.Client{}, bearerInvalid(err.Error(), reasonOf(err))
	}
	client, ok := a.fixtures.Client(d.ClientID)
	if !ok {
		return fixtures.Client{}, bearerInvalid("the access token names an unknown client", ReasonInvalid)
	}
	if g := a.gens.TokenGeneration(d.ClientID); g.Gen != d.Gen {
		reason, why := "the access token was "+g.Reason, g.Reason
		if g.Reason == "" {
			reason, why = ErrRevoked.Error(), ReasonRevoked
		}
		return fixtures.Client{}, bearerInvalid(reason, why)
	}
	return client, nil
}

// decode returns what a verified token carries.
func (a *Authenticator) decode(tok string, claims Claims) (tokenData, error) {
	if d, ok := a.decoded.get(tok); ok {
		return d, nil
	}
	d, err := unmarshalTokenData(claims.Data)
	if err != nil {
		return tokenData{}, err
	}
	a.decoded.put(tok, d)
	return d, nil
}

func unmarshalTokenData(b []byte) (tokenData, error) {
	var d tokenData
	if err := json.Unmarshal(b, &d); err != nil || d.ClientID == "" {
		return tokenData{}, ErrMalformed
	}
	return d, nil
}

// bearerToken is the token of an "Authorization: Bearer <token>" header (scheme case-insensitive).
func bearerToken(r *http.Request) (string, bool) {
	return BearerToken(r.Header.Get("Authorization"))
}

// BearerToken returns the token of an Authorization value "Bearer <token>": the scheme in any
// case, one or more spaces, then one token without spaces (RFC 6750, RFC 7235). Anything else —
// no scheme, another scheme, nothing or more than one word after it — is no Bearer token: the one
// parser of the vendor API's access tokens, the admin token and the proxy's checks.
func BearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimLeft(tok, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" ||
		strings.IndexByte(tok, ' ') >= 0 || strings.IndexByte(tok, '\t') >= 0 {
		return "", false
	}
	return tok, true
}

func bearerInvalid(reason, why string) *apierr.Error {
	detail := strings.ToUpper(reason[:1]) + reason[1:]
	return apierr.New(apierr.Unauthorized, "%s", detail).WithHeader("WWW-Authenticate",
		apierr.Challenge("Bearer", Realm, `error="invalid_token"`, "error_description="+strconv.Quote(reason))).Because(why)
}

// The reasons of a 401, as openapi.yaml's x-reasons name them.
const (
	ReasonMissing   = "missing"
	ReasonMalformed = "malformed"
	ReasonInvalid   = "invalid"
	ReasonExpired   = Expired
	ReasonRevoked   = Revoked
)

// reasonOf names why a token was refused.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, ErrMalformed):
		return ReasonMalformed
	case errors.Is(err, ErrExpired):
		return ReasonExpired
	case errors.Is(err, ErrRevoked):
		return ReasonRevoked
	default: // forged, signed in the future
		return ReasonInvalid
	}
}

// Issue returns a new access token for client, valid for the configured TTL from now.
func (a *Authenticator) Issue(clientID string) (string, error) {
	gen := a.gens.TokenGeneration(clientID).Gen
	return a.tokens.Sign(tokenData{ClientID: clientID, Gen: gen}, a.clock.Now(), a.ttl)
}

// Identify names the client a request claims to be, without checking it: the Basic username or
// the client in the Bearer token's payload. Fault rules and the journal use it for requests that
// authentication did not (or not yet) vouch for.
func Identify(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		return id
	}
	tok, ok := bearerToken(r)
	if !ok {
		return ""
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var p struct {
		Data tokenData `json:"data"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return ""
	}
	return p.Data.ClientID
}
