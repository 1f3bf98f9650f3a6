package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fault"
)

// check finds, in a file the schema accepted, what a schema cannot say: variables used before a
// step captures them, captures named like a built-in, regular expressions that do not compile,
// webhook secrets and fault rules their owners refuse.
func check(s *Scenario, t *tree) []error {
	var errs []error
	at := func(path, format string, args ...any) {
		errs = append(errs, t.fileError(t.line(path), path, fmt.Sprintf(format, args...)))
	}
	for _, st := range s.Before {
		if st.Control.Action == "add_fault" {
			checkFault(at, st.Path, st.Control.arg.(Fault))
		}
	}
	for _, st := range s.Steps {
		p := st.Path
		for _, name := range slices.Sorted(maps.Keys(st.Capture)) {
			if _, ok := Builtins[name]; ok {
				at(p+".capture."+name, "%q is a built-in variable; pick another name", name)
			}
		}
		if e := st.Expect; e != nil {
			for _, name := range slices.Sorted(maps.Keys(e.Headers)) {
				checkRegexp(at, p+".expect.headers."+name, e.Headers[name])
			}
			for _, name := range slices.Sorted(maps.Keys(e.JSON)) {
				checkRegexp(at, p+".expect.json."+name, e.JSON[name])
			}
			if e.Body != nil {
				checkRegexp(at, p+".expect.body", *e.Body)
			}
		}
		if c := st.Control; c != nil && c.Action == "add_fault" {
			checkFault(at, p+".control.add_fault", c.arg.(Fault))
		}
		if cb := st.Callback; cb != nil && cb.Secret != "" && !strings.Contains(cb.Secret, "${") {
			if err := domain.CheckSecret(cb.Secret); err != nil {
				at(p+".callback.secret", "the webhook's secret %v", err)
			}
		}
	}
	return append(errs, checkVariables(s, t)...)
}

func checkRegexp(at reporter, path string, m Matcher) {
	if m.Matches != "" && !strings.Contains(m.Matches, "${") {
		if _, err := regexp.Compile(m.Matches); err != nil {
			at(path+".matches", "%q is not a regular expression: %v", m.Matches, err)
		}
	}
}

type reporter func(path, format string, args ...any)

// checkFault has the fault package judge a rule, as the control API will.
func checkFault(at reporter, path string, f Fault) {
	r := fault.Rule{Method: f.Method, Path: f.Path, ClientID: f.ClientID, Nth: f.Nth, Times: f.Times,
		Probability: f.Probability, Status: f.Status, Headers: f.Headers, Latency: f.Latency, LatencyMax: f.LatencyMax, Break: f.Break}
	if f.Body != nil {
		b, err := json.Marshal(canonical(f.Body))
		if err != nil {
			at(path+".body", "cannot be sent as JSON: %v", err)
			return
		}
		r.Body = b
	}
	err := r.Check()
	var ae *apierr.Error
	if err == nil || !errors.As(err, &ae) {
		if err != nil {
			at(path, "%v", err)
		}
		return
	}
	for _, field := range slices.Sorted(maps.Keys(ae.Fields)) {
		for _, msg := range ae.Fields[field] {
			at(path+"."+field, "%s", msg)
		}
	}
}

var stepIdxRE = regexp.MustCompile(`^steps\[(\d+)\]`)

// checkVariables finds the variables used before they are known: built in, captured by an
// earlier step, or ${access_token} after a token request.
func checkVariables(s *Scenario, t *tree) []error {
	var errs []error
	known := make([]map[string]bool, len(s.Steps))
	cur := map[string]bool{}
	for n := range Builtins {
		cur[n] = true
	}
	uses := slices.Clone(s.uses)
	for i, st := range s.Steps {
		known[i] = cur
		next := maps.Clone(cur)
		for name := range st.Capture {
			next[name] = true
		}
		if r := st.Request; r != nil {
			if strings.Contains(r.Path+r.URL, "access_token") {
				next["access_token"] = true
			}
			if r.Auth.Kind == "bearer" && r.Auth.Bearer == "" {
				path := st.Path + ".request.auth"
				uses = append(uses, varUse{name: "access_token", path: path, line: t.line(path)})
			}
		}
		cur = next
	}
	for _, u := range uses {
		m := stepIdxRE.FindStringSubmatch(u.path)
		if m == nil {
			if _, ok := Builtins[u.name]; !ok {
				errs = append(errs, t.fileError(u.line, u.path, fmt.Sprintf("${%s} is not known in setup (only %s)", u.name, builtinList())))
			}
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i < len(known) && known[i][u.name] {
			continue
		}
		msg := fmt.Sprintf("${%s} is used before any step captures it", u.name)
		if u.name == "access_token" {
			msg = "bearer auth needs an access token first: add a step `request: {method: POST, path: /connect_ats/access_token, auth: basic}` before it"
		}
		errs = append(errs, t.fileError(u.line, u.path, msg))
	}
	return errs
}

func builtinList() string {
	names := make([]string, 0, len(Builtins))
	for _, n := range slices.Sorted(maps.Keys(Builtins)) {
		names = append(names, "${"+n+"}")
	}
	return strings.Join(names, ", ")
}
