package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/spec"
)

// Suggestions: where the service answered otherwise than a part openapi.yaml only guessed
// (x-inferred), what it answered, kept per place in the contract (bounded), and written as a
// unified diff of openapi.yaml a maintainer can review and `git apply`: an enum gains the values
// observed, an undocumented status is documented, a required field the service leaves out is
// no longer required, a guessed value (x-lifecycle conflict, a challenge's realm) takes the one
// observed; what cannot be edited safely gets a comment saying what was observed.

const (
	maxSuggestions    = 200
	maxObservedValues = 20
)

// suggestion is what the service answered at one guessed place of the contract.
type suggestion struct {
	pointer  string   // "#/components/schemas/ApplicationStatus/properties/status"
	keyword  string   // "enum", "status", "required", "type", "value"
	field    string   // the offending field, when one
	observed []string // the values answered, as JSON (or the status code, or the missing field)
	note     string   // the problem, for a comment
	count    int
}

// keep notes an observation at a guessed place (p.mu held or not: it takes sugMu).
func (p *Proxy) keep(contract, keyword, field, observed, note string) {
	ptr, ok := strings.CutPrefix(contract, "openapi.yaml")
	if !ok {
		return
	}
	p.sugMu.Lock()
	defer p.sugMu.Unlock()
	key := ptr + " " + keyword
	s := p.suggestions[key]
	if s == nil {
		if len(p.suggestions) >= maxSuggestions {
			return
		}
		s = &suggestion{pointer: ptr, keyword: keyword, field: field, note: note}
		p.suggestions[key] = s
	}
	s.count++
	if !slices.Contains(s.observed, observed) && len(s.observed) < maxObservedValues {
		s.observed = append(s.observed, observed)
	}
}

// suggest keeps what an answer showed of the contract's guesses.
func (p *Proxy) suggest(c *dispatch.Call, status int, guessed *spec.ResponseError) {
	for _, pr := range guessed.Problems {
		switch pr.Keyword {
		case "status":
			p.keep(pr.Contract, "status", "", strconv.Itoa(status), pr.Text)
		case "required":
			p.keep(pr.Contract, "required", pr.Field, pr.Field, pr.Text)
		default:
			p.keep(pr.Contract, pr.Keyword, pr.Field, pr.Observed, pr.Text)
		}
	}
}

// WriteSuggestions writes the suggestions as a unified diff of the contract (the bytes of
// openapi.yaml), with a comment saying what it is; none is a comment saying so.
func (p *Proxy) WriteSuggestions(w io.Writer, contract []byte) error {
	p.sugMu.Lock()
	var list []suggestion
	for _, s := range p.suggestions {
		c := *s
		c.observed = slices.Clone(s.observed)
		list = append(list, c)
	}
	p.sugMu.Unlock()
	slices.SortFunc(list, func(a, b suggestion) int { return strings.Compare(a.pointer+a.keyword, b.pointer+b.keyword) })
	patch, err := suggestPatch(contract, list)
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# equalture-mock proxy: %d place(s) where the service answered otherwise than openapi.yaml\n"+
		"# only guessed (x-inferred). Review, then apply with: git apply <this file>\n", len(list))
	if len(list) == 0 {
		header = "# equalture-mock proxy: the service answered nothing openapi.yaml only guessed otherwise; nothing to suggest.\n"
	}
	_, err = io.WriteString(w, header+patch)
	return err
}

// edit is a change of the contract's lines: lines [at, at+del) become add.
type edit struct {
	at, del int
	add     []string
}

// suggestPatch turns suggestions into a unified diff of contract.
func suggestPatch(contract []byte, list []suggestion) (string, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(contract, &root); err != nil {
		return "", fmt.Errorf("proxy: reading openapi.yaml: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(contract), "\n"), "\n")
	var edits []edit
	for _, s := range list {
		if e, ok := s.edit(&root, lines); ok {
			edits = append(edits, e)
		}
	}
	slices.SortStableFunc(edits, func(a, b edit) int { return a.at - b.at })
	// Two edits of one line: the first stands.
	var kept []edit
	for _, e := range edits {
		if n := len(kept); n > 0 && e.at < kept[n-1].at+kept[n-1].del {
			continue
		}
		kept = append(kept, e)
	}
	return unifiedDiff("openapi.yaml", lines, kept), nil
}

// edit is how s changes the contract, or false when its place cannot be found.
func (s suggestion) edit(root *yaml.Node, lines []string) (edit, bool) {
	node, key := resolve(root, s.pointer)
	if node == nil {
		return edit{}, false
	}
	indent := func(n *yaml.Node) string { return strings.Repeat(" ", max(n.Column-1, 0)) }
	comment := func(at *yaml.Node, text string) edit {
		return edit{at: at.Line - 1, add: []string{indent(at) + "# equalture-mock proxy observed: " + text, lines[at.Line-1]}, del: 1}
	}
	observed := strings.Join(s.observed, ", ")
	switch s.keyword {
	case "enum":
		enum := mapValue(node, "enum")
		if enum == nil || enum.Kind != yaml.SequenceNode {
			break
		}
		var values []string
		for _, v := range s.observed {
			var x any
			if json.Unmarshal([]byte(v), &x) == nil {
				values = append(values, yamlValue(x))
			}
		}
		if enum.Style&yaml.FlowStyle != 0 && strings.Count(lines[enum.Line-1], "]") == 1 {
			l := lines[enum.Line-1]
			i := strings.LastIndex(l, "]")
			return edit{at: enum.Line - 1, del: 1, add: []string{l[:i] + ", " + strings.Join(values, ", ") + l[i:]}}, true
		}
		if enum.Style&yaml.FlowStyle == 0 && len(enum.Content) > 0 {
			last := enum.Content[len(enum.Content)-1]
			var add []string
			for _, v := range values {
				add = append(add, strings.Repeat(" ", max(last.Column-3, 0))+"- "+v)
			}
			return edit{at: last.Line, add: add}, true
		}
	case "status":
		if node.Kind != yaml.MappingNode || len(node.Content) == 0 {
			break
		}
		after := node.Content[len(node.Content)-2] // the last key: insert after its entry
		for i := 0; i+1 < len(node.Content); i += 2 {
			if code := node.Content[i].Value; code > s.observed[0] {
				break
			}
			after = node.Content[i]
		}
		end := entryEnd(node, after)
		var add []string
		for _, code := range s.observed {
			add = append(add, indent(after)+strconv.Quote(code)+":",
				indent(after)+"  description: Answered by the service (equalture-mock proxy observed it; the contract did not document it).")
		}
		return edit{at: end, add: add}, true
	case "required":
		req := node
		if req.Kind != yaml.SequenceNode {
			break
		}
		for _, item := range req.Content {
			if !slices.Contains(s.observed, item.Value) {
				continue
			}
			l := lines[item.Line-1]
			if req.Style&yaml.FlowStyle == 0 {
				return edit{at: item.Line - 1, del: 1, add: []string{indent(item) + "# " + strings.TrimSpace(l) + "  # equalture-mock proxy: the service leaves it out"}}, true
			}
			out := strings.Replace(l, item.Value+", ", "", 1)
			if out == l {
				out = strings.Replace(l, ", "+item.Value, "", 1)
			}
			if out == l {
				out = strings.Replace(l, item.Value, "", 1)
			}
			return edit{at: item.Line - 1, del: 1, add: []string{out + "  # equalture-mock proxy: the service leaves out " + item.Value}}, true
		}
	case "value":
		var v any
		if node.Kind == yaml.ScalarNode && len(s.observed) == 1 && json.Unmarshal([]byte(s.observed[0]), &v) == nil {
			l := lines[node.Line-1]
			col := node.Column - 1
			end := col + len(node.Value)
			if node.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
				end += 2
			}
			if end <= len(l) {
				return edit{at: node.Line - 1, del: 1, add: []string{l[:col] + yamlValue(v) + l[end:]}}, true
			}
		}
	}
	at := key
	if at == nil {
		at = node
	}
	return comment(at, fmt.Sprintf("%s (%s; the contract guessed otherwise, %d time(s))", observed, s.note, s.count)), true
}

// yamlValue writes a decoded JSON value as a YAML scalar.
func yamlValue(v any) string {
	if s, ok := v.(string); ok {
		return yamlScalar(s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// yamlScalar writes v as a YAML scalar, quoted when it would read as something else.
func yamlScalar(v string) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return strconv.Quote(v)
	}
	return strings.TrimSpace(string(b))
}

// resolve finds the node at a JSON pointer of the document (following local $refs on the way)
// and the key node naming it (nil for the root).
func resolve(root *yaml.Node, pointer string) (node, key *yaml.Node) {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	doc := n
	rest, ok := strings.CutPrefix(pointer, "#")
	if !ok {
		return nil, nil
	}
	for _, tok := range strings.Split(strings.TrimPrefix(rest, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		for hops := 0; n != nil && n.Kind == yaml.MappingNode && mapValue(n, tok) == nil && mapValue(n, "$ref") != nil && hops < 8; hops++ {
			n, _ = resolve(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{doc}}, mapValue(n, "$ref").Value)
		}
		switch {
		case n == nil:
			return nil, nil
		case n.Kind == yaml.MappingNode:
			key = mapKey(n, tok)
			n = mapValue(n, tok)
		case n.Kind == yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i >= len(n.Content) {
				return nil, nil
			}
			key, n = n.Content[i], n.Content[i]
		default:
			return nil, nil
		}
	}
	return n, key
}

func mapKey(m *yaml.Node, k string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i]
		}
	}
	return nil
}

func mapValue(m *yaml.Node, k string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i+1]
		}
	}
	return nil
}

// entryEnd is the line index after the entry of key in mapping m: where the next key starts, or
// past the deepest line of its value.
func entryEnd(m, key *yaml.Node) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i] == key {
			if i+2 < len(m.Content) {
				return m.Content[i+2].Line - 1
			}
			return lastLine(m.Content[i+1])
		}
	}
	return key.Line
}

func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		last = max(last, lastLine(c))
	}
	return last
}

// unifiedDiff renders edits of lines (sorted, not overlapping) as a unified diff of file, with
// three lines of context.
func unifiedDiff(file string, lines []string, edits []edit) string {
	if len(edits) == 0 {
		return ""
	}
	const context = 3
	var b bytes.Buffer
	fmt.Fprintf(&b, "--- a/%s\n+++ b/%s\n", file, file)
	shift := 0 // new line numbers run ahead of the old ones by this much
	for i := 0; i < len(edits); {
		// A hunk: edits whose contexts touch.
		j := i + 1
		for j < len(edits) && edits[j].at-context <= edits[j-1].at+edits[j-1].del+context {
			j++
		}
		start := max(edits[i].at-context, 0)
		end := min(edits[j-1].at+edits[j-1].del+context, len(lines))
		var body []string
		oldN, newN := 0, 0
		pos := start
		hunkShift := shift
		for _, e := range edits[i:j] {
			for ; pos < e.at; pos++ {
				body = append(body, " "+lines[pos])
				oldN++
				newN++
			}
			for k := 0; k < e.del; k++ {
				body = append(body, "-"+lines[pos])
				pos++
				oldN++
			}
			for _, a := range e.add {
				body = append(body, "+"+a)
				newN++
			}
			shift += len(e.add) - e.del
		}
		for ; pos < end; pos++ {
			body = append(body, " "+lines[pos])
			oldN++
			newN++
		}
		fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", start+1, oldN, start+1+hunkShift, newN)
		b.WriteString(strings.Join(body, "\n") + "\n")
		i = j
	}
	return b.String()
}
