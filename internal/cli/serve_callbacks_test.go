package cli

import (
	"bytes"
	flagpkg "flag"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/mockserver"
)

func TestCallbackFlags(t *testing.T) {
	all := map[string]string{
		"EQUALTURE_MOCK_CALLBACK_WORKERS":      "2",
		"EQUALTURE_MOCK_CALLBACK_TIMEOUT":      "3s",
		"EQUALTURE_MOCK_CALLBACK_SCHEDULE":     "0s, 1s,1m",
		"EQUALTURE_MOCK_CALLBACK_MAX_ATTEMPTS": "5",
		"EQUALTURE_MOCK_CALLBACK_TIME_SCALE":   "0.001",
		"EQUALTURE_MOCK_CALLBACK_JITTER":       "0",
		"EQUALTURE_MOCK_CALLBACK_SUCCESS":      "2xx",
		"EQUALTURE_MOCK_CALLBACK_ALLOW_HOSTS":  "ats.local, *.example.com",
		"EQUALTURE_MOCK_AUTO_COMPLETE_AFTER":   "10m",
	}
	tests := map[string]struct {
		env   map[string]string
		args  []string
		want  mockserver.CallbackPolicy
		auto  time.Duration
		hosts string
	}{
		"defaults": {
			want: mockserver.CallbackPolicy{Workers: mockserver.DefaultCallbackWorkers, Timeout: mockserver.DefaultCallbackTimeout, Schedule: mockserver.DefaultCallbackSchedule(), TimeScale: 1, Jitter: mockserver.DefaultCallbackJitter, Success: mockserver.Success200},
		},
		"env": {
			env:   all,
			want:  mockserver.CallbackPolicy{Workers: 2, Timeout: 3 * time.Second, Schedule: []time.Duration{0, time.Second, time.Minute}, MaxAttempts: 5, TimeScale: 0.001, NoJitter: true, Success: mockserver.Success2xx},
			auto:  10 * time.Minute,
			hosts: "ats.local,*.example.com",
		},
		"flag beats env": {
			env:   all,
			args:  []string{"--callback-schedule", "5s", "--callback-allow-hosts", "hooks.local", "--auto-complete-after", "1h", "--callback-jitter", "0.2"},
			want:  mockserver.CallbackPolicy{Workers: 2, Timeout: 3 * time.Second, Schedule: []time.Duration{5 * time.Second}, MaxAttempts: 5, TimeScale: 0.001, Jitter: 0.2, Success: mockserver.Success2xx},
			auto:  time.Hour,
			hosts: "hooks.local",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var errb bytes.Buffer
			f, o := serveFlags(env(tc.env), &errb)
			if err := f.parse(tc.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := o.config()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprintf("%+v", cfg.Callbacks), fmt.Sprintf("%+v", tc.want); got != want {
				t.Fatalf("callbacks = %s\nwant        %s", got, want)
			}
			if got, want := cfg.AutoCompleteAfter, tc.auto; got != want {
				t.Fatalf("auto-complete after = %v, want %v", got, want)
			}
			if got, want := strings.Join(cfg.CallbackAllowHosts, ","), tc.hosts; got != want {
				t.Fatalf("allow hosts = %q, want %q", got, want)
			}
		})
	}
}

// Every numeric or enumerated serve flag refuses what the mock cannot run with — negative values,
// a zero where the flag's default is not zero, values out of range — with exit 2 and a message
// naming the flag (and its environment variable when the value came from there).
func TestServeRefusesBadValues(t *testing.T) {
	tests := map[string]struct {
		args []string
		env  map[string]string
		want string // in stderr
	}{
		"negative token TTL":          {args: []string{"--token-ttl", "-1s"}, want: "--token-ttl (or EQUALTURE_MOCK_TOKEN_TTL): -1s is negative"},
		"zero token TTL":              {args: []string{"--token-ttl", "0"}, want: "--token-ttl (or EQUALTURE_MOCK_TOKEN_TTL): 0 is not allowed"},
		"negative invitation TTL":     {args: []string{"--invitation-ttl", "-1h"}, want: "--invitation-ttl"},
		"zero invitation TTL":         {args: []string{"--invitation-ttl", "0s"}, want: "--invitation-ttl"},
		"negative public link TTL":    {args: []string{"--public-link-ttl", "-1m"}, want: "--public-link-ttl"},
		"zero public link TTL":        {args: []string{"--public-link-ttl", "0"}, want: "--public-link-ttl"},
		"negative auto-complete":      {args: []string{"--auto-complete-after", "-1m"}, want: "--auto-complete-after"},
		"negative workers":            {args: []string{"--callback-workers", "-3"}, want: "--callback-workers (or EQUALTURE_MOCK_CALLBACK_WORKERS): -3 is negative"},
		"zero workers":                {args: []string{"--callback-workers", "0"}, want: "--callback-workers"},
		"negative callback timeout":   {args: []string{"--callback-timeout", "-1s"}, want: "--callback-timeout"},
		"zero callback timeout":       {args: []string{"--callback-timeout", "0"}, want: "--callback-timeout"},
		"negative retry delay":        {args: []string{"--callback-schedule", "0s,-5s"}, want: "--callback-schedule (or EQUALTURE_MOCK_CALLBACK_SCHEDULE): delay -5s is negative"},
		"retry delay from env":        {env: map[string]string{"EQUALTURE_MOCK_CALLBACK_SCHEDULE": "0s,-5s"}, want: "EQUALTURE_MOCK_CALLBACK_SCHEDULE"},
		"schedule not durations":      {args: []string{"--callback-schedule", "soon"}, want: "callback-schedule"},
		"negative max attempts":       {args: []string{"--callback-max-attempts", "-1"}, want: "--callback-max-attempts"},
		"negative time scale":         {args: []string{"--callback-time-scale", "-1"}, want: "--callback-time-scale (or EQUALTURE_MOCK_CALLBACK_TIME_SCALE): -1 is negative"},
		"zero time scale":             {args: []string{"--callback-time-scale", "0"}, want: "--callback-time-scale"},
		"negative jitter":             {args: []string{"--callback-jitter", "-0.1"}, want: "--callback-jitter"},
		"jitter of 1":                 {args: []string{"--callback-jitter", "1"}, want: "--callback-jitter (or EQUALTURE_MOCK_CALLBACK_JITTER): 1 is outside [0, 1)"},
		"success 3xx":                 {args: []string{"--callback-success", "3xx"}, want: "-callback-success"},
		"success 3xx from env":        {env: map[string]string{"EQUALTURE_MOCK_CALLBACK_SUCCESS": "3xx"}, want: "EQUALTURE_MOCK_CALLBACK_SUCCESS"},
		"negative max body bytes":     {args: []string{"--max-body-bytes", "-1"}, want: "--max-body-bytes"},
		"zero max body bytes":         {args: []string{"--max-body-bytes", "0"}, want: "--max-body-bytes"},
		"negative journal size":       {args: []string{"--journal-size", "-1"}, want: "--journal-size"},
		"zero journal size":           {args: []string{"--journal-size", "0"}, want: "--journal-size"},
		"negative journal max bytes":  {args: []string{"--journal-max-bytes", "-1"}, want: "--journal-max-bytes"},
		"zero journal max bytes":      {args: []string{"--journal-max-bytes", "0"}, want: "--journal-max-bytes"},
		"allow-list bad CIDR":         {args: []string{"--callback-allow-hosts", "10.0.0.0/99"}, want: "--callback-allow-hosts (or EQUALTURE_MOCK_CALLBACK_ALLOW_HOSTS): egress: allow-list entry"},
		"negative shutdown timeout":   {args: []string{"--shutdown-timeout", "-1s"}, want: "--shutdown-timeout"},
		"public URL without a scheme": {args: []string{"--public-url", "localhost:8080"}, want: "--public-url"},
		"unknown log level":           {args: []string{"--log-level", "loud"}, want: "--log-level"},
		"unknown log format":          {args: []string{"--log-format", "xml"}, want: "--log-format"},
		"seed not a number":           {args: []string{"--seed", "x"}, want: "-seed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var errb bytes.Buffer
			// An address nothing can listen on: had the value been accepted, serve would fail
			// there, with exit 1.
			args := append([]string{"serve", "--addr", "256.0.0.1:0"}, tc.args...)
			if code := Main(t.Context(), args, env(tc.env), &errb, &errb); code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitUsage, errb.String())
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("stderr %q lacks %q", errb.String(), tc.want)
			}
		})
	}
	var errb bytes.Buffer
	Main(t.Context(), []string{"serve", "--addr", "256.0.0.1:0", "--token-ttl", "-1s", "--callback-workers", "-3"}, env(nil), &errb, &errb)
	if !strings.Contains(errb.String(), "--token-ttl") || !strings.Contains(errb.String(), "--callback-workers") {
		t.Fatalf("two bad flags, one named: %s", errb.String())
	}
}

// Every serve flag sets a field of the mock's Config, but those of the process itself (where to
// listen, the log, shutdown), so the command line and Go programs configure the same thing.
func TestEveryServeFlagSetsAConfigField(t *testing.T) {
	f, _ := serveFlags(env(nil), &bytes.Buffer{})
	process := map[string]bool{"addr": true, "log-format": true, "log-level": true, "shutdown-timeout": true}
	mapped := map[string]bool{}
	for _, row := range configFlags {
		if f.Lookup(row.flag) == nil {
			t.Errorf("configFlags names %s, which serve lacks", row.flag)
		}
		mapped[row.flag] = true
	}
	f.VisitAll(func(fl *flagpkg.Flag) {
		if !mapped[fl.Name] && !process[fl.Name] {
			t.Errorf("--%s sets no Config field", fl.Name)
		}
	})
	// And the other way: every Config field is a flag's, or set by serve itself.
	notFlags := map[string]bool{"Clock": true, "Logger": true, "Callbacks.NoJitter": true, "ListenAddrs": true}
	fields := map[string]bool{}
	for _, row := range configFlags {
		fields[row.field] = true
	}
	for _, name := range configFieldNames(reflect.TypeFor[mockserver.Config](), "") {
		if !fields[name] && !notFlags[name] {
			t.Errorf("Config.%s has no serve flag", name)
		}
	}
}

// configFieldNames lists the fields of a Config (struct) type, those of the callback policy as
// "Callbacks.X".
func configFieldNames(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type == reflect.TypeFor[mockserver.CallbackPolicy]() {
			out = append(out, configFieldNames(f.Type, prefix+f.Name+".")...)
			continue
		}
		out = append(out, prefix+f.Name)
	}
	return out
}
