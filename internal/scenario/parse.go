package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"go.yaml.in/yaml/v4"
)

// Parse reads a scenario from a file's bytes, in two passes, each reporting every problem it
// finds with the file, the line and the field: the YAML and the schema
// (scenarios/scenario.schema.json) first, then, on a file the schema accepts, what a schema
// cannot say (check).
func Parse(file string, data []byte) (*Scenario, error) {
	sch, err := loadSchema()
	if err != nil {
		return nil, err
	}
	doc, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	t := newTree(file, doc)
	if errs := append(t.errs, sch.check(t)...); len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	s := &Scenario{File: file, uses: t.uses}
	if err := doc.Decode(s); err != nil {
		// The schema accepted the file: what is left is what yaml alone knows (a duration too
		// long for Go).
		return nil, decodeError(file, doc, err)
	}
	if s.Client != nil {
		s.Setup.Client = s.Client
		t.lines["setup.client"] = t.lines["client"]
	}
	for i := range s.Steps {
		s.Steps[i].Path = fmt.Sprintf("steps[%d]", i)
		s.Steps[i].Line = t.lines[s.Steps[i].Path]
	}
	s.Before = setupSteps(s.Setup, t)
	if errs := check(s, t); len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	return s, nil
}

// parseYAML parses a file's YAML and returns its document's value.
func parseYAML(file string, data []byte) (*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, syntaxError(file, err)
	}
	doc := resolve(&root)
	if doc == nil || doc.Kind == 0 || doc.Kind == yaml.DocumentNode || doc.ShortTag() == "!!null" {
		return nil, &FileError{File: file, Msg: "the file is empty; a scenario needs name and steps"}
	}
	return doc, nil
}

// Load reads and parses a scenario file.
func Load(file string) (*Scenario, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, b)
}

// Expand turns files, directories (searched for *.yaml and *.yml) and globs into scenario files,
// sorted, each once.
func Expand(args []string) ([]string, error) {
	seen := map[string]bool{}
	var files []string
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
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
				add(m)
				continue
			}
			err = filepath.WalkDir(m, func(p string, e fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if ext := filepath.Ext(p); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
					add(p)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	slices.Sort(files)
	return files, nil
}

// setupSteps turns the setup section into control steps run before the first step.
func setupSteps(setup Setup, t *tree) []Step {
	var steps []Step
	add := func(path, action string, arg any) {
		steps = append(steps, Step{Control: newControl(action, arg), Path: path, Line: t.lines[path]})
	}
	if c := setup.Clock; c != nil {
		if c.Set != "" {
			add("setup.clock.set", "set_clock", c.Set)
		}
		if c.Advance != nil {
			add("setup.clock.advance", "advance_clock", *c.Advance)
		}
		if c.Freeze {
			add("setup.clock.freeze", "freeze_clock", true)
		}
	}
	for i, f := range setup.Faults {
		add(fmt.Sprintf("setup.faults[%d]", i), "add_fault", f)
	}
	return steps
}

// joinSorted joins FileErrors in the order of their lines, each once.
func joinSorted(errs []error) error {
	line := func(err error) int {
		var fe *FileError
		if errors.As(err, &fe) {
			return fe.Line
		}
		return 0
	}
	slices.SortStableFunc(errs, func(a, b error) int {
		return cmp.Or(cmp.Compare(line(a), line(b)), cmp.Compare(a.Error(), b.Error()))
	})
	errs = slices.CompactFunc(errs, func(a, b error) bool { return a.Error() == b.Error() })
	return errors.Join(errs...)
}

// syntaxError turns yaml's error for a file it cannot parse into a FileError at the line it names,
// with the construct it was in when that began on another line (an unclosed {...}).
func syntaxError(file string, err error) error {
	var le *yaml.LoadError
	if !errors.As(err, &le) {
		return &FileError{File: file, Msg: "YAML syntax: " + err.Error()}
	}
	msg := le.Message
	if le.ContextMsg != "" && le.ContextMark.Line != le.Mark.Line {
		msg += fmt.Sprintf(" (%s at line %d)", le.ContextMsg, le.ContextMark.Line)
	}
	return &FileError{File: file, Line: le.Mark.Line, Msg: "YAML syntax: " + msg}
}

// decodeError turns yaml's errors decoding a document into FileErrors at the lines it names.
func decodeError(file string, doc *yaml.Node, err error) error {
	var many *yaml.LoadErrors
	if !errors.As(err, &many) {
		return &FileError{File: file, Line: doc.Line, Msg: err.Error()}
	}
	errs := make([]error, len(many.Errors))
	for i, e := range many.Errors {
		errs[i] = &FileError{File: file, Line: e.Mark.Line, Msg: e.Message}
	}
	return joinSorted(errs)
}
