package testenv_test

import (
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/testenv"
)

func TestCheck(t *testing.T) {
	const head = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>t</title></head><body>\n"
	const tail = "\n</body></html>\n"
	tests := map[string]struct {
		body string
		want []string // "" for a valid document
	}{
		"valid":            {`<p>a <b>b</b><br> <img src="x" alt=""></p><script>if (1 < 2 && "</p>") {}</script>`, nil},
		"svg self-closing": {`<svg viewBox="0 0 10 10"><rect x="0" y="0" width="1" height="1"/><circle r="1"/></svg>`, nil},
		"escaped text":     {`<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`, nil},
		"unclosed p":       {`<div><p>a</div>`, []string{"line 3: </div> but <p> (line 3) is still open"}},
		"closed too early": {`<main><section>`, []string{"line 4: </body> but <section> (line 3) is still open"}},
		"stray end tag":    {`<p>a</p></span>`, []string{"</span> but <body>"}},
		"end tag of void":  {`<br></br>`, []string{"br is a void element"}},
		"self-closing div": {`<div/>`, []string{"<div/> is not a void element"}},
		"duplicate id":     {`<p id="x">a</p><p id="x">b</p>`, []string{`id "x" is used again (first at line 3)`}},
		"misnested":        {`<b><i>a</b></i>`, []string{"</b> but <i>"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := testenv.CheckHTML([]byte(head + tc.body + tail))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("a valid document: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no problem found")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
		})
	}
	if err := testenv.CheckHTML([]byte(head + "<main><p>")); err == nil || !strings.Contains(err.Error(), "line 3: <p> is never closed\nline 3: <main> is never closed") {
		t.Fatalf("a document that ends early: %v", err)
	}
	if err := testenv.CheckHTML([]byte("<p>x</p>")); err == nil || !strings.Contains(err.Error(), "doctype") {
		t.Fatalf("no doctype: %v", err)
	}
}
