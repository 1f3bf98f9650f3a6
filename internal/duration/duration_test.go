package duration

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"
)

func TestJSON(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    Duration
		wantErr string
	}{
		"go string":        {`"250ms"`, Duration(250 * time.Millisecond), ""},
		"compound":         {`"15m1s"`, Duration(15*time.Minute + time.Second), ""},
		"negative":         {`"-1h"`, Duration(-time.Hour), ""},
		"milliseconds":     {`250`, Duration(250 * time.Millisecond), ""},
		"fraction of a ms": {`1.5`, Duration(1500 * time.Microsecond), ""},
		"null leaves it":   {`null`, Duration(time.Second), ""},
		"not a duration":   {`"ten"`, 0, `"ten" is not a duration like 90s or 250ms`},
		"no unit":          {`"10"`, 0, `"10" is not a duration`},
		"neither":          {`true`, 0, `want a duration like "250ms" or a number of milliseconds, got true`},
		"an object":        {`{"ms": 1}`, 0, "want a duration like"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := Duration(time.Second)
			err := json.Unmarshal([]byte(tc.in), &d)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := d, tc.want; got != want {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func TestMarshalJSON(t *testing.T) {
	v := struct {
		Latency Duration `json:"latency"`
		Max     Duration `json:"max,omitempty"`
	}{Latency: Duration(90 * time.Second)}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"latency":"1m30s"}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	var back struct {
		Latency Duration `json:"latency"`
	}
	if err := json.Unmarshal(b, &back); err != nil || back.Latency != v.Latency {
		t.Fatalf("round trip: %v, %v", back.Latency, err)
	}
	if got, want := Duration(250*time.Millisecond).String(), "250ms"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestYAML(t *testing.T) {
	tests := map[string]struct {
		in       string
		want     Duration
		wantErr  string
		wantLine int
	}{
		"go string":      {in: `after: 90s`, want: Duration(90 * time.Second)},
		"compound":       {in: `after: 15m1s`, want: Duration(15*time.Minute + time.Second)},
		"quoted":         {in: `after: "250ms"`, want: Duration(250 * time.Millisecond)},
		"zero":           {in: `after: 0s`, want: 0},
		"null leaves it": {in: `after: ~`, want: Duration(time.Second)},
		"not a duration": {in: `after: ten`, wantErr: `want a duration like 500ms, 10s or 15m1s, got "ten"`, wantLine: 1},
		"no unit":        {in: `after: 90`, wantErr: `want a duration like 500ms, 10s or 15m1s, got "90"`, wantLine: 1},
		"negative":       {in: `after: -5s`, wantErr: `want a duration of 0 or more, got "-5s"`, wantLine: 1},
		"a list":         {in: "after:\n  - 1s\n", wantErr: "want a duration like 500ms, 10s or 15m1s, got a list", wantLine: 2},
		"a map":          {in: "\nafter: {s: 1}", wantErr: "want a duration like 500ms, 10s or 15m1s, got a map", wantLine: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := struct {
				After Duration `yaml:"after"`
			}{After: Duration(time.Second)}
			err := yaml.Unmarshal([]byte(tc.in), &v)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got, want := v.After, tc.want; got != want {
					t.Fatalf("got %v, want %v", got, want)
				}
				return
			}
			var errs *yaml.LoadErrors
			if !errors.As(err, &errs) || len(errs.Errors) != 1 {
				t.Fatalf("error = %#v, want one *yaml.LoadErrors", err)
			}
			if got, want := errs.Errors[0].Message, tc.wantErr; got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
			if got, want := errs.Errors[0].Mark.Line, tc.wantLine; got != want {
				t.Errorf("line = %d, want %d", got, want)
			}
		})
	}
}
