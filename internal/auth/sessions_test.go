package auth_test

import (
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/store"
)

func TestSessions(t *testing.T) {
	fx, err := fixtures.Load(assets.Fixtures())
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFrozen(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	sessionSigner, _ := auth.NewSigner([]byte("sessions"))
	tokenSigner, _ := auth.NewSigner([]byte("tokens"))
	s := auth.NewSessions(sessionSigner, fx, clk, time.Hour)
	lc, err := spec.EmbeddedLifecycle()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Deps{Clock: clk, Lifecycle: lc})
	if err != nil {
		t.Fatal(err)
	}
	access, err := auth.New(tokenSigner, st, fx, clk, time.Hour).Issue("demo-client")
	if err != nil {
		t.Fatal(err)
	}

	tok, client, err := s.SignIn("demo-client", "demo-secret")
	if err != nil || client.ID != "demo-client" {
		t.Fatalf("SignIn = %v, %v", client.ID, err)
	}
	for name, tc := range map[string]struct {
		tok     string
		advance time.Duration
		want    string // client id, "" for refused
	}{
		"valid":                   {tok, 0, "demo-client"},
		"a minute before the end": {tok, 59 * time.Minute, "demo-client"},
		"expired":                 {tok, time.Hour, ""},
		"an access token":         {access, 0, ""},
		"garbage":                 {"SFMyNTY.x.y", 0, ""},
	} {
		t.Run(name, func(t *testing.T) {
			clk.Set(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC).Add(tc.advance))
			got, err := s.Client(tc.tok)
			if tc.want == "" {
				if !apierr.Is(err, apierr.Unauthorized) {
					t.Fatalf("Client = %v, %v: want 401", got.ID, err)
				}
				return
			}
			if err != nil || got.ID != tc.want {
				t.Fatalf("Client = %v, %v", got.ID, err)
			}
		})
	}
	for _, bad := range [][2]string{{"demo-client", "other-secret"}, {"nobody", "demo-secret"}, {"", ""}} {
		if _, _, err := s.SignIn(bad[0], bad[1]); !apierr.Is(err, apierr.Unauthorized) {
			t.Errorf("SignIn(%q, %q) = %v, want 401", bad[0], bad[1], err)
		}
	}
}
