package scenario

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBrokenFilesNameFileLineAndField(t *testing.T) {
	tests := map[string]struct {
		src  string
		want []string
	}{
		"unknown field": {"name: x\nsteps:\n  - request: {method: GET, path: /x, methd: POST}\n",
			[]string{`bad.yaml:3: step 1, request: unknown field "methd" (want one of auth, body, headers, json, method, path, query, timeout, url)`}},
		"unknown top-level field": {"name: x\nstep:\n  - request: {method: GET, path: /x}\n",
			[]string{`bad.yaml:2: unknown field "step"`}},
		"no kind": {"name: x\nsteps:\n  - name: nothing\n",
			[]string{"bad.yaml:3: step 1 (nothing): needs exactly one of request, control, receiver, callback, wait (has none)"}},
		"two kinds": {"name: x\nsteps:\n  - request: {method: GET, path: /x}\n    callback: {path: /y}\n",
			[]string{"bad.yaml:3: step 1: needs exactly one of request, control, receiver, callback, wait", "(has callback and request)"}},
		"bad status": {"name: x\nsteps:\n  - request: {method: GET, path: /x}\n    expect: {status: 42}\n",
			[]string{"bad.yaml:4: step 1, expect.status: want an HTTP status (100-599), got 42"}},
		"status text": {"name: x\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n      status: ok\n",
			[]string{"bad.yaml:5: step 1, expect.status", `"ok"`}},
		"bad regexp": {"name: x\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n      json:\n        a: {matches: '('}\n",
			[]string{"bad.yaml:6: step 1, expect.json.a.matches", "not a regular expression"}},
		"matcher typo": {"name: x\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n      json:\n        a: {equal: 1}\n",
			[]string{"bad.yaml:6", `unknown field "equal" (want one of contains, equals, exists, length, matches, one_of)`, "to compare a whole object write equals: {...}"}},
		"var too early": {"name: x\nsteps:\n  - name: use\n    request: {method: GET, path: '/a/${ref}'}\n  - request: {method: GET, path: /b}\n    capture: {ref: id}\n",
			[]string{"bad.yaml:4: step 1 (use), request.path: ${ref} is used before any step captures it"}},
		"var never captured, on its own line": {"name: x\nsteps:\n  - request:\n      method: POST\n      path: /a\n      json:\n        a: 1\n        b: ${nope}\n",
			[]string{"bad.yaml:8: step 1, request.json.b: ${nope} is used before any step captures it"}},
		"bearer without a token": {"name: x\nsteps:\n  - request: {method: GET, path: /connect_ats/jobs, auth: bearer}\n",
			[]string{"bad.yaml:3", "bearer auth needs an access token first"}},
		"bad duration": {"name: x\nsteps:\n  - control: {advance_clock: soon}\n",
			[]string{`bad.yaml:3: step 1, control.advance_clock: want a duration like 500ms, 10s or 15m1s, got "soon"`}},
		"negative duration": {"name: x\nsteps:\n  - request: {method: GET, path: /x, timeout: -1s}\n",
			[]string{`bad.yaml:3: step 1, request.timeout: want a duration of 0 or more, got "-1s"`}},
		"duration in a list": {"name: x\nsteps:\n  - receiver:\n      path: /x\n      delay: [1s]\n",
			[]string{`bad.yaml:5: step 1, receiver.delay: want a duration like 500ms, 10s or 15m1s, got a list`}},
		"two actions": {"name: x\nsteps:\n  - control: {freeze_clock: true, reset: true}\n",
			[]string{"bad.yaml:3: step 1, control: needs exactly one of advance_clock, set_clock, freeze_clock", "call (has freeze_clock and reset)"}},
		"bad auth": {"name: x\nsteps:\n  - request: {method: GET, path: /x, auth: oauth}\n",
			[]string{"bad.yaml:3: step 1, request.auth", "oauth"}},
		"bad receiver answer": {"name: x\nsteps:\n  - receiver: {path: /x, respond: [500, later]}\n",
			[]string{"bad.yaml:3: step 1, receiver.respond[1]: want an HTTP status (100-599) or down"}},
		"list for a map": {"name: x\nsteps:\n  - request: {method: GET, path: /x}\n    capture: [a, b]\n",
			[]string{"bad.yaml:4: step 1, capture: want a map"}},
		"status on a callback": {"name: x\nsteps:\n  - callback: {path: /x}\n    expect: {status: 200}\n",
			[]string{"bad.yaml:4: step 1, expect.status: a callback has no status"}},
		"bad fault": {"name: x\nsetup:\n  faults:\n    - {path: /x, break: fire}\nsteps:\n  - request: {method: GET, path: /x}\n",
			[]string{`bad.yaml:4: setup.faults[0].break: want empty_response, connection_reset or garbage, got "fire"`}},
		"bad clock": {"name: x\nsetup:\n  clock: {set: tomorrow}\nsteps:\n  - request: {method: GET, path: /x}\n",
			[]string{`bad.yaml:3: setup.clock.set: want an RFC 3339 time like 2026-01-05T09:00:00Z, got "tomorrow"`}},
		"wait on two things": {"name: x\nsteps:\n  - wait: {outbox: {}, journal: {}}\n",
			[]string{"bad.yaml:3: step 1, wait: needs exactly one of callbacks, outbox, journal"}},
		"duplicate key": {"name: x\nsteps:\n  - request: {method: GET, method: POST, path: /x}\n",
			[]string{`bad.yaml:3: step 1, request: "method" is given twice`}},
		"no name":             {"steps:\n  - request: {method: GET, path: /x}\n", []string{"bad.yaml:1: name is missing"}},
		"no steps":            {"name: x\n", []string{"bad.yaml:1: steps is missing"}},
		"empty steps":         {"name: x\nsteps: []\n", []string{"bad.yaml:2: steps: a scenario needs at least one step, got 0"}},
		"empty":               {"# nothing\n", []string{"bad.yaml: the file is empty"}},
		"not yaml":            {"name: x\nsteps:\n  - request: {method: GET\n", []string{"bad.yaml:4: YAML syntax", "(while parsing a flow mapping at line 3)"}},
		"tab for indentation": {"name: x\nsteps:\n\t- request: {method: GET, path: /x}\n", []string{"bad.yaml:3: YAML syntax"}},
		"several problems at once": {"name: x\nsteps:\n  - request: {method: GET}\n  - control: {}\n",
			[]string{"bad.yaml:3: step 1, request: needs path (on the target) or url", "bad.yaml:4: step 2, control: needs exactly one of advance_clock", "call (has none)"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("a broken file parsed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestGoodFileParses(t *testing.T) {
	s, err := Parse("good.yaml", []byte(`name: Every form
description: all the short and long forms
client: {client_id: other-client, client_secret: other-secret}
setup:
  clock: {set: "2026-01-05T09:00:00Z", advance: 1h, freeze: true}
  faults: [{path: /connect_ats/jobs, latency: 10ms}]
steps:
  - request: {method: POST, path: /connect_ats/access_token, auth: {basic: {client_id: "${client_id}", client_secret: "${client_secret}"}}}
    capture: {tok: access_token, trace: "header:X-Request-Id"}
  - &jobs
    request: {method: GET, path: /connect_ats/jobs, auth: {bearer: "${tok}"}, timeout: 2s, query: {a: "1"}}
    expect: {status: [200, 304], json: {$: {length: 1}}, headers: {Content-Type: {matches: json}}, body: {contains: id}}
  - *jobs
  - control: {expire_tokens: "*"}
  - control: {revoke_tokens: {client_id: demo-client}}
  - control: {complete: "${tok}"}
  - control: {complete: {reference_id: "${tok}", fit: high, scores: {planning: 5}}}
  - control: {call: {method: GET, path: /_mock/clock, query: {x: "${trace}"}}}
  - receiver: {path: /cb, respond: [500, down, 200], delay: 10ms}
  - callback: {path: /cb, count: 3, timeout: 1s}
    expect: {attempts: 3, json: {fit: {one_of: [low, medium, high]}}}
  - wait: {callbacks: {status: delivered}, min: 0, timeout: 1s}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(s.Before), 4; got != want {
		t.Fatalf("%d setup steps, want %d", got, want)
	}
	if s.Setup.Client.ID != "other-client" || s.Steps[2].Request == nil || s.Steps[2].Line != 13 {
		t.Fatalf("parsed wrong: %+v", s)
	}
	if s.Steps[3].Control.arg.(TokenTarget).ClientID != "" || s.Steps[4].Control.arg.(TokenTarget).ClientID != "demo-client" {
		t.Errorf("token targets wrong")
	}
	if got := s.Steps[8].Receiver.Respond; len(got) != 3 || got[1] != Down || got[2] != 200 {
		t.Errorf("respond = %v", got)
	}
}

func TestMatchers(t *testing.T) {
	v := Vars{"ref": "abc", "n": json.Number("3"), "list": []any{"a", "b"}}
	yes, no := true, false
	three := 3
	tests := map[string]struct {
		m       Matcher
		got     any
		found   bool
		wantErr string
	}{
		"equals number":          {Matcher{Equals: 3, hasEquals: true}, json.Number("3.0"), true, ""},
		"equals text vs number":  {Matcher{Equals: "3", hasEquals: true}, json.Number("3"), true, `expected "3", got 3`},
		"equals variable":        {Matcher{Equals: "${ref}", hasEquals: true}, "abc", true, ""},
		"equals typed variable":  {Matcher{Equals: "${n}", hasEquals: true}, json.Number("3"), true, ""},
		"equals list variable":   {Matcher{Equals: "${list}", hasEquals: true}, []any{"a", "b"}, true, ""},
		"equals in text":         {Matcher{Equals: "x-${ref}", hasEquals: true}, "x-abc", true, ""},
		"equals null":            {Matcher{Equals: nil, hasEquals: true}, nil, true, ""},
		"equals object":          {Matcher{Equals: map[string]any{"a": 1}, hasEquals: true}, map[string]any{"a": json.Number("1")}, true, ""},
		"unknown variable":       {Matcher{Equals: "${nope}", hasEquals: true}, "x", true, "${nope} has no value"},
		"exists":                 {Matcher{Exists: &yes}, nil, false, "expected it to exist, it is missing"},
		"missing as wanted":      {Matcher{Exists: &no}, nil, false, ""},
		"present, want missing":  {Matcher{Exists: &no}, "x", true, `expected it to be missing, got "x"`},
		"missing value":          {Matcher{Equals: "x", hasEquals: true}, nil, false, `expected "x", it is missing`},
		"matches":                {Matcher{Matches: `^a.c$`}, "abc", true, ""},
		"matches number":         {Matcher{Matches: `^\d+$`}, json.Number("42"), true, ""},
		"matches with variable":  {Matcher{Matches: `^${ref}$`}, "abd", true, "expected a match for /^abc$/"},
		"one of":                 {Matcher{OneOf: []any{"low", "high"}}, "medium", true, `expected one of ["low","high"], got "medium"`},
		"contains text":          {Matcher{Contains: "${ref}"}, "xxabcxx", true, ""},
		"contains list element":  {Matcher{Contains: "b"}, []any{"a", "b"}, true, ""},
		"contains key":           {Matcher{Contains: "k"}, map[string]any{"k": 1}, true, ""},
		"contains fails":         {Matcher{Contains: "z"}, "abc", true, `expected it to contain "z", got "abc"`},
		"length":                 {Matcher{Length: &three}, []any{1, 2}, true, "expected length 3, got [1,2] (length 2)"},
		"length of text":         {Matcher{Length: &three}, "abc", true, ""},
		"several must all agree": {Matcher{Exists: &yes, Contains: "a", Matches: "^b"}, "abc", true, "expected a match for /^b/"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.m.Check(tc.got, tc.found, v, false)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected failure: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestVariables(t *testing.T) {
	v := Vars{"s": "a b", "n": json.Number("7"), "o": map[string]any{"k": true}}
	if got, err := v.Text("x=${s}&n=${n}&o=${o}"); err != nil || got != `x=a b&n=7&o={"k":true}` {
		t.Errorf("text = %q, %v", got, err)
	}
	if got, err := v.Value("${n}"); err != nil || got != json.Number("7") {
		t.Errorf("value = %#v, %v", got, err)
	}
	tree, err := v.Tree(map[string]any{"a": []any{"${o}", "${s}!"}})
	if b, _ := json.Marshal(tree); err != nil || string(b) != `{"a":[{"k":true},"a b!"]}` {
		t.Errorf("tree = %s, %v", b, err)
	}
	if _, err := v.Text("${missing}"); err == nil || !strings.Contains(err.Error(), "known: n, o, s") {
		t.Errorf("a missing variable: %v", err)
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.yaml", "a.yml", "sub/c.yaml", "notes.txt"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Expand([]string{dir, filepath.Join(dir, "b.*")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a.yml"), filepath.Join(dir, "b.yaml"), filepath.Join(dir, "sub/c.yaml")}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Expand = %v, want %v", got, want)
	}
	if _, err := Expand([]string{filepath.Join(dir, "nope")}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("a missing path: %v", err)
	}
}
