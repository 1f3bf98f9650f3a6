package scenario

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/equalture/equalture-mock/internal/duration"

	"go.yaml.in/yaml/v4"
)

// Control is a control step's action: one of the actions table below, with its argument.
type Control struct {
	// Action is the action's name (advance_clock, complete, call, …).
	Action string

	act *action
	arg any // the action's argument, of the type its entry reads
}

// Call is the control API request an action sends.
type Call struct {
	Method string
	// Path is under /_mock, with its query.
	Path string
	// Body is sent as JSON unless nil.
	Body any
	// What is the action in a few words, variables filled in, for progress lines.
	What string
}

// action is one control action: its name (the YAML key), how it reads its argument, how it is
// described, and the control API request it sends. The schema's control actions are checked
// against this table by a test.
type action struct {
	name     string
	decode   func(*yaml.Node) (any, error)
	describe func(arg any) string
	call     func(arg any, v Vars) (Call, error)
}

// act builds an action whose argument is a T.
func act[T any](name string, describe func(T) string, call func(T, Vars) (Call, error)) action {
	return action{
		name: name,
		decode: func(n *yaml.Node) (any, error) {
			var arg T
			err := n.Decode(&arg)
			return arg, err
		},
		describe: func(arg any) string { return describe(arg.(T)) },
		call:     func(arg any, v Vars) (Call, error) { return call(arg.(T), v) },
	}
}

// do is an action without an argument (its value is `true`).
func do(name, description, method, path string) action {
	return act(name, func(bool) string { return description },
		func(bool, Vars) (Call, error) { return Call{Method: method, Path: path}, nil })
}

// onApplication is an action on one application: POST /applications/{ref}/<verb>.
func onApplication(name, description, verb string) action {
	return act(name, func(ref string) string { return description + " " + ref },
		func(ref string, v Vars) (Call, error) {
			p, err := v.Segment(ref)
			return Call{Method: http.MethodPost, Path: "/applications/" + p + "/" + verb}, err
		})
}

// onTokens expires or revokes one client's tokens, or every client's.
func onTokens(name, verb string) action {
	return act(name, func(t TokenTarget) string { return verb + " the tokens of " + t.String() },
		func(t TokenTarget, v Vars) (Call, error) {
			c := Call{Method: http.MethodPost, Path: "/tokens/" + verb}
			if t.ClientID == "" {
				return c, nil
			}
			id, err := v.Text(t.ClientID)
			c.Body = map[string]string{"client_id": id}
			return c, err
		})
}

// actions are the control actions, in the order docs/scenarios.md and the schema list them.
var actions = []action{
	act("advance_clock", func(d duration.Duration) string { return "advance the clock by " + d.String() },
		func(d duration.Duration, _ Vars) (Call, error) {
			return Call{Method: http.MethodPost, Path: "/clock/advance", Body: map[string]string{"by": d.String()}}, nil
		}),
	act("set_clock", func(t string) string { return "set the clock to " + t },
		func(t string, v Vars) (Call, error) {
			now, err := v.Text(t)
			return Call{Method: http.MethodPost, Path: "/clock/set", Body: map[string]string{"now": now}}, err
		}),
	do("freeze_clock", "freeze the clock", http.MethodPost, "/clock/freeze"),
	do("unfreeze_clock", "unfreeze the clock", http.MethodPost, "/clock/unfreeze"),
	do("reset_clock", "reset the clock", http.MethodPost, "/clock/reset"),
	onApplication("start", "start", "start"),
	act("complete", func(c Complete) string { return "complete " + c.ReferenceID },
		func(c Complete, v Vars) (Call, error) {
			p, err := v.Segment(c.ReferenceID)
			call := Call{Method: http.MethodPost, Path: "/applications/" + p + "/complete"}
			body := map[string]any{}
			if c.Fit != "" {
				body["fit"] = c.Fit
			}
			if len(c.Scores) > 0 {
				body["scores"] = c.Scores
			}
			if len(body) > 0 {
				call.Body = body
			}
			return call, err
		}),
	onApplication("expire_invitation", "expire the invitation of", "expire_invitation"),
	onTokens("expire_tokens", "expire"),
	onTokens("revoke_tokens", "revoke"),
	act("add_fault", func(f Fault) string {
		return fmt.Sprintf("add a fault rule on %s %s", cmp.Or(f.Method, "any method"), cmp.Or(f.Path, "any path"))
	}, func(f Fault, v Vars) (Call, error) {
		body, err := v.Tree(canonical(f))
		return Call{Method: http.MethodPost, Path: "/faults", Body: body}, err
	}),
	act("remove_fault", func(id string) string { return "remove fault rule " + id },
		func(id string, v Vars) (Call, error) {
			p, err := v.Segment(id)
			return Call{Method: http.MethodDelete, Path: "/faults/" + p}, err
		}),
	do("clear_faults", "remove every fault rule", http.MethodDelete, "/faults"),
	act("redeliver", func(id string) string { return "redeliver callback " + id },
		func(id string, v Vars) (Call, error) {
			p, err := v.Segment(id)
			return Call{Method: http.MethodPost, Path: "/callbacks/" + p + "/redeliver"}, err
		}),
	do("clear_journal", "clear the journal", http.MethodDelete, "/journal"),
	do("reset", "reset the mock", http.MethodPost, "/reset"),
	act("call", func(c ControlRequest) string { return c.Method + " " + c.Path }, controlCall),
}

// controlCall is any control API request; progress shows it as sent.
func controlCall(c ControlRequest, v Vars) (Call, error) {
	path, err := v.Text(c.Path)
	if err != nil {
		return Call{}, err
	}
	path = "/" + strings.TrimPrefix(strings.TrimPrefix(path, "/_mock"), "/")
	if len(c.Query) > 0 {
		vals := url.Values{}
		for k, s := range c.Query {
			x, err := v.Text(s)
			if err != nil {
				return Call{}, err
			}
			vals.Set(k, x)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + vals.Encode()
	}
	call := Call{Method: strings.ToUpper(c.Method), Path: path}
	call.What = call.Method + " /_mock" + path
	if c.JSON != nil {
		call.Body, err = v.Tree(c.JSON)
	}
	return call, err
}

// actionNamed is the table's entry for name, or nil.
func actionNamed(name string) *action {
	for i := range actions {
		if actions[i].name == name {
			return &actions[i]
		}
	}
	return nil
}

// newControl is a control action built by the parser (the setup section's clock and faults).
func newControl(name string, arg any) *Control {
	return &Control{Action: name, act: actionNamed(name), arg: arg}
}

// UnmarshalYAML reads the step's one action (the schema has made sure there is exactly one, and
// that it is known).
func (c *Control) UnmarshalYAML(n *yaml.Node) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		name := n.Content[i].Value
		a := actionNamed(name)
		if a == nil {
			return fmt.Errorf("unknown control action %q", name)
		}
		arg, err := a.decode(n.Content[i+1])
		if err != nil {
			return err
		}
		c.Action, c.act, c.arg = name, a, arg
	}
	return nil
}

// Describe says what the action does, in a few words (variables not filled in).
func (c *Control) Describe() string {
	if c.act == nil {
		return "control"
	}
	return c.act.describe(c.arg)
}

// Call is the control API request the action sends, with v's variables filled in.
func (c *Control) Call(v Vars) (Call, error) {
	if c.act == nil {
		return Call{}, fmt.Errorf("a control step without an action")
	}
	call, err := c.act.call(c.arg, v)
	if err != nil {
		return Call{}, err
	}
	if call.What == "" {
		call.What, _ = v.Text(c.act.describe(c.arg))
	}
	return call, nil
}
