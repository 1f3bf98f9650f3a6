// Package scenario is the format of QA scenarios: YAML files of ordered steps — vendor API
// requests with expectations and captures, control API actions, callback receiver behaviour,
// waits for callbacks and for the mock's records. scenarios/scenario.schema.json (a JSON Schema)
// describes the format; Parse validates a file against it, decodes it into the types here and
// checks what a schema cannot say (variables captured before use, fault rules, regular
// expressions), naming the file, line and field of every problem. The runner is
// internal/scenario/run; docs/scenarios.md describes the format for people.
package scenario

import (
	"fmt"
	"strconv"

	"github.com/equalture/equalture-mock/internal/duration"

	"go.yaml.in/yaml/v4"
)

// The types below are decoded with yaml from a document the schema has already accepted: their
// UnmarshalYAML methods read the short and long forms the schema allows and need not judge them.

// Scenario is one file.
type Scenario struct {
	File        string `yaml:"-"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Setup       Setup  `yaml:"setup"`
	// Client is short for Setup.Client.
	Client *Credentials `yaml:"client"`
	Steps  []Step       `yaml:"steps"`

	// Before is Setup as control steps, run before Steps.
	Before []Step `yaml:"-"`

	uses []varUse // the ${variables} the file uses
}

// Uses reports whether the scenario uses a variable anywhere.
func (s *Scenario) Uses(name string) bool {
	for _, u := range s.uses {
		if u.name == name {
			return true
		}
	}
	return false
}

// Setup is what holds for the whole scenario before its first step.
type Setup struct {
	// Client is whose credentials "auth: basic" sends and whose jobs ${job_id} names
	// (default demo-client / demo-secret).
	Client *Credentials `yaml:"client"`
	Clock  *ClockSetup  `yaml:"clock"`
	Faults []Fault      `yaml:"faults"`
}

// Credentials are a client id and secret.
type Credentials struct {
	ID     string `yaml:"client_id"`
	Secret string `yaml:"client_secret"`
}

// ClockSetup sets, advances and freezes the mock's clock, in that order.
type ClockSetup struct {
	Set     string             `yaml:"set"`
	Advance *duration.Duration `yaml:"advance"`
	Freeze  bool               `yaml:"freeze"`
}

// Step is one thing to do: exactly one of Request, Control, Receiver, Callback, Wait, with
// expectations on its outcome and values to capture from it.
type Step struct {
	Name     string            `yaml:"name"`
	Request  *Request          `yaml:"request"`
	Control  *Control          `yaml:"control"`
	Receiver *ReceiverSetup    `yaml:"receiver"`
	Callback *CallbackWait     `yaml:"callback"`
	Wait     *Wait             `yaml:"wait"`
	Expect   *Expect           `yaml:"expect"`
	Capture  map[string]string `yaml:"capture"`

	// Path is where the step is in the file (steps[3], setup.clock.set), Line its line.
	Path string `yaml:"-"`
	Line int    `yaml:"-"`
}

// Request is an HTTP request to the target: Path is joined to the target's base URL, URL (a link
// the mock handed out) is used as it is.
type Request struct {
	Method  string            `yaml:"method"`
	Path    string            `yaml:"path"`
	URL     string            `yaml:"url"`
	Query   map[string]string `yaml:"query"`
	Headers map[string]string `yaml:"headers"`
	Auth    Auth              `yaml:"auth"`
	JSON    any               `yaml:"json"`
	Body    string            `yaml:"body"`
	// Timeout is the client's patience (default 30s); a request that takes longer fails the
	// step unless it expects `error: timeout`.
	Timeout duration.Duration `yaml:"timeout"`
}

// Auth is how a request authenticates. Short forms: basic (the scenario's client), bearer (the
// last access token received), none. Long forms: {basic: {client_id, client_secret}},
// {bearer: "${token}"}, {header: "<literal Authorization value>"}.
type Auth struct {
	Kind   string // "", basic, bearer, none, header
	Basic  *Credentials
	Bearer string
	Header string
}

// UnmarshalYAML reads the short and the long forms.
func (a *Auth) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		a.Kind = n.Value
		return nil
	}
	var long struct {
		Basic  *Credentials `yaml:"basic"`
		Bearer *string      `yaml:"bearer"`
		Header *string      `yaml:"header"`
	}
	if err := n.Decode(&long); err != nil {
		return err
	}
	switch {
	case long.Basic != nil:
		a.Kind, a.Basic = "basic", long.Basic
	case long.Bearer != nil:
		a.Kind, a.Bearer = "bearer", *long.Bearer
	case long.Header != nil:
		a.Kind, a.Header = "header", *long.Header
	}
	return nil
}

// TokenTarget is whose tokens expire or are revoked: a client id (`expire_tokens: ${client_id}`
// or `{client_id: other-client}`), or every client (`"*"` or `{}`).
type TokenTarget struct {
	ClientID string `yaml:"client_id"`
}

// UnmarshalYAML reads a client id, "*" or {client_id}.
func (t *TokenTarget) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if n.Value != "*" {
			t.ClientID = n.Value
		}
		return nil
	}
	type plain TokenTarget
	return n.Decode((*plain)(t))
}

func (t TokenTarget) String() string {
	if t.ClientID == "" {
		return "every client"
	}
	return t.ClientID
}

// Complete completes an application as if the applicant finished the assessment, optionally
// with a fit or trait scores. Short form: `complete: ${ref}`.
type Complete struct {
	ReferenceID string         `yaml:"reference_id"`
	Fit         string         `yaml:"fit"`
	Scores      map[string]int `yaml:"scores"`
}

// UnmarshalYAML reads a reference id or the long form.
func (c *Complete) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		c.ReferenceID = n.Value
		return nil
	}
	type plain Complete
	return n.Decode((*plain)(c))
}

// Fault is a fault rule of the control API (control-openapi.yaml, FaultRule); the fault package
// judges it (Parse calls its check).
type Fault struct {
	Method      string            `yaml:"method" json:"method,omitempty"`
	Path        string            `yaml:"path" json:"path,omitempty"`
	ClientID    string            `yaml:"client_id" json:"client_id,omitempty"`
	Nth         int               `yaml:"nth" json:"nth,omitempty"`
	Times       int               `yaml:"times" json:"times,omitempty"`
	Probability float64           `yaml:"probability" json:"probability,omitempty"`
	Status      int               `yaml:"status" json:"status,omitempty"`
	Headers     map[string]string `yaml:"headers" json:"headers,omitempty"`
	Body        any               `yaml:"body" json:"body,omitempty"`
	Latency     duration.Duration `yaml:"latency" json:"latency,omitempty"`
	LatencyMax  duration.Duration `yaml:"latency_max" json:"latency_max,omitempty"`
	Break       string            `yaml:"break" json:"break,omitempty"`
}

// ControlRequest is any control API request; Path may leave out the /_mock prefix.
type ControlRequest struct {
	Method string            `yaml:"method"`
	Path   string            `yaml:"path"`
	Query  map[string]string `yaml:"query"`
	JSON   any               `yaml:"json"`
}

// ReceiverSetup sets how the runner's callback receiver answers on a path: statuses in turn (the
// last one repeating; default 200), "down" for an attempt whose connection is dropped unanswered,
// and a delay before each answer.
type ReceiverSetup struct {
	Path    string            `yaml:"path"`
	Respond []Answer          `yaml:"respond"`
	Down    bool              `yaml:"down"`
	Delay   duration.Duration `yaml:"delay"`
}

// Answer is a status the receiver answers, or Down: drop the connection.
type Answer int

// Down is the Answer that drops the connection without answering.
const Down Answer = 0

// UnmarshalYAML reads a status or down.
func (a *Answer) UnmarshalYAML(n *yaml.Node) error {
	if n.Value == "down" {
		*a = Down
		return nil
	}
	v, err := strconv.Atoi(n.Value)
	*a = Answer(v)
	return err
}

func (a Answer) String() string {
	if a == Down {
		return "down"
	}
	return strconv.Itoa(int(a))
}

// CallbackWait waits until the runner's receiver has got Count callbacks (default 1) on Path and
// checks the Count-th. With Type it counts only the webhook events of that type; with Secret it
// verifies the signature of every event it counts with that webhook secret.
type CallbackWait struct {
	Path    string            `yaml:"path"`
	Count   int               `yaml:"count"`
	Type    string            `yaml:"type"`
	Secret  string            `yaml:"secret"`
	Timeout duration.Duration `yaml:"timeout"`
}

// Wait asks the control API for callbacks deliveries, emails or journal entries matching a query,
// waiting until there are at least Min (default 1) or Timeout (default 10s) has passed.
type Wait struct {
	Callbacks map[string]string `yaml:"callbacks"`
	Outbox    map[string]string `yaml:"outbox"`
	Journal   map[string]string `yaml:"journal"`
	Min       *int              `yaml:"min"`
	Timeout   duration.Duration `yaml:"timeout"`
}

// Records names what a wait step asks for: the control API collection (callbacks, outbox,
// journal), its filters and the key of the records in its answer.
func (w *Wait) Records() (what string, filters map[string]string, key string) {
	switch {
	case w.Outbox != nil:
		return "outbox", w.Outbox, "emails"
	case w.Journal != nil:
		return "journal", w.Journal, "requests"
	}
	return "callbacks", w.Callbacks, "deliveries"
}

// Expect are expectations on an answer, a callback or a control API answer.
type Expect struct {
	Status  Statuses `yaml:"status"`
	Headers Matchers `yaml:"headers"`
	JSON    Matchers `yaml:"json"`
	Body    *Matcher `yaml:"body"`
	// Error is "timeout" or "connection": the request must fail so, with no answer.
	Error string `yaml:"error"`
	// Attempts is, for callback steps, how many callbacks the path has received by then.
	Attempts *int `yaml:"attempts"`
}

// Statuses is one HTTP status or a list of acceptable ones.
type Statuses []int

// UnmarshalYAML reads a status or a list of them.
func (s *Statuses) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		v, err := strconv.Atoi(n.Value)
		*s = Statuses{v}
		return err
	}
	return n.Decode((*[]int)(s))
}

// Label names a step in progress lines and failures.
func (st Step) Label() string {
	if st.Name != "" {
		return st.Name
	}
	switch {
	case st.Request != nil:
		return st.Request.Method + " " + st.Request.Path + st.Request.URL
	case st.Control != nil:
		return st.Control.Describe()
	case st.Receiver != nil:
		return "receiver " + st.Receiver.Path
	case st.Callback != nil && st.Callback.Type != "":
		return st.Callback.Type + " at " + st.Callback.Path
	case st.Callback != nil:
		return "callback at " + st.Callback.Path
	case st.Wait != nil:
		what, _, _ := st.Wait.Records()
		return "wait for " + what
	}
	return st.Path
}

// FileError is a problem in a scenario file, at a line (0 when it concerns the whole file).
type FileError struct {
	File string
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}
