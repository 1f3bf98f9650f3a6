package scenario

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/spec"
)

// schemaComment is the first line of every library file: editors with the YAML language server
// (VS Code's YAML extension) complete and check the file with the schema next to it.
const schemaComment = "# yaml-language-server: $schema=./scenario.schema.json"

func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	s, err := loadSchema()
	if err != nil {
		t.Fatal(err)
	}
	return s.doc.(map[string]any)
}

// def is a schema's $defs entry.
func def(t *testing.T, name string) map[string]any {
	t.Helper()
	d := mapOf(mapOf(schemaDoc(t)["$defs"])[name])
	if d == nil {
		t.Fatalf("the schema has no $defs/%s", name)
	}
	return d
}

// Every file of the library names the schema in its first line, and the schema accepts it.
func TestLibraryValidatesAgainstTheSchema(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(files) < 14 {
		t.Fatalf("library: %v, %v", files, err)
	}
	sch, err := loadSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(src), "\n")
		if first != schemaComment {
			t.Errorf("%s: the first line is %q, want %q", f, first, schemaComment)
		}
		ref, _ := strings.CutPrefix(first, "# yaml-language-server: $schema=")
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(f), ref)); err != nil || !bytes.Equal(b, assets.ScenarioSchema()) {
			t.Errorf("%s: its $schema %s is not the schema the runner uses (%v)", f, ref, err)
		}
		doc, err := parseYAML(f, src)
		if err != nil {
			t.Fatal(err)
		}
		tr := newTree(f, doc)
		if errs := append(tr.errs, sch.check(tr)...); len(errs) > 0 {
			t.Errorf("the schema refuses %s:\n%v", f, joinSorted(errs))
		}
		if _, err := Parse(f, src); err != nil {
			t.Errorf("%v", err)
		}
	}
}

// A broken file gets one error per problem, each at its line, in the order of the lines.
func TestEveryProblemAtItsLine(t *testing.T) {
	tests := map[string]struct {
		src  string
		want []string
	}{
		"the format (schema)": {`name: Broken
steps:
  - request: {method: GET, path: jobs}
  - control: {advance_clock: soon}
  - receiver: {path: /r, respond: [200, 42, later]}
  - wait: {outbox: {}, min: -1}
    expect: {attempts: 2}
  - name: typo
    callback: {path: /cb, cuont: 2}
  - request: {method: GET, url: "${receiver}/x", auth: {bearer: a, header: b}}
    capture: {my-ref: id}
`, []string{
			`f.yaml:3: step 1, request.path: want a path starting with /, got "jobs"`,
			`f.yaml:4: step 2, control.advance_clock: want a duration like 500ms, 10s or 15m1s, got "soon"`,
			`f.yaml:5: step 3, receiver.respond[1]: want an HTTP status (100-599), got 42`,
			`f.yaml:5: step 3, receiver.respond[2]: want an HTTP status (100-599) or down, got "later"`,
			`f.yaml:6: step 4, wait.min: want 0 or more, got -1`,
			`f.yaml:7: step 4, expect.attempts: only callback steps count attempts`,
			`f.yaml:9: step 5 (typo), callback: unknown field "cuont" (want one of count, path, secret, timeout, type)`,
			`f.yaml:10: step 6, request.auth: needs exactly one of basic, bearer, header (has bearer and header)`,
			`f.yaml:11: step 6, capture: "my-ref" is not a variable name (letters, digits and _)`,
		}},
		"what the schema cannot say": {`name: Broken
setup:
  faults:
    - {path: /x, times: 1}
steps:
  - request: {method: GET, path: "/a/${ref}"}
    expect: {json: {id: {matches: '[a-'}}}
    capture: {job_id: id}
  - callback: {path: /hooks, secret: whsec_short}
  - control: {add_fault: {method: "GET /x", status: 503}}
`, []string{
			`f.yaml:4: setup.faults[0].status: a rule needs an effect: status, latency or break`,
			`f.yaml:6: step 1, request.path: ${ref} is used before any step captures it`,
			"f.yaml:7: step 1, expect.json.id.matches: \"[a-\" is not a regular expression: error parsing regexp: missing closing ]: `[a-`",
			`f.yaml:8: step 1, capture.job_id: "job_id" is a built-in variable; pick another name`,
			`f.yaml:9: step 2, callback.secret: the webhook's secret must be whsec_ followed by the base64 of 24 to 64 random bytes`,
			`f.yaml:10: step 3, control.add_fault.method: must be an HTTP method such as GET or POST`,
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("a broken file parsed")
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// The schema's control actions are the actions table's, each example of each decodes through
// the table into a control API request, and docs/scenarios.md shows each.
func TestActionsTableMatchesTheSchema(t *testing.T) {
	control := def(t, "control")
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = a.name
	}
	if got := slices.Sorted(maps.Keys(mapOf(control["properties"]))); !slices.Equal(got, slices.Sorted(slices.Values(names))) {
		t.Errorf("the schema's control properties are %v, the table's actions %v", got, names)
	}
	if got := exactlyOne(control); !slices.Equal(got, names) {
		t.Errorf("the schema's control oneOf is %v, want the table's actions in order %v", got, names)
	}
	docs, err := os.ReadFile("../../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	s, err := loadSchema()
	if err != nil {
		t.Fatal(err)
	}
	v := Vars{"ref": "r-1", "client_id": "demo-client", "rule": "fault-1", "delivery": "d-1"}
	for _, a := range actions {
		if !bytes.Contains(docs, []byte("`"+a.name+":")) {
			t.Errorf("docs/scenarios.md does not show the action %s", a.name)
		}
		prop := mapOf(mapOf(control["properties"])[a.name])
		examples, _ := prop["examples"].([]any)
		if ref := str(prop["$ref"]); ref != "" && examples == nil {
			examples, _ = s.subschema(ref)["examples"].([]any)
		}
		if len(examples) == 0 {
			t.Errorf("the schema shows no example of %s", a.name)
		}
		for _, ex := range examples {
			b, _ := json.Marshal(map[string]any{a.name: ex})
			src := "name: x\nsteps:\n  - {request: {method: GET, path: /x}, capture: {ref: a, rule: b, delivery: c}}\n  - control: " + string(b) + "\n"
			sc, err := Parse("example.yaml", []byte(src))
			if err != nil {
				t.Errorf("the example %s: %v", b, err)
				continue
			}
			c := sc.Steps[1].Control
			call, err := c.Call(v)
			if c.Action != a.name || err != nil || call.Method == "" || !strings.HasPrefix(call.Path, "/") || call.What == "" {
				t.Errorf("the example %s: %s calls %+v, %v", b, c.Action, call, err)
			}
		}
	}
}

// The schema's fault rule is the control API's FaultRule: the same fields, types, bounds and
// ways to break the wire.
func TestFaultRuleMatchesTheControlContract(t *testing.T) {
	ctl, err := spec.Control()
	if err != nil {
		t.Fatal(err)
	}
	rule := ctl.Doc.Components.Schemas["FaultRule"].Value
	ours := mapOf(def(t, "fault")["properties"])
	var theirs []string
	for name, p := range rule.Properties {
		if p.Value.ReadOnly {
			continue
		}
		theirs = append(theirs, name)
		mine := mapOf(ours[name])
		if mine == nil {
			continue
		}
		if strings.HasSuffix(p.Ref, "/Duration") {
			if str(mine["$ref"]) != "#/$defs/duration" {
				t.Errorf("%s is a duration in the control API, %v here", name, mine)
			}
			continue
		}
		if typ := p.Value.Type; typ != nil && !typ.IsEmpty() && str(mine["type"]) != typ.Slice()[0] && mine["enum"] == nil {
			t.Errorf("%s is %v in the control API, %v here", name, typ.Slice(), mine["type"])
		}
		if p.Value.Enum != nil && !slices.Equal(toStrings(p.Value.Enum), toStrings(mine["enum"].([]any))) {
			t.Errorf("%s is one of %v in the control API, %v here", name, p.Value.Enum, mine["enum"])
		}
		for kw, bound := range map[string]*float64{"minimum": p.Value.Min, "maximum": p.Value.Max} {
			got, ok := mine[kw]
			if bound == nil && ok || bound != nil && (!ok || Text(got) != Text(*bound)) {
				t.Errorf("%s's %s is %v in the control API, %v here", name, kw, bound, got)
			}
		}
	}
	if got, want := slices.Sorted(maps.Keys(ours)), slices.Sorted(slices.Values(theirs)); !slices.Equal(got, want) {
		t.Errorf("the schema's fault rule has %v, the control API's %v", got, want)
	}
}

// A callback step's type is one of the webhook events openapi.yaml documents.
func TestEventTypesMatchTheContract(t *testing.T) {
	vendor, err := spec.Vendor()
	if err != nil {
		t.Fatal(err)
	}
	typ := mapOf(mapOf(def(t, "callback")["properties"])["type"])
	enum := toStrings(mapOf(typ["anyOf"].([]any)[0])["enum"].([]any))
	if want := vendor.Callbacks(receiver.WebhookOperation); !slices.Equal(slices.Sorted(slices.Values(enum)), slices.Sorted(slices.Values(want))) {
		t.Errorf("the schema's event types are %v, the contract's %v", enum, want)
	}
}

func toStrings(vals []any) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = Text(v)
	}
	return out
}

// BenchmarkParseLibrary is what `scenario validate scenarios/` pays per file: YAML, schema,
// decoding and checks (the schema is compiled once, before).
func BenchmarkParseLibrary(b *testing.B) {
	files, _ := filepath.Glob("../../scenarios/*.yaml")
	srcs := make([][]byte, len(files))
	for i, f := range files {
		srcs[i], _ = os.ReadFile(f)
	}
	if _, err := loadSchema(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for i, src := range srcs {
			if _, err := Parse(files[i], src); err != nil {
				b.Fatal(err)
			}
		}
	}
}
