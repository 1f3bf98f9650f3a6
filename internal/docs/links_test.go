package docs

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// maxReadmeLines keeps the README a front door; the reference lives in docs/.
const maxReadmeLines = 250

func TestReadmeIsShort(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n > maxReadmeLines {
		t.Errorf("README.md has %d lines, at most %d: move reference material to a page under docs/", n, maxReadmeLines)
	}
}

// Every relative link and image resolves to a file or folder of the repository, and every #anchor
// to a heading of the page it names.
func TestLinksResolve(t *testing.T) {
	all := pages(t)
	byPath := map[string]*page{}
	for _, p := range all {
		byPath[p.path] = p
	}
	anchorsOf := func(file string) (map[string]bool, bool) {
		if p, ok := byPath[file]; ok {
			return p.anchors(), true
		}
		if !strings.HasSuffix(file, ".md") {
			return nil, false
		}
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			return nil, false
		}
		p, err := parse(file, string(b))
		if err != nil {
			t.Fatal(err)
		}
		return p.anchors(), true
	}
	checked := 0
	for _, p := range all {
		for n, l := range p.prose() {
			for _, m := range mdLink.FindAllStringSubmatch(l, -1) {
				target := m[2]
				if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				checked++
				file, anchor, _ := strings.Cut(target, "#")
				if file == "" {
					file = p.path
				} else {
					file = path.Clean(path.Join(path.Dir(p.path), file))
				}
				if file == ".." || strings.HasPrefix(file, "../") {
					t.Errorf("%s:%d: link %q leaves the repository", p.path, n+1, target)
					continue
				}
				if _, err := os.Stat(filepath.Join(root, file)); err != nil {
					t.Errorf("%s:%d: link %q: %s does not exist", p.path, n+1, target, file)
					continue
				}
				if anchor == "" {
					continue
				}
				anchors, ok := anchorsOf(file)
				if !ok {
					t.Errorf("%s:%d: link %q has an anchor, but %s is no markdown page", p.path, n+1, target, file)
				} else if !anchors[anchor] {
					t.Errorf("%s:%d: link %q: %s has no heading whose anchor is #%s", p.path, n+1, target, file, anchor)
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d relative links found: is the link pattern broken?", checked)
	}
}

// links is every link target of a page's prose, as written.
func (p *page) links() []string {
	var out []string
	for _, l := range p.prose() {
		for _, m := range mdLink.FindAllStringSubmatch(l, -1) {
			out = append(out, m[2])
		}
	}
	return out
}

// Every page of docs/ starts (right under its title) with links back to the README and the index,
// and both of these link to every page.
func TestPagesLinkedBothWays(t *testing.T) {
	all := pages(t)
	links := func(p *page) map[string]bool {
		out := map[string]bool{}
		for _, l := range p.links() {
			file, _, _ := strings.Cut(l, "#")
			out[path.Clean(path.Join(path.Dir(p.path), file))] = true
		}
		return out
	}
	var readme, index *page
	for _, p := range all {
		switch p.path {
		case "README.md":
			readme = p
		case "docs/README.md":
			index = p
		}
	}
	if index == nil {
		t.Fatal("docs/README.md, the index of the pages, is missing")
	}
	fromReadme, fromIndex := links(readme), links(index)
	if !fromReadme["docs/README.md"] {
		t.Error("README.md does not link the index, docs/README.md")
	}
	for _, p := range all {
		if p == readme || p == index {
			continue
		}
		if !fromReadme[p.path] {
			t.Errorf("README.md does not link %s (its map of the docs should)", p.path)
		}
		if !fromIndex[p.path] {
			t.Errorf("docs/README.md does not link %s", p.path)
		}
		// The first paragraph under the title.
		var first []string
		for _, l := range p.prose()[1:] {
			if strings.TrimSpace(l) == "" {
				if len(first) > 0 {
					break
				}
				continue
			}
			first = append(first, l)
		}
		head := &page{path: p.path, lines: first}
		back := links(head)
		if !back["README.md"] || !back["docs/README.md"] {
			t.Errorf("%s: the paragraph under its title should link back to the README (../README.md) and the index (README.md); it links %v", p.path, head.links())
		}
	}
	if !links(index)["README.md"] {
		t.Error("docs/README.md does not link back to the README (../README.md)")
	}
}

// Every fenced block says what it holds, so a shell command cannot hide from the command test in
// an unmarked block; only sh blocks are commands.
func TestFencesSayWhatTheyHold(t *testing.T) {
	known := map[string]bool{"sh": true, "go": true, "ts": true, "yaml": true, "json": true, "text": true}
	for _, p := range pages(t) {
		for _, b := range p.blocks {
			if !known[b.lang] {
				t.Errorf("%s: block at %s: the language must be one of sh (commands), go, ts, yaml, json, text", p.path, b)
			}
			_, _, untested := b.untested()
			switch {
			case b.attrs == "":
			case b.lang != "sh":
				t.Errorf("%s: block at %s: only sh blocks take attributes", p.path, b)
			case !untested && b.background() == "":
				t.Errorf("%s: block at %s: the attributes are {untested: <why>; see <path>} or {background: <host:port>}", p.path, b)
			}
		}
	}
}
