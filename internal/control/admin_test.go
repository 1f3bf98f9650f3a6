package control_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// The admin guard takes exactly "Bearer <token>", the scheme in any case (as the vendor API takes
// access tokens), and nothing else that happens to hold the token.
func TestAdminGuardTakesExactlyABearer(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) { o.AdminToken = "s3cret" })
	for header, want := range map[string]int{
		"Bearer s3cret":        200,
		"bearer s3cret":        200,
		"BEARER s3cret":        200,
		"Bearer  s3cret":       200, // RFC 7235: one or more spaces
		"s3cret":               401,
		"Bearers3cret":         401,
		"Basic s3cret":         401,
		"Token s3cret":         401,
		"Bearer s3cret s3cret": 401,
		"Bearer s3cre":         401,
		"Bearer":               401,
	} {
		t.Run(header, func(t *testing.T) {
			h := h.Sub(t)
			r := h.Do(http.MethodGet, "/_mock/clock", "", testenv.Header("Authorization", header))
			if r.Status != want {
				t.Fatalf("Authorization: %s answered %d, want %d", header, r.Status, want)
			}
			// Every wrong one counts as a guess: start afresh for the next header.
			h.Clock.Advance(time.Hour)
		})
	}
}

// Guessing the admin token backs off per client address: a few wrong tokens are answered at once,
// then each makes the next one wait twice as long (429 with Retry-After, the right token too,
// without it being checked), on the mock's clock; the right token after the wait starts afresh.
// A request without any token is no guess.
func TestAdminGuessesBackOff(t *testing.T) {
	h := testenv.New(t, func(o *app.Options) { o.AdminToken = "s3cret" })
	for range 10 {
		testenv.WantStatus(t, h.Do(http.MethodGet, "/_mock/clock", ""), 401)
	}
	for i := range 6 {
		if r := h.Do(http.MethodGet, "/_mock/clock", "", testenv.Bearer("guess")); r.Status != 401 {
			t.Fatalf("guess %d: %d, want 401", i+1, r.Status)
		}
	}
	for _, auth := range []string{"guess", "s3cret"} {
		r := h.Do(http.MethodGet, "/_mock/clock", "", testenv.Bearer(auth))
		testenv.WantStatus(t, r, http.StatusTooManyRequests)
		if got := r.Header.Get("Retry-After"); got != "1" {
			t.Fatalf("Retry-After = %q, want 1", got)
		}
	}
	h.Clock.Advance(time.Second)
	testenv.WantStatus(t, h.Do(http.MethodGet, "/_mock/clock", "", testenv.Bearer("s3cret")), 200)
	testenv.WantStatus(t, h.Do(http.MethodGet, "/_mock/clock", "", testenv.Bearer("guess")), 401)
	testenv.WantStatus(t, h.Do(http.MethodGet, "/_mock/clock", "", testenv.Bearer("s3cret")), 200)
}
