package auth

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestPrefixIsBase64OfHS256(t *testing.T) {
	if got, want := base64.RawStdEncoding.EncodeToString([]byte("HS256")), Prefix; got != want {
		t.Fatalf("base64(HS256) = %q, want %q", got, want)
	}
}

func TestSignVerify(t *testing.T) {
	s, err := NewSigner([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner([]byte("other"))
	tok, err := s.Sign(map[string]string{"client_id": "demo"}, t0, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^SFMyNTY\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$`).MatchString(tok) {
		t.Fatalf("token %q is not in Phoenix.Token format", tok)
	}
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	otherTok, _ := other.Sign(map[string]string{"client_id": "demo"}, t0, 15*time.Minute)

	tests := map[string]struct {
		token string
		now   time.Time
		want  error
	}{
		"valid at signing":         {tok, t0, nil},
		"valid one second before":  {tok, t0.Add(15*time.Minute - time.Second), nil},
		"expired at max age":       {tok, t0.Add(15 * time.Minute), ErrExpired},
		"signed in the future":     {tok, t0.Add(-time.Second), ErrNotYetValid},
		"other key":                {otherTok, t0, ErrForged},
		"tampered payload":         {tampered, t0, ErrForged},
		"truncated seed sample":    {"SFMyNTY.dncndjkek", t0, ErrMalformed},
		"no prefix":                {strings.TrimPrefix(tok, "SFMyNTY"), t0, ErrMalformed},
		"empty":                    {"", t0, ErrMalformed},
		"four segments":            {parts[0] + "." + parts[1] + ".a." + parts[2], t0, ErrMalformed},
		"bad signature characters": {parts[0] + "." + parts[1] + "." + strings.Repeat("*", 43), t0, ErrMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := s.Verify(tc.token, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify() error = %v, want %v", err, tc.want)
			}
			if tc.want == nil && string(c.Data) != `{"client_id":"demo"}` {
				t.Fatalf("data = %s", c.Data)
			}
		})
	}
}

func TestNewSignerRefusesEmptyKey(t *testing.T) {
	if _, err := NewSigner(nil); err == nil {
		t.Fatal("NewSigner(nil) succeeded")
	}
}

func BenchmarkVerify(b *testing.B) {
	s, _ := NewSigner([]byte("k"))
	tok, _ := s.Sign(map[string]string{"client_id": "demo"}, t0, 15*time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(tok, t0); err != nil {
			b.Fatal(err)
		}
	}
}
