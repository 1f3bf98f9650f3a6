package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html"
)

// void elements have no end tag (HTML Living Standard, 13.1.2).
var void = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

type open struct {
	name string
	line int
}

// CheckHTML checks that an HTML document the mock serves is well formed, stricter than
// browsers need: a doctype first; every element that is not void closed explicitly, in order (no
// reliance on optional end tags or on the parser's error recovery); no end tag for a void element
// and no stray end tag; no self-closing syntax outside SVG; no id twice in the document. (An
// attribute given twice on one element is not caught: the tokenizer keeps the first, as the HTML5
// rules say.) It reads with golang.org/x/net/html's tokenizer, which follows the
// HTML5 tokenization rules browsers use, so raw text (script, style) and character references are
// read as a browser reads them. Tests run it on every page they fetch.
//
// It returns every problem found in doc (nil when there is none), each with its line.
func CheckHTML(doc []byte) error {
	z := html.NewTokenizer(bytes.NewReader(doc))
	var (
		errs    []error
		stack   []open
		ids     = map[string]int{}
		line    = 1 // where the next token starts
		here    = 1 // where the current token starts
		doctype = false
		started = false
	)
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("line %d: "+format, append([]any{here}, args...)...))
	}
	inSVG := func() bool {
		for _, o := range stack {
			if o.name == "svg" {
				return true
			}
		}
		return false
	}
	for {
		tt := z.Next()
		raw := z.Raw()
		here = line
		line += bytes.Count(raw, []byte("\n"))
		if tt == html.ErrorToken {
			if err := z.Err(); !errors.Is(err, io.EOF) {
				bad("%v", err)
			}
			break
		}
		switch tt {
		case html.DoctypeToken:
			if started || doctype {
				bad("a doctype must come first, once")
			}
			doctype = true
		case html.TextToken:
			if strings.TrimSpace(string(raw)) != "" {
				started = true
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			started = true
			rawName, more := z.TagName()
			name := string(rawName)
			if !doctype {
				bad("<%s> before the doctype", name)
				doctype = true // once
			}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				if string(k) != "id" {
					continue
				}
				if first, dup := ids[string(v)]; dup {
					bad("id %q is used again (first at line %d)", v, first)
				}
				ids[string(v)] = here
			}
			switch {
			case tt == html.SelfClosingTagToken && !void[name] && !inSVG() && name != "svg":
				bad("<%s/> is not a void element: write <%s></%s>", name, name, name)
			case tt == html.SelfClosingTagToken, void[name]:
			default:
				stack = append(stack, open{name, here})
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			n := string(name)
			switch {
			case void[n]:
				bad("</%s>: %s is a void element, it has no end tag", n, n)
			case len(stack) == 0:
				bad("</%s> closes nothing", n)
			case stack[len(stack)-1].name != n:
				top := stack[len(stack)-1]
				bad("</%s> but <%s> (line %d) is still open", n, top.name, top.line)
				// Recover as far as the element it closes, so one slip is reported once.
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i].name == n {
						stack = stack[:i]
						break
					}
				}
			default:
				stack = stack[:len(stack)-1]
			}
		}
	}
	if !doctype {
		errs = append(errs, errors.New("no doctype"))
	}
	for i := len(stack) - 1; i >= 0; i-- {
		errs = append(errs, fmt.Errorf("line %d: <%s> is never closed", stack[i].line, stack[i].name))
	}
	return errors.Join(errs...)
}
