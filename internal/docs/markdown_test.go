package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// root is the repository, seen from this package.
const root = "../.."

// page is one markdown file of the documentation.
type page struct {
	path   string // relative to the repository, e.g. docs/api.md
	lines  []string
	blocks []block
	fenced []bool // per line: it belongs to a fenced block (fences included)
}

// block is a fenced code block.
type block struct {
	line  int    // of the opening fence, 1-based
	lang  string // the info string's first word
	attrs string // the rest of the info string, inside {…}
	text  string
}

// untested says whether a block is marked {untested: why; see where}, and why, and where its
// equivalent is tested.
func (b block) untested() (why, see string, ok bool) {
	rest, ok := strings.CutPrefix(b.attrs, "untested:")
	if !ok {
		return "", "", false
	}
	why, see, _ = strings.Cut(rest, "; see ")
	return strings.TrimSpace(why), strings.TrimSpace(see), true
}

// background is the address a background block listens on, or "".
func (b block) background() string {
	addr, _ := strings.CutPrefix(b.attrs, "background:")
	if addr == b.attrs {
		return ""
	}
	return strings.TrimSpace(addr)
}

func (b block) String() string { return fmt.Sprintf("line %d (```%s %s)", b.line, b.lang, b.attrs) }

// pages reads README.md and docs/*.md; docs/_incoming is left out on purpose.
func pages(t *testing.T) []*page {
	t.Helper()
	paths := []string{"README.md"}
	found, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.ToSlash(rel))
	}
	var out []*page
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		pg, err := parse(p, string(b))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pg)
	}
	return out
}

var fence = regexp.MustCompile("^( {0,8})```([^`]*)$")

// parse splits a markdown file into lines and fenced blocks. A block's fence may be indented (in a
// list item); its lines lose that indentation.
func parse(path, src string) (*page, error) {
	p := &page{path: path, lines: strings.Split(src, "\n")}
	p.fenced = make([]bool, len(p.lines))
	for i := 0; i < len(p.lines); i++ {
		m := fence.FindStringSubmatch(p.lines[i])
		if m == nil {
			continue
		}
		indent, info := m[1], strings.TrimSpace(m[2])
		b := block{line: i + 1}
		b.lang, b.attrs, _ = strings.Cut(info, " ")
		b.attrs = strings.TrimSpace(b.attrs)
		if b.attrs != "" {
			if !strings.HasPrefix(b.attrs, "{") || !strings.HasSuffix(b.attrs, "}") {
				return nil, fmt.Errorf("%s:%d: a fence's attributes go in braces: ```%s", path, i+1, info)
			}
			b.attrs = strings.TrimSpace(b.attrs[1 : len(b.attrs)-1])
		}
		var body []string
		for i++; ; i++ {
			if i == len(p.lines) {
				return nil, fmt.Errorf("%s:%d: the block opened here is never closed", path, b.line)
			}
			if strings.TrimSpace(p.lines[i]) == "```" {
				break
			}
			body = append(body, strings.TrimPrefix(p.lines[i], indent))
		}
		b.text = strings.Join(body, "\n") + "\n"
		p.blocks = append(p.blocks, b)
		for l := b.line - 1; l <= i; l++ {
			p.fenced[l] = true
		}
	}
	return p, nil
}

// inBlock says line i (from 0) belongs to a fenced block (fences included); a page made without
// parse has none.
func (p *page) inBlock(i int) bool { return i < len(p.fenced) && p.fenced[i] }

// prose is the page without its fenced blocks and inline code: where links and headings live.
// Fenced lines become empty, so line numbers still match.
func (p *page) prose() []string {
	out := slices.Clone(p.lines)
	for i := range out {
		if p.inBlock(i) {
			out[i] = ""
		} else {
			out[i] = inlineCode.ReplaceAllString(out[i], "")
		}
	}
	return out
}

var (
	inlineCode = regexp.MustCompile("`[^`]*`")
	heading    = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	mdLink     = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]*)(?:\s+"[^"]*")?\)`)
	htmlID     = regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)
)

// anchors are the #fragments GitHub gives the page's headings (and explicit <a id> tags).
func (p *page) anchors() map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for i, l := range p.lines {
		if p.inBlock(i) {
			continue
		}
		for _, m := range htmlID.FindAllStringSubmatch(l, -1) {
			out[m[1]] = true
		}
		m := heading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := slug(m[2])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// slug is GitHub's anchor for a heading: the text as rendered (code spans and links reduced to
// their text, emphasis dropped), lower case, everything but letters, digits, marks, spaces, '-'
// and '_' removed, spaces made hyphens.
func slug(h string) string {
	h = mdLink.ReplaceAllString(h, "$1")
	h = strings.NewReplacer("`", "", "*", "").Replace(h)
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
