package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/delivery"
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
		env     map[string]string
		args    []string
		want    delivery.Config
		auto    time.Duration
		hosts   string
		wantErr string
	}{
		"defaults": {
			want: delivery.Config{Workers: delivery.DefaultWorkers, Timeout: delivery.DefaultTimeout, Schedule: delivery.DefaultSchedule, TimeScale: 1, Jitter: delivery.DefaultJitter, Success: "200"},
		},
		"env": {
			env:   all,
			want:  delivery.Config{Workers: 2, Timeout: 3 * time.Second, Schedule: []time.Duration{0, time.Second, time.Minute}, MaxAttempts: 5, TimeScale: 0.001, Success: "2xx"},
			auto:  10 * time.Minute,
			hosts: "ats.local,*.example.com",
		},
		"flag beats env": {
			env:   all,
			args:  []string{"--callback-schedule", "5s", "--callback-allow-hosts", "hooks.local", "--auto-complete-after", "1h"},
			want:  delivery.Config{Workers: 2, Timeout: 3 * time.Second, Schedule: []time.Duration{5 * time.Second}, MaxAttempts: 5, TimeScale: 0.001, Success: "2xx"},
			auto:  time.Hour,
			hosts: "hooks.local",
		},
		"bad schedule names var": {env: map[string]string{"EQUALTURE_MOCK_CALLBACK_SCHEDULE": "0s,-5s"}, wantErr: "EQUALTURE_MOCK_CALLBACK_SCHEDULE"},
		"bad timeout is usage":   {args: []string{"--callback-timeout", "soon"}, wantErr: "callback-timeout"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var errb bytes.Buffer
			f, o := serveFlags(env(tc.env), &errb)
			err := f.parse(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error()+errb.String(), tc.wantErr) {
					t.Fatalf("parse error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprintf("%+v", o.callbacks), fmt.Sprintf("%+v", tc.want); got != want {
				t.Fatalf("callbacks = %s\nwant        %s", got, want)
			}
			if got, want := o.autoComplete, tc.auto; got != want {
				t.Fatalf("auto-complete after = %v, want %v", got, want)
			}
			if got, want := strings.Join(o.allowHosts, ","), tc.hosts; got != want {
				t.Fatalf("allow hosts = %q, want %q", got, want)
			}
		})
	}
}
