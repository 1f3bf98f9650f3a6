package scenario

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// celsius reads "21C": a type that knows yaml's Unmarshaler and nothing of the scenario decoder.
type celsius int

func (c *celsius) UnmarshalYAML(n *yaml.Node) error {
	v, ok := strings.CutSuffix(n.Value, "C")
	i, err := strconv.Atoi(v)
	if !ok || err != nil {
		return fmt.Errorf("want degrees like 21C, got %q", n.Value)
	}
	*c = celsius(i)
	return nil
}

// reading decodes its fields with yaml itself, whose errors carry their own lines.
type reading struct {
	At   string
	Temp celsius
}

func (r *reading) UnmarshalYAML(n *yaml.Node) error {
	var v struct {
		At   string  `yaml:"at"`
		Temp celsius `yaml:"temp"`
	}
	if err := n.Decode(&v); err != nil {
		return err
	}
	*r = reading(v)
	return nil
}

func TestDecoderHonoursUnmarshaler(t *testing.T) {
	type doc struct {
		Temp     celsius   `yaml:"temp"`
		Unset    celsius   `yaml:"unset"`
		Readings []reading `yaml:"readings"`
	}
	decode := func(src string) (doc, error) {
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(src), &root); err != nil {
			t.Fatal(err)
		}
		var v doc
		d := &decoder{file: "f.yaml", lines: map[string]int{}}
		d.decodeStruct(resolve(&root), reflect.ValueOf(&v).Elem(), "")
		return v, errors.Join(d.errs...)
	}

	got, err := decode("temp: 21C\nunset: ~\nreadings:\n  - {at: noon, temp: 20C}\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := (doc{Temp: 21, Readings: []reading{{At: "noon", Temp: 20}}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}

	_, err = decode("temp: hot\nreadings:\n  - at: night\n    temp: cold\n")
	if err == nil {
		t.Fatal("bad values decoded")
	}
	for _, want := range []string{
		`f.yaml:1: temp: want degrees like 21C, got "hot"`,
		`f.yaml:4: readings[0]: want degrees like 21C, got "cold"`, // yaml's line, not the reading's (3)
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}
