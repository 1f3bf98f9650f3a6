package mockserver_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/mockserver"
)

// Every value New refuses is refused by Validate, as a ConfigError naming the field; zero values
// are the defaults, so the zero Config is valid.
func TestValidate(t *testing.T) {
	tests := map[string]struct {
		cfg   mockserver.Config
		field string // "" when valid
	}{
		"zero config":                {mockserver.Config{}, ""},
		"everything set":             {mockserver.Config{PublicURL: "https://mock.example/base", Seed: -5, TokenTTL: time.Second, InvitationTTL: time.Hour, PublicLinkTTL: time.Minute, AutoCompleteAfter: time.Hour, MaxBodyBytes: 10, JournalSize: 1, JournalMaxBytes: 1, Callbacks: mockserver.CallbackPolicy{Schedule: []time.Duration{0, time.Second}, MaxAttempts: 3, Timeout: time.Second, Workers: 1, TimeScale: 0.001, Jitter: 0.5, Success: mockserver.Success2xx}}, ""},
		"no jitter":                  {mockserver.Config{Callbacks: mockserver.CallbackPolicy{NoJitter: true}}, ""},
		"public URL without scheme":  {mockserver.Config{PublicURL: "localhost:8080"}, "PublicURL"},
		"public URL of ftp":          {mockserver.Config{PublicURL: "ftp://mock.example"}, "PublicURL"},
		"negative token TTL":         {mockserver.Config{TokenTTL: -time.Second}, "TokenTTL"},
		"negative invitation TTL":    {mockserver.Config{InvitationTTL: -time.Second}, "InvitationTTL"},
		"negative public link TTL":   {mockserver.Config{PublicLinkTTL: -time.Second}, "PublicLinkTTL"},
		"negative auto-complete":     {mockserver.Config{AutoCompleteAfter: -time.Second}, "AutoCompleteAfter"},
		"allow-list of CIDR and *":   {mockserver.Config{CallbackAllowHosts: []string{"10.0.0.0/8", "*", "*.example.com", "127.0.0.1"}}, ""},
		"allow-list bad CIDR":        {mockserver.Config{CallbackAllowHosts: []string{"10.0.0.0/99"}}, "CallbackAllowHosts"},
		"negative retry delay":       {mockserver.Config{Callbacks: mockserver.CallbackPolicy{Schedule: []time.Duration{0, -time.Second}}}, "Callbacks.Schedule"},
		"negative max attempts":      {mockserver.Config{Callbacks: mockserver.CallbackPolicy{MaxAttempts: -1}}, "Callbacks.MaxAttempts"},
		"negative callback timeout":  {mockserver.Config{Callbacks: mockserver.CallbackPolicy{Timeout: -time.Second}}, "Callbacks.Timeout"},
		"negative workers":           {mockserver.Config{Callbacks: mockserver.CallbackPolicy{Workers: -3}}, "Callbacks.Workers"},
		"negative time scale":        {mockserver.Config{Callbacks: mockserver.CallbackPolicy{TimeScale: -1}}, "Callbacks.TimeScale"},
		"negative jitter":            {mockserver.Config{Callbacks: mockserver.CallbackPolicy{Jitter: -0.1}}, "Callbacks.Jitter"},
		"jitter of 1":                {mockserver.Config{Callbacks: mockserver.CallbackPolicy{Jitter: 1}}, "Callbacks.Jitter"},
		"jitter with no jitter":      {mockserver.Config{Callbacks: mockserver.CallbackPolicy{Jitter: 0.2, NoJitter: true}}, "Callbacks.Jitter"},
		"unknown success":            {mockserver.Config{Callbacks: mockserver.CallbackPolicy{Success: 7}}, "Callbacks.Success"},
		"negative max body bytes":    {mockserver.Config{MaxBodyBytes: -1}, "MaxBodyBytes"},
		"negative journal size":      {mockserver.Config{JournalSize: -1}, "JournalSize"},
		"negative journal max bytes": {mockserver.Config{JournalMaxBytes: -1}, "JournalMaxBytes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ce *mockserver.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("Validate() = %v, want a ConfigError naming %s", err, tc.field)
			}
			if !strings.HasPrefix(err.Error(), "mockserver: Config."+tc.field+": ") || ce.Reason == "" {
				t.Fatalf("message %q does not name the field and say why", err)
			}
			if s, err := mockserver.New(tc.cfg); err == nil || err.Error() != tc.cfg.Validate().Error() {
				if s != nil {
					t.Error("New built it")
				}
				t.Fatalf("New: %v, want Validate's error", err)
			}
		})
	}
}

// Validate reports every bad field at once, so a user fixes them in one go.
func TestValidateReportsEveryField(t *testing.T) {
	err := mockserver.Config{TokenTTL: -1, JournalSize: -1, Callbacks: mockserver.CallbackPolicy{Workers: -3}}.Validate()
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *mockserver.ConfigError
		if !errors.As(e, &ce) {
			t.Fatalf("%v is not a ConfigError", e)
		}
		fields = append(fields, ce.Field)
	}
	if got, want := strings.Join(fields, ","), "TokenTTL,Callbacks.Workers,JournalSize"; got != want {
		t.Fatalf("fields = %s, want %s", got, want)
	}
}

func TestSuccessText(t *testing.T) {
	for _, s := range []mockserver.Success{mockserver.Success200, mockserver.Success2xx} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back mockserver.Success
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Fatalf("%s → %q → %v, %v", s, b, back, err)
		}
	}
	var s mockserver.Success
	if err := s.UnmarshalText([]byte("3xx")); err == nil {
		t.Fatal("3xx parsed")
	}
	if _, err := mockserver.Success(9).MarshalText(); err == nil {
		t.Fatal("Success(9) marshalled")
	}
}
