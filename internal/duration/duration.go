// Package duration is the mock's one duration type: a time.Duration written as a Go duration
// string ("90s", "250ms", "15m1s") in the YAML files (fixtures, scenarios) and in the control
// API's JSON (fault rules), where a number of milliseconds is accepted too.
package duration

import (
	"encoding/json"
	"fmt"
	"time"

	"go.yaml.in/yaml/v4"
)

// Duration is a time.Duration that reads and writes itself as a Go duration string.
type Duration time.Duration

var (
	_ yaml.Unmarshaler = (*Duration)(nil)
	_ json.Unmarshaler = (*Duration)(nil)
	_ json.Marshaler   = Duration(0)
)

// String is the Go duration string ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML reads a Go duration string. A negative one is refused: the YAML files have no
// use for it (the JSON side lets one through, for the fault rule check to name the field).
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a duration like 500ms, 10s or 15m1s, got %s", kind(n))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("want a duration like 500ms, 10s or 15m1s, got %q", n.Value)
	}
	if v < 0 {
		return fmt.Errorf("want a duration of 0 or more, got %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	}
	return "something else"
}

// UnmarshalJSON reads a Go duration string ("250ms") or a number of milliseconds (250); null
// leaves d as it is.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 90s or 250ms", s)
		}
		*d = Duration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("want a duration like \"250ms\" or a number of milliseconds, got %s", b)
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}

// MarshalJSON writes the Go duration string ("2s"), as the control API reads it.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }
