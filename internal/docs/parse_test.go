package docs

import (
	"strings"
	"testing"
)

// The anchors GitHub gives headings such as those of these pages.
func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"Persistence (`--data-dir`)":                                                "persistence---data-dir",
		"Operator console (`/_mock/ui`)":                                            "operator-console-_mockui",
		"1. The suite, with references to completed applications":                   "1-the-suite-with-references-to-completed-applications",
		"The data dir's volume":                                                     "the-data-dirs-volume",
		"Webhooks: `assessment_started` and `assessment_finished`":                  "webhooks-assessment_started-and-assessment_finished",
		"Go testing (`equaltest` and `mockserver`)":                                 "go-testing-equaltest-and-mockserver",
		"Does the suite catch anything?":                                            "does-the-suite-catch-anything",
		"**Bold** and [a link](x.md) — with a dash":                                 "bold-and-a-link--with-a-dash",
		"Validating proxy (`equalture-mock proxy`)":                                 "validating-proxy-equalture-mock-proxy",
		"3. The validating proxy, in front of your own traffic, callbacks included": "3-the-validating-proxy-in-front-of-your-own-traffic-callbacks-included",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	src := "# T\n\n## Same\n\n## Same\n\n- item\n\n  ```sh {untested: no engine; see scripts/image-test}\n  docker run x\n  ```\n\n" +
		"```sh {background: localhost:8080}\nequalture-mock serve\n```\n\n```text\n## not a heading\n```\n"
	p, err := parse("x.md", src)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(p.blocks), 3; got != want {
		t.Fatalf("%d blocks, want %d", got, want)
	}
	why, see, ok := p.blocks[0].untested()
	if !ok || why != "no engine" || see != "scripts/image-test" || p.blocks[0].text != "docker run x\n" {
		t.Errorf("indented untested block = %+v (%q, %q, %v)", p.blocks[0], why, see, ok)
	}
	if got := p.blocks[1].background(); got != "localhost:8080" {
		t.Errorf("background = %q", got)
	}
	anchors := p.anchors()
	for _, a := range []string{"t", "same", "same-1"} {
		if !anchors[a] {
			t.Errorf("anchor %q missing from %v", a, anchors)
		}
	}
	if anchors["not-a-heading"] {
		t.Error("a line inside a fenced block was taken for a heading")
	}
	for _, bad := range []string{"```sh untested\nx\n```\n", "```sh\nnever closed\n"} {
		if _, err := parse("bad.md", bad); err == nil {
			t.Errorf("parse(%q) succeeded", bad)
		}
	}
}

func TestExpectations(t *testing.T) {
	exp := expectations("curl a   # → {\"status\":\"…\"}\ncurl b\n# → exit status 1\nx # not an output\n")
	if len(exp) != 2 {
		t.Fatalf("%d expectations, want 2", len(exp))
	}
	if !exp[0].MatchString(`{"status":"invited"}`) || exp[0].MatchString(`{"state":"invited"}`) {
		t.Errorf("%v matches wrongly", exp[0])
	}
	// … stays on its line.
	if exp[0].MatchString("{\"status\":\"in\nvited\"}") {
		t.Errorf("%v matched across lines", exp[0])
	}
	if !strings.Contains(exp[1].String(), "exit status 1") {
		t.Errorf("second expectation = %v", exp[1])
	}
}
