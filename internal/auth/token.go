package auth

// Tokens are in the format of the real service (Phoenix.Token):
// "SFMyNTY.<base64url payload>.<base64url HMAC-SHA256 over "SFMyNTY.<payload>">", where SFMyNTY is
// base64("HS256"). The payload carries the data, the signing time and the maximum age; a token
// signed in the future is invalid, one older than its maximum age is expired. Access tokens,
// dashboard sessions and the links the mock hands out are all such tokens, each from a Signer of
// its own key.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Prefix is base64("HS256"), the first segment of every token.
const Prefix = "SFMyNTY"

// The reasons a token is refused; each says which in its message.
var (
	ErrMalformed    = errors.New("the access token is malformed")
	ErrForged       = errors.New("the access token signature is invalid")
	ErrExpired      = errors.New("the access token expired")
	ErrNotYetValid  = errors.New("the access token is not valid yet (signed in the future)")
	ErrRevoked      = errors.New("the access token was revoked")
	errEmptyKey     = errors.New("auth: empty signing key")
	b64             = base64.RawURLEncoding
	prefixWithDot   = Prefix + "."
	maxTokenLength  = 4096
	signatureLength = b64.EncodedLen(sha256.Size)
)

// Signer signs and verifies tokens with one secret key. It remembers the claims of recently
// verified tokens (the signature is checked once per token); the age is checked on every call.
type Signer struct {
	key      []byte
	verified *cache[Claims]
}

// maxVerified bounds the memory of verified tokens.
const maxVerified = 4096

// NewSigner returns a Signer for key.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) == 0 {
		return nil, errEmptyKey
	}
	return &Signer{key: append([]byte(nil), key...), verified: newCache[Claims](maxVerified)}, nil
}

type payload struct {
	Data   json.RawMessage `json:"data"`
	Signed int64           `json:"signed"`  // Unix milliseconds, as Phoenix
	MaxAge int64           `json:"max_age"` // seconds
}

// Claims are what a verified token says. Data is shared with the verification cache: read it, never
// modify it.
type Claims struct {
	Data     json.RawMessage
	SignedAt time.Time
	MaxAge   time.Duration
}

// ExpiresAt returns when the token stops being valid.
func (c Claims) ExpiresAt() time.Time { return c.SignedAt.Add(c.MaxAge) }

// Sign returns a token carrying data, signed at signedAt and valid for maxAge.
func (s *Signer) Sign(data any, signedAt time.Time, maxAge time.Duration) (string, error) {
	d, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("auth: encode data: %w", err)
	}
	p, err := json.Marshal(payload{Data: d, Signed: signedAt.UnixMilli(), MaxAge: int64(maxAge / time.Second)})
	if err != nil {
		return "", fmt.Errorf("auth: encode payload: %w", err)
	}
	signingInput := prefixWithDot + b64.EncodeToString(p)
	return signingInput + "." + b64.EncodeToString(s.mac(signingInput)), nil
}

func (s *Signer) mac(signingInput string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(signingInput))
	return m.Sum(nil)
}

// Verify checks token's format, signature and age at now, and returns its claims. The error is
// one of ErrMalformed, ErrForged, ErrExpired or ErrNotYetValid.
func (s *Signer) Verify(token string, now time.Time) (Claims, error) {
	c, ok := s.verified.get(token)
	if !ok {
		var err error
		if c, err = s.verify(token); err != nil {
			return Claims{}, err
		}
		s.verified.put(token, c)
	}
	if c.SignedAt.After(now) {
		return c, ErrNotYetValid
	}
	if !now.Before(c.ExpiresAt()) {
		return c, ErrExpired
	}
	return c, nil
}

// verify checks format and signature and decodes the claims.
func (s *Signer) verify(token string) (Claims, error) {
	if len(token) > maxTokenLength || !strings.HasPrefix(token, prefixWithDot) {
		return Claims{}, ErrMalformed
	}
	dot := strings.LastIndexByte(token, '.')
	signingInput, sig := token[:dot], token[dot+1:]
	if dot <= len(prefixWithDot) || strings.IndexByte(signingInput[len(prefixWithDot):], '.') >= 0 {
		return Claims{}, ErrMalformed
	}
	if len(sig) != signatureLength {
		return Claims{}, ErrForged
	}
	got, err := b64.DecodeString(sig)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	if !hmac.Equal(got, s.mac(signingInput)) {
		return Claims{}, ErrForged
	}
	raw, err := b64.DecodeString(signingInput[len(prefixWithDot):])
	if err != nil {
		return Claims{}, ErrMalformed
	}
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Claims{}, ErrMalformed
	}
	return Claims{Data: p.Data, SignedAt: time.UnixMilli(p.Signed).UTC(), MaxAge: time.Duration(p.MaxAge) * time.Second}, nil
}
