package scenario

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
)

// Builtins are the variables every scenario has before its first step.
var Builtins = map[string]string{
	"base_url":      "the target's base URL",
	"control_url":   "the target's control API (base_url + /_mock)",
	"receiver":      "this scenario's callback receiver URL; append a path: ${receiver}/applications/1",
	"client_id":     "the scenario's client id (setup.client, default demo-client)",
	"client_secret": "the scenario's client secret",
	"job_id":        "the first job the scenario's client lists",
	"unique":        "a number unique to this run, for e-mail addresses",
}

// Parse reads a scenario from a file's bytes. Every problem found is reported, each naming the
// file, the line and the field.
func Parse(file string, data []byte) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, syntaxError(file, err)
	}
	doc := resolve(&root)
	if doc == nil || doc.Kind == 0 || doc.Kind == yaml.DocumentNode || isNull(doc) {
		return nil, &FileError{File: file, Msg: "the file is empty; a scenario needs name and steps"}
	}
	d := &decoder{file: file, lines: map[string]int{}, names: stepNames(doc)}
	s := &Scenario{File: file, names: d.names}
	d.decodeStruct(doc, reflect.ValueOf(s).Elem(), "")
	s.lines, s.uses = d.lines, d.uses
	if s.Client != nil {
		if s.Setup.Client != nil {
			d.errs = append(d.errs, &FileError{File: file, Line: s.lines["client"], Msg: "client and setup.client are the same thing; keep one"})
		}
		s.Setup.Client, s.lines["setup.client"] = s.Client, s.lines["client"]
	}
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	s.buildSetup()
	for i := range s.Steps {
		s.Steps[i].path = fmt.Sprintf("steps[%d]", i)
		s.Steps[i].line = s.lines[s.Steps[i].path]
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
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
	sort.Strings(files)
	return files, nil
}

// buildSetup turns the setup section into control steps run before the first step.
func (s *Scenario) buildSetup() {
	add := func(path string, c *Control) {
		s.setup = append(s.setup, Step{Control: c, path: path, line: s.lines[path]})
	}
	if c := s.Setup.Clock; c != nil {
		if c.Set != "" {
			add("setup.clock.set", &Control{SetClock: c.Set})
		}
		if c.Advance != nil {
			add("setup.clock.advance", &Control{AdvanceClock: c.Advance})
		}
		if c.Freeze {
			add("setup.clock.freeze", &Control{FreezeClock: true})
		}
	}
	for i := range s.Setup.Faults {
		add(fmt.Sprintf("setup.faults[%d]", i), &Control{AddFault: &s.Setup.Faults[i]})
	}
}

var (
	methodRE  = regexp.MustCompile(`^[A-Za-z]+$`)
	stepIdxRE = regexp.MustCompile(`^steps\[(\d+)\]`)
)

// check finds what would break at run time: steps with no or two kinds, missing fields,
// expectations that cannot apply, variables used before any step captures them.
func (s *Scenario) check() error {
	var errs []error
	at := func(path, format string, args ...any) {
		line := s.lines[path]
		for p := path; line == 0 && p != ""; {
			if i := strings.LastIndexAny(p, ".["); i > 0 {
				p = p[:i]
			} else {
				p = ""
			}
			line = s.lines[p]
		}
		errs = append(errs, &FileError{File: s.File, Line: line, Msg: located(path, s.names, fmt.Sprintf(format, args...))})
	}
	if strings.TrimSpace(s.Name) == "" {
		errs = append(errs, &FileError{File: s.File, Line: 1, Msg: "name is missing"})
	}
	if len(s.Steps) == 0 {
		at("steps", "a scenario needs at least one step")
	}
	if c := s.Setup.Client; c != nil && (c.ID == "" || c.Secret == "") {
		at("setup.client", "needs client_id and client_secret")
	}
	if c := s.Setup.Clock; c != nil && c.Set != "" && !strings.Contains(c.Set, "${") {
		if _, err := time.Parse(time.RFC3339, c.Set); err != nil {
			at("setup.clock.set", "%q is not an RFC 3339 time like 2026-01-05T09:00:00Z", c.Set)
		}
	}
	for i, f := range s.Setup.Faults {
		s.checkFault(at, fmt.Sprintf("setup.faults[%d]", i), f)
	}
	for _, st := range s.Steps {
		s.checkStep(at, st)
	}
	// Variables: known when built in or captured by an earlier step.
	known := make([]map[string]bool, len(s.Steps)+1)
	cur := map[string]bool{}
	for n := range Builtins {
		cur[n] = true
	}
	for i, st := range s.Steps {
		known[i] = cur
		next := make(map[string]bool, len(cur)+len(st.Capture))
		for k := range cur {
			next[k] = true
		}
		for name := range st.Capture {
			next[name] = true
		}
		if r := st.Request; r != nil && strings.Contains(r.Path+r.URL, "access_token") {
			next["access_token"] = true
		}
		cur = next
	}
	for _, u := range s.uses {
		m := stepIdxRE.FindStringSubmatch(u.path)
		if m == nil {
			if _, ok := Builtins[u.name]; !ok {
				errs = append(errs, &FileError{File: s.File, Line: u.line, Msg: located(u.path, s.names, fmt.Sprintf("${%s} is not known in setup (only %s)", u.name, builtinList()))})
			}
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i < len(known) && known[i] != nil && known[i][u.name] {
			continue
		}
		msg := fmt.Sprintf("${%s} is used before any step captures it", u.name)
		if u.name == "access_token" {
			msg = "bearer auth needs an access token first: add a step `request: {method: POST, path: /connect_ats/access_token, auth: basic}` before it"
		}
		errs = append(errs, &FileError{File: s.File, Line: u.line, Msg: located(u.path, s.names, msg)})
	}
	sort.SliceStable(errs, func(i, j int) bool {
		var a, b *FileError
		errors.As(errs[i], &a)
		errors.As(errs[j], &b)
		return a.Line < b.Line
	})
	return errors.Join(errs...)
}

func builtinList() string {
	names := make([]string, 0, len(Builtins))
	for n := range Builtins {
		names = append(names, "${"+n+"}")
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

type reporter func(path, format string, args ...any)

func (s *Scenario) checkStep(at reporter, st Step) {
	p := st.path
	kinds := []string{}
	for name, set := range map[string]bool{"request": st.Request != nil, "control": st.Control != nil,
		"receiver": st.Receiver != nil, "callback": st.Callback != nil, "wait": st.Wait != nil} {
		if set {
			kinds = append(kinds, name)
		}
	}
	sort.Strings(kinds)
	if len(kinds) != 1 {
		have := "none"
		if len(kinds) > 0 {
			have = strings.Join(kinds, " and ")
		}
		at(p, "a step needs exactly one of request, control, receiver, callback, wait (has %s)", have)
		return
	}
	for name := range st.Capture {
		if !nameRE.MatchString(name) {
			at(p+".capture."+name, "%q is not a variable name (letters, digits and _)", name)
		}
		if _, ok := Builtins[name]; ok {
			at(p+".capture."+name, "%q is a built-in variable; pick another name", name)
		}
	}
	if e := st.Expect; e != nil {
		if e.Error != "" && e.Error != "timeout" && e.Error != "connection" {
			at(p+".expect.error", "%q: want timeout or connection", e.Error)
		}
		if e.Error != "" && st.Request == nil {
			at(p+".expect.error", "only request steps can expect an error")
		}
		if e.Error != "" && (len(e.Status) > 0 || len(e.Headers) > 0 || len(e.JSON) > 0 || e.Body != nil) {
			at(p+".expect.error", "a request that fails has no status, headers or body to expect")
		}
		if e.Attempts != nil && st.Callback == nil {
			at(p+".expect.attempts", "only callback steps count attempts")
		}
		if len(e.Status) > 0 && st.Callback != nil {
			at(p+".expect.status", "a callback has no status; expect headers, json or attempts")
		}
	}
	switch {
	case st.Request != nil:
		r := st.Request
		if !methodRE.MatchString(r.Method) {
			at(p+".request.method", "want an HTTP method such as GET or POST, got %q", r.Method)
		}
		switch {
		case r.Path == "" && r.URL == "":
			at(p+".request", "needs path (on the target) or url (a link the mock handed out)")
		case r.Path != "" && r.URL != "":
			at(p+".request", "has both path and url; keep one")
		case r.Path != "" && !strings.HasPrefix(r.Path, "/"):
			at(p+".request.path", "%q must start with /", r.Path)
		}
		if r.JSON != nil && r.Body != "" {
			at(p+".request", "has both json and body; keep one")
		}
		if r.Auth.Kind == "basic" && r.Auth.Basic != nil && (r.Auth.Basic.ID == "" || r.Auth.Basic.Secret == "") {
			at(p+".request.auth.basic", "needs client_id and client_secret")
		}
	case st.Control != nil:
		c := st.Control
		if n := c.actions(); n != 1 {
			at(p+".control", "needs exactly one action (has %d): advance_clock, set_clock, freeze_clock, unfreeze_clock, reset_clock, start, complete, expire_invitation, expire_tokens, revoke_tokens, add_fault, remove_fault, clear_faults, redeliver, clear_journal, reset or call", n)
		}
		if c.SetClock != "" && !strings.Contains(c.SetClock, "${") {
			if _, err := time.Parse(time.RFC3339, c.SetClock); err != nil {
				at(p+".control.set_clock", "%q is not an RFC 3339 time like 2026-01-05T09:00:00Z", c.SetClock)
			}
		}
		if c.Complete != nil && c.Complete.ReferenceID == "" {
			at(p+".control.complete", "needs reference_id")
		}
		if c.AddFault != nil {
			s.checkFault(at, p+".control.add_fault", *c.AddFault)
		}
		if c.Call != nil {
			if !methodRE.MatchString(c.Call.Method) || c.Call.Path == "" {
				at(p+".control.call", "needs method and path")
			}
		}
	case st.Receiver != nil:
		rs := st.Receiver
		if !strings.HasPrefix(rs.Path, "/") {
			at(p+".receiver.path", "want a path starting with /, got %q", rs.Path)
		}
		if rs.Down && len(rs.Respond) > 0 {
			at(p+".receiver", "has both down and respond; down is respond: [down]")
		}
		if st.Expect != nil || len(st.Capture) > 0 {
			at(p+".receiver", "a receiver step only sets the receiver up; it has nothing to expect or capture")
		}
	case st.Callback != nil:
		cb := st.Callback
		if !strings.HasPrefix(cb.Path, "/") {
			at(p+".callback.path", "want the receiver path the callback_url or the webhook's url ends with (/applications/1), got %q", cb.Path)
		}
		if cb.Count < 0 {
			at(p+".callback.count", "must be 1 or more")
		}
		if cb.Type != "" && !strings.Contains(cb.Type, "${") && !slices.Contains(delivery.EventTypes, cb.Type) {
			at(p+".callback.type", "%q: want an event type, one of %s", cb.Type, strings.Join(delivery.EventTypes, ", "))
		}
		if cb.Secret != "" && !strings.Contains(cb.Secret, "${") {
			if err := domain.CheckSecret(cb.Secret); err != nil {
				at(p+".callback.secret", "the webhook's secret %v", err)
			}
		}
	case st.Wait != nil:
		w := st.Wait
		n := 0
		for _, m := range []map[string]string{w.Callbacks, w.Outbox, w.Journal} {
			if m != nil {
				n++
			}
		}
		if n != 1 {
			at(p+".wait", "needs exactly one of callbacks, outbox, journal (each a map of query filters, {} for all)")
		}
		if w.Min != nil && *w.Min < 0 {
			at(p+".wait.min", "must be 0 or more")
		}
	}
}

func (s *Scenario) checkFault(at reporter, p string, f Fault) {
	if f.Status == 0 && f.Latency == 0 && f.Break == "" {
		at(p, "a fault rule needs status, latency or break")
	}
	if f.Status != 0 && (f.Status < 200 || f.Status > 599) {
		at(p+".status", "want a status from 200 to 599, got %d", f.Status)
	}
	switch f.Break {
	case "", "empty_response", "connection_reset", "garbage":
	default:
		at(p+".break", "%q: want empty_response, connection_reset or garbage", f.Break)
	}
	if f.Method != "" && !methodRE.MatchString(f.Method) {
		at(p+".method", "%q is not an HTTP method", f.Method)
	}
}
