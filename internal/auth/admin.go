package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"math"
	"net/http"
	"strconv"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
)

// AdminRealm is the realm of the control API's challenges.
const AdminRealm = "equalture-mock control"

// Admin guards what the admin token opens: the control API (a Bearer on every request) and the
// console (a sign-in). Wrong tokens count as guesses per client address, and guessing backs off
// (package backoff): a few are answered at once, then each makes the next attempt wait twice as
// long, on the mock's clock.
type Admin struct {
	token   string
	guesses *Limiter
}

// NewAdmin returns the guard of token ("": nothing to guard), timing back-offs on clk.
func NewAdmin(token string, clk clock.Clock) *Admin {
	return &Admin{token: token, guesses: NewLimiter(clk)}
}

// Required reports whether there is an admin token to give.
func (a *Admin) Required() bool { return a.token != "" }

// Check says whether r may pass with the token it gave (given; present false when it gave none):
// nil for the admin token (or when none is required); a 429 with Retry-After while r's address
// backs off, without looking at the token; otherwise a 401, counted as a guess unless no token was
// given at all. The comparison takes the same time whatever the token.
func (a *Admin) Check(r *http.Request, given string, present bool) error {
	if !a.Required() {
		return nil
	}
	key := ClientAddress(r)
	if present {
		if wait := a.guesses.Wait(key); wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			return apierr.New(apierr.TooManyRequests, "Too many wrong admin tokens from your address: try again in %d s", secs).
				WithHeader("Retry-After", strconv.Itoa(secs))
		}
		if subtle.ConstantTimeCompare([]byte(given), []byte(a.token)) == 1 {
			a.guesses.Succeed(key)
			return nil
		}
		a.guesses.Fail(key)
	}
	return apierr.New(apierr.Unauthorized, "The control API needs the admin token: send Authorization: Bearer <admin token>").
		WithHeader("WWW-Authenticate", apierr.Challenge("Bearer", AdminRealm))
}

// CheckBearer is Check with the token of r's Authorization header; a header that is not exactly
// "Bearer <token>" counts as a wrong token.
func (a *Admin) CheckBearer(r *http.Request) error {
	h := r.Header.Get("Authorization")
	tok, _ := BearerToken(h)
	return a.Check(r, tok, h != "")
}

// Fingerprint stands for the admin token where something must change with it (the console's
// cookies are bound to it), never showing it: the base64 of its SHA-256.
func (a *Admin) Fingerprint() string {
	s := sha256.Sum256([]byte(a.token))
	return base64.RawURLEncoding.EncodeToString(s[:])
}
