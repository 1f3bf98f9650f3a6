// Package scenario reads, checks and runs QA scenarios: YAML files of ordered steps — vendor API
// requests with expectations and captures, control API actions, callback receiver behaviour, waits
// for callbacks and for the mock's records — against a running mock or one started in-process.
// Every vendor API answer is checked against openapi.yaml and every callback against its callback
// schema, whatever the file says. docs/scenarios.md describes the format.
package scenario

import (
	"fmt"
	"reflect"
	"strconv"

	"github.com/equalture/equalture-mock/internal/duration"
	"github.com/equalture/equalture-mock/internal/receiver"

	"go.yaml.in/yaml/v4"
)

// Scenario is one file.
type Scenario struct {
	File        string `yaml:"-"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Setup       Setup  `yaml:"setup"`
	// Client is short for Setup.Client.
	Client *Credentials `yaml:"client"`
	Steps  []Step       `yaml:"steps"`

	setup []Step         // Setup as steps, run before Steps
	lines map[string]int // field path → line
	names []string       // the steps' names
	uses  varUses
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

	path string // steps[3], setup.clock
	line int
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

func (a *Auth) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "basic", "bearer", "none":
			a.Kind = n.Value
			if a.Kind == "bearer" {
				d.uses = append(d.uses, varUse{name: "access_token", path: path, line: n.Line})
			}
		default:
			d.errorf(n, path, "%q: want basic, bearer, none or a map ({basic: {client_id, client_secret}}, {bearer: TOKEN}, {header: VALUE})", n.Value)
		}
		return
	}
	var long struct {
		Basic  *Credentials `yaml:"basic"`
		Bearer *string      `yaml:"bearer"`
		Header *string      `yaml:"header"`
	}
	d.decodeStruct(n, reflect.ValueOf(&long).Elem(), path)
	set := 0
	if long.Basic != nil {
		a.Kind, a.Basic = "basic", long.Basic
		set++
	}
	if long.Bearer != nil {
		a.Kind, a.Bearer = "bearer", *long.Bearer
		set++
	}
	if long.Header != nil {
		a.Kind, a.Header = "header", *long.Header
		set++
	}
	if set != 1 && n.Kind == yaml.MappingNode {
		d.errorf(n, path, "want exactly one of basic, bearer, header")
	}
}

// Control is a control API action (exactly one field), or Call, any control API request.
type Control struct {
	AdvanceClock     *duration.Duration `yaml:"advance_clock"`
	SetClock         string             `yaml:"set_clock"`
	FreezeClock      bool               `yaml:"freeze_clock"`
	UnfreezeClock    bool               `yaml:"unfreeze_clock"`
	ResetClock       bool               `yaml:"reset_clock"`
	Start            string             `yaml:"start"`
	Complete         *Complete          `yaml:"complete"`
	ExpireInvitation string             `yaml:"expire_invitation"`
	ExpireTokens     *TokenTarget       `yaml:"expire_tokens"`
	RevokeTokens     *TokenTarget       `yaml:"revoke_tokens"`
	AddFault         *Fault             `yaml:"add_fault"`
	RemoveFault      string             `yaml:"remove_fault"`
	ClearFaults      bool               `yaml:"clear_faults"`
	Redeliver        string             `yaml:"redeliver"`
	ClearJournal     bool               `yaml:"clear_journal"`
	Reset            bool               `yaml:"reset"`
	Call             *ControlRequest    `yaml:"call"`
}

// actions counts the actions set.
func (c *Control) actions() int {
	n := 0
	for _, set := range []bool{c.AdvanceClock != nil, c.SetClock != "", c.FreezeClock, c.UnfreezeClock, c.ResetClock,
		c.Start != "", c.Complete != nil, c.ExpireInvitation != "", c.ExpireTokens != nil, c.RevokeTokens != nil,
		c.AddFault != nil, c.RemoveFault != "", c.ClearFaults, c.Redeliver != "", c.ClearJournal, c.Reset, c.Call != nil} {
		if set {
			n++
		}
	}
	return n
}

// TokenTarget is whose tokens expire or are revoked: a client id (`expire_tokens: ${client_id}`
// or `{client_id: other-client}`), or every client (`"*"` or `{}`).
type TokenTarget struct {
	ClientID string `yaml:"client_id"`
}

func (t *TokenTarget) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		if n.Value != "*" {
			d.decode(n, reflect.ValueOf(&t.ClientID).Elem(), path)
		}
		return
	}
	type plain TokenTarget
	d.decodeStruct(n, reflect.ValueOf((*plain)(t)).Elem(), path)
}

func (t *TokenTarget) String() string {
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

func (c *Complete) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		d.decode(n, reflect.ValueOf(&c.ReferenceID).Elem(), path)
		return
	}
	type plain Complete
	d.decodeStruct(n, reflect.ValueOf((*plain)(c)).Elem(), path)
}

// Fault is a fault rule of the control API (control-openapi.yaml, FaultRule).
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
type Answer receiver.Answer

// Down is the Answer that drops the connection without answering.
const Down = Answer(receiver.Down)

func (a *Answer) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode && n.Value == "down" {
		*a = Down
		return
	}
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || v < 100 || v > 599 {
		d.errorf(n, path, "want an HTTP status (100-599) or down, got %s", kindName(n))
		return
	}
	*a = Answer(v)
}

func (a Answer) String() string { return receiver.Answer(a).String() }

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

// Expect are expectations on an answer, a callback or a control API answer.
type Expect struct {
	Status  Statuses           `yaml:"status"`
	Headers map[string]Matcher `yaml:"headers"`
	JSON    map[string]Matcher `yaml:"json"`
	Body    *Matcher           `yaml:"body"`
	// Error is "timeout" or "connection": the request must fail so, with no answer.
	Error string `yaml:"error"`
	// Attempts is, for callback steps, how many callbacks the path has received by then.
	Attempts *int `yaml:"attempts"`
}

// Statuses is one HTTP status or a list of acceptable ones.
type Statuses []int

func (s *Statuses) decodeNode(d *decoder, n *yaml.Node, path string) {
	one := func(n *yaml.Node) {
		v, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil || v < 100 || v > 599 {
			d.errorf(n, path, "want an HTTP status (100-599), got %s", kindName(n))
			return
		}
		*s = append(*s, v)
	}
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			one(resolve(c))
		}
		return
	}
	one(n)
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
		return st.Control.describe()
	case st.Receiver != nil:
		return "receiver " + st.Receiver.Path
	case st.Callback != nil && st.Callback.Type != "":
		return st.Callback.Type + " at " + st.Callback.Path
	case st.Callback != nil:
		return "callback at " + st.Callback.Path
	case st.Wait != nil:
		return "wait for " + st.Wait.what()
	}
	return st.path
}

func (c *Control) describe() string {
	switch {
	case c.AdvanceClock != nil:
		return "advance the clock by " + c.AdvanceClock.String()
	case c.SetClock != "":
		return "set the clock to " + c.SetClock
	case c.FreezeClock:
		return "freeze the clock"
	case c.UnfreezeClock:
		return "unfreeze the clock"
	case c.ResetClock:
		return "reset the clock"
	case c.Start != "":
		return "start " + c.Start
	case c.Complete != nil:
		return "complete " + c.Complete.ReferenceID
	case c.ExpireInvitation != "":
		return "expire the invitation of " + c.ExpireInvitation
	case c.ExpireTokens != nil:
		return "expire the tokens of " + c.ExpireTokens.String()
	case c.RevokeTokens != nil:
		return "revoke the tokens of " + c.RevokeTokens.String()
	case c.AddFault != nil:
		return fmt.Sprintf("add a fault rule on %s %s", or(c.AddFault.Method, "any method"), or(c.AddFault.Path, "any path"))
	case c.RemoveFault != "":
		return "remove fault rule " + c.RemoveFault
	case c.ClearFaults:
		return "remove every fault rule"
	case c.Redeliver != "":
		return "redeliver callback " + c.Redeliver
	case c.ClearJournal:
		return "clear the journal"
	case c.Reset:
		return "reset the mock"
	case c.Call != nil:
		return c.Call.Method + " " + c.Call.Path
	}
	return "control"
}

func (w *Wait) what() string {
	switch {
	case w.Callbacks != nil:
		return "callbacks"
	case w.Outbox != nil:
		return "outbox"
	case w.Journal != nil:
		return "journal"
	}
	return "?"
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
