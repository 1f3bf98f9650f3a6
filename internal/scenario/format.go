// Package scenario reads, checks and runs QA scenarios: YAML files of ordered steps — vendor API
// requests with expectations and captures, control API actions, receiver behaviour and waits for
// callbacks — against a running mock or one started in-process. Every vendor API answer is checked
// against openapi.yaml and every callback against its callback schema, whatever the file says.
package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Scenario is one file.
type Scenario struct {
	File        string `yaml:"-"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Client is whose credentials "basic" auth uses (default demo-client / demo-secret).
	Client Credentials `yaml:"client"`
	Steps  []Step      `yaml:"steps"`
}

// Credentials are a client id and secret.
type Credentials struct {
	ID     string `yaml:"client_id"`
	Secret string `yaml:"client_secret"`
}

// Step is one thing to do: exactly one of Request, Control, Receiver, Callback.
type Step struct {
	Name     string            `yaml:"name"`
	Request  *Request          `yaml:"request"`
	Control  *Control          `yaml:"control"`
	Receiver *ReceiverSetup    `yaml:"receiver"`
	Callback *CallbackWait     `yaml:"callback"`
	Expect   *Expect           `yaml:"expect"`
	Capture  map[string]string `yaml:"capture"`

	line int
}

// Request is an HTTP request; Path is joined to the target, URL is used as it is.
type Request struct {
	Method  string            `yaml:"method"`
	Path    string            `yaml:"path"`
	URL     string            `yaml:"url"`
	Query   map[string]string `yaml:"query"`
	Headers map[string]string `yaml:"headers"`
	Auth    Auth              `yaml:"auth"`
	JSON    any               `yaml:"json"`
	Body    string            `yaml:"body"`
	Timeout Duration          `yaml:"timeout"`
}

// Auth is "basic" (the scenario's client), "bearer" (the access_token variable), "none", or a
// map: {basic: {client_id, client_secret}}, {bearer: "${token}"}, {header: "Bearer x"}.
type Auth struct {
	Kind   string // basic, bearer, none, header
	Basic  Credentials
	Bearer string
	Header string
}

// UnmarshalYAML reads the short or the long form.
func (a *Auth) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "basic", "bearer", "none":
			a.Kind = n.Value
			return nil
		}
		return fmt.Errorf("line %d: auth %q: want basic, bearer, none or a map", n.Line, n.Value)
	}
	var m struct {
		Basic  *Credentials `yaml:"basic"`
		Bearer *string      `yaml:"bearer"`
		Header *string      `yaml:"header"`
	}
	if err := decodeStrict(n, &m); err != nil {
		return err
	}
	switch {
	case m.Basic != nil:
		a.Kind, a.Basic = "basic", *m.Basic
	case m.Bearer != nil:
		a.Kind, a.Bearer = "bearer", *m.Bearer
	case m.Header != nil:
		a.Kind, a.Header = "header", *m.Header
	default:
		return fmt.Errorf("line %d: auth needs basic, bearer or header", n.Line)
	}
	return nil
}

// Control is a control API action: exactly one field. Call is the general form.
type Control struct {
	AdvanceClock     string          `yaml:"advance_clock"`
	SetClock         string          `yaml:"set_clock"`
	FreezeClock      bool            `yaml:"freeze_clock"`
	UnfreezeClock    bool            `yaml:"unfreeze_clock"`
	ResetClock       bool            `yaml:"reset_clock"`
	Start            string          `yaml:"start"`
	Complete         *Complete       `yaml:"complete"`
	ExpireInvitation string          `yaml:"expire_invitation"`
	ExpireTokens     *TokenTarget    `yaml:"expire_tokens"`
	RevokeTokens     *TokenTarget    `yaml:"revoke_tokens"`
	AddFault         map[string]any  `yaml:"add_fault"`
	ClearFaults      bool            `yaml:"clear_faults"`
	Redeliver        string          `yaml:"redeliver"`
	Reset            bool            `yaml:"reset"`
	Call             *ControlRequest `yaml:"call"`
}

// Complete completes an application, optionally with a fit or scores.
type Complete struct {
	ReferenceID string         `yaml:"reference_id"`
	Fit         string         `yaml:"fit"`
	Scores      map[string]int `yaml:"scores"`
}

// TokenTarget names the client whose tokens stop working (all when empty).
type TokenTarget struct {
	ClientID string `yaml:"client_id"`
}

// ControlRequest is any control API call.
type ControlRequest struct {
	Method string `yaml:"method"`
	Path   string `yaml:"path"`
	JSON   any    `yaml:"json"`
}

// ReceiverSetup sets how the runner's callback receiver answers on a path.
type ReceiverSetup struct {
	Path    string   `yaml:"path"`
	Respond []int    `yaml:"respond"` // statuses in turn, the last repeating (default 200)
	Delay   Duration `yaml:"delay"`
}

// CallbackWait waits until the receiver has got Count callbacks on Path.
type CallbackWait struct {
	Path    string   `yaml:"path"`
	Count   int      `yaml:"count"`
	Timeout Duration `yaml:"timeout"`
}

// Expect are expectations on an answer (or, for callback steps, on the last callback).
type Expect struct {
	Status  Statuses           `yaml:"status"`
	Headers map[string]Matcher `yaml:"headers"`
	JSON    map[string]Matcher `yaml:"json"`
	Error   string             `yaml:"error"` // "timeout" or "connection": the request must fail so
}

// Statuses is one status or a list of them.
type Statuses []int

// UnmarshalYAML reads 200 or [200, 201].
func (s *Statuses) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var v int
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: status %q is not a number", n.Line, n.Value)
		}
		*s = Statuses{v}
		return nil
	}
	var v []int
	if err := n.Decode(&v); err != nil {
		return fmt.Errorf("line %d: status must be a number or a list of numbers", n.Line)
	}
	*s = v
	return nil
}

// Duration is a Go duration in YAML ("10s").
type Duration time.Duration

// UnmarshalYAML parses "10s".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 10s", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// decodeStrict decodes n into v refusing unknown fields.
func decodeStrict(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return shiftLines(err, n.Line-1)
	}
	return nil
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// shiftLines fixes the line numbers of an error from re-decoding a node.
func shiftLines(err error, by int) error {
	msg := lineRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
		var n int
		fmt.Sscanf(m, "line %d", &n)
		return fmt.Sprintf("line %d", n+by)
	})
	return errors.New(msg)
}

// Parse reads a scenario file's bytes; errors name the file, the line and the field.
func Parse(file string, data []byte) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: empty file", file)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	s.File = file
	recordLines(&root, &s)
	if err := s.Check(); err != nil {
		return nil, err
	}
	return &s, nil
}

// recordLines notes where each step starts, for messages.
func recordLines(root *yaml.Node, s *Scenario) {
	doc := root.Content[0]
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "steps" {
			for j, st := range doc.Content[i+1].Content {
				if j < len(s.Steps) {
					s.Steps[j].line = st.Line
				}
			}
		}
	}
}

// Load reads a file.
func Load(file string) (*Scenario, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, b)
}

// Expand turns files, directories and globs into scenario files, sorted.
func Expand(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		matches, err := filepath.Glob(a)
		if err != nil {
			return nil, fmt.Errorf("bad pattern %q: %w", a, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("%s: no such file or directory", a)
		}
		for _, m := range matches {
			info, err := os.Stat(m)
			if err != nil {
				return nil, err
			}
			if !info.IsDir() {
				files = append(files, m)
				continue
			}
			inDir, _ := filepath.Glob(filepath.Join(m, "*.yaml"))
			files = append(files, inDir...)
		}
	}
	sort.Strings(files)
	return files, nil
}

// builtins are the variables every scenario has.
var builtins = []string{"base_url", "control_url", "receiver", "client_id", "client_secret", "job_id", "other_job_id", "unique"}

var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Check finds what would break at run time: a step with no or two kinds, missing fields, bad
// regexps and statuses, variables used before any step captures them.
func (s *Scenario) Check() error {
	var errs []error
	at := func(i int, st Step) string {
		name := st.Name
		if name == "" {
			name = fmt.Sprintf("step %d", i+1)
		}
		return fmt.Sprintf("%s:%d: steps[%d] (%s)", s.File, st.line, i, name)
	}
	if s.Name == "" {
		errs = append(errs, fmt.Errorf("%s: name is missing", s.File))
	}
	if len(s.Steps) == 0 {
		errs = append(errs, fmt.Errorf("%s: steps is empty", s.File))
	}
	known := map[string]bool{"access_token": true}
	for _, b := range builtins {
		known[b] = true
	}
	for i, st := range s.Steps {
		kinds := 0
		for _, present := range []bool{st.Request != nil, st.Control != nil, st.Receiver != nil, st.Callback != nil} {
			if present {
				kinds++
			}
		}
		if kinds != 1 {
			errs = append(errs, fmt.Errorf("%s: a step needs exactly one of request, control, receiver, callback (has %d)", at(i, st), kinds))
			continue
		}
		if r := st.Request; r != nil {
			if r.Method == "" || (r.Path == "" && r.URL == "") {
				errs = append(errs, fmt.Errorf("%s: request needs method and path (or url)", at(i, st)))
			}
			if r.JSON != nil && r.Body != "" {
				errs = append(errs, fmt.Errorf("%s: request has both json and body", at(i, st)))
			}
		}
		if c := st.Control; c != nil {
			if n := c.actions(); n != 1 {
				errs = append(errs, fmt.Errorf("%s: control needs exactly one action (has %d)", at(i, st), n))
			}
			if c.AdvanceClock != "" {
				if _, err := time.ParseDuration(c.AdvanceClock); err != nil {
					errs = append(errs, fmt.Errorf("%s: control.advance_clock %q is not a duration", at(i, st), c.AdvanceClock))
				}
			}
		}
		if cb := st.Callback; cb != nil && cb.Path == "" {
			errs = append(errs, fmt.Errorf("%s: callback.path is missing", at(i, st)))
		}
		if rs := st.Receiver; rs != nil && rs.Path == "" {
			errs = append(errs, fmt.Errorf("%s: receiver.path is missing", at(i, st)))
		}
		if e := st.Expect; e != nil {
			for _, code := range e.Status {
				if code < 100 || code > 599 {
					errs = append(errs, fmt.Errorf("%s: expect.status %d is not an HTTP status", at(i, st), code))
				}
			}
			if e.Error != "" && e.Error != "timeout" && e.Error != "connection" {
				errs = append(errs, fmt.Errorf("%s: expect.error %q: want timeout or connection", at(i, st), e.Error))
			}
		}
		for _, v := range usedVars(st) {
			if !known[v] {
				errs = append(errs, fmt.Errorf("%s: ${%s} is used before any step captures it", at(i, st), v))
			}
		}
		for name := range st.Capture {
			known[name] = true
		}
	}
	return errors.Join(errs...)
}

func (c *Control) actions() int {
	n := 0
	for _, set := range []bool{c.AdvanceClock != "", c.SetClock != "", c.FreezeClock, c.UnfreezeClock, c.ResetClock,
		c.Start != "", c.Complete != nil, c.ExpireInvitation != "", c.ExpireTokens != nil, c.RevokeTokens != nil,
		c.AddFault != nil, c.ClearFaults, c.Redeliver != "", c.Reset, c.Call != nil} {
		if set {
			n++
		}
	}
	return n
}

// usedVars lists the ${vars} a step refers to.
func usedVars(st Step) []string {
	b, _ := yaml.Marshal(Step{Request: st.Request, Control: st.Control, Receiver: st.Receiver, Callback: st.Callback, Expect: st.Expect})
	var out []string
	for _, m := range varRE.FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	return out
}

// MarshalYAML lets usedVars see an Auth's strings.
func (a Auth) MarshalYAML() (any, error) {
	return map[string]string{"kind": a.Kind, "bearer": a.Bearer, "header": a.Header, "id": a.Basic.ID, "secret": a.Basic.Secret}, nil
}

// Label names a step for messages.
func (st Step) Label(i int) string {
	if st.Name != "" {
		return st.Name
	}
	switch {
	case st.Request != nil:
		return strings.TrimSpace(st.Request.Method + " " + st.Request.Path + st.Request.URL)
	case st.Control != nil:
		return "control"
	case st.Receiver != nil:
		return "receiver " + st.Receiver.Path
	case st.Callback != nil:
		return "callback " + st.Callback.Path
	}
	return fmt.Sprintf("step %d", i+1)
}
