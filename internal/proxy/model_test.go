package proxy

import (
	"context"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/spec"
)

// TestBoundedForgetsTheLeastRecentlySeen: past its cap the model forgets the entry seen least
// recently, counts it, and the report says so.
func TestBoundedForgetsTheLeastRecentlySeen(t *testing.T) {
	b := newBounded[int](3)
	for i, k := range []string{"a", "b", "c"} {
		b.put(k, i)
	}
	b.get("a") // seen again: b is now the least recent
	b.put("d", 3)
	if _, ok := b.get("b"); ok || b.evicted != 1 {
		t.Fatalf("b kept (evicted %d)", b.evicted)
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := b.get(k); !ok {
			t.Fatalf("%s forgotten", k)
		}
	}

	v, err := spec.Load(context.Background(), assets.VendorSpec())
	if err != nil {
		t.Fatal(err)
	}
	c, err := spec.Load(context.Background(), assets.ControlSpec())
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Target: "http://target.example", Contract: v, ControlContract: c})
	if err != nil {
		t.Fatal(err)
	}
	p.model.apps.cap = 2
	for _, ref := range []string{"r1", "r2", "r3", "r4"} {
		p.model.newApp(ref, "demo-client", false, 0, dispatch.Evidence{})
	}
	r := p.Report()
	if r.Behaviour.Applications != 2 || r.Behaviour.Forgotten.Applications != 2 {
		t.Fatalf("behaviour %+v", r.Behaviour)
	}
	p.model.clockMoved = &dispatch.Evidence{Exchange: 7, What: "setClock (control API) answered 200"}
	if s := p.Report().Summary(); !strings.Contains(s, "forgotten past the caps: 2 application(s)") || !strings.Contains(s, "token lifetimes not judged since exchange 7") {
		t.Fatalf("the summary does not say what was forgotten and not judged:\n%s", s)
	}
}

// BenchmarkModelJudgesAStatus is what the rules of behaviour cost an exchange that reports a
// state: an observation checked against what was known, and the moves nothing would announce.
func BenchmarkModelJudgesAStatus(b *testing.B) {
	v, err := spec.Vendor()
	if err != nil {
		b.Fatal(err)
	}
	m := newModel(v.Lifecycle(), 0)
	a := m.newApp("r1", "demo-client", true, 0, dispatch.Evidence{})
	states := []string{"invited"}
	var seq int64
	for b.Loop() {
		seq += 2
		if old := m.observe(a, states, seq, seq, dispatch.Evidence{Exchange: seq}); old != nil {
			b.Fatal("contradicted")
		}
		_ = m.unannounced(a)
	}
}
