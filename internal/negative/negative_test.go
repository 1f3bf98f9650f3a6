package negative_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/negative"
	"github.com/equalture/equalture-mock/internal/spec"
)

func contract(t *testing.T) *spec.Spec {
	t.Helper()
	sp, err := spec.Vendor()
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// TestEveryGeneratedRequestIsInvalid is the generator's safety proof: for many seeds and with no
// bound, the contract's own validator refuses every request it makes — while it accepts the valid
// request each was made from.
func TestEveryGeneratedRequestIsInvalid(t *testing.T) {
	sp := contract(t)
	ops := sp.Operations()
	total := 0
	for seed := range uint64(25) {
		for _, c := range negative.Generate(sp, 1000, seed) {
			valid := negative.Example(sp, ops[c.Operation])
			if err := negative.Validate(sp, c.Method, valid.Target(c.Path), valid.JSON()); err != nil {
				t.Fatalf("the example request of %s is not valid, so it proves nothing: %v", c.Operation, err)
			}
			bad := c.Apply(valid)
			if err := negative.Validate(sp, c.Method, bad.Target(c.Path), bad.JSON()); err == nil {
				t.Errorf("seed %d: %s is a VALID request: %s %s %s", seed, c.Name(), c.Method, bad.Target(c.Path), bad.JSON())
			}
			// Apply leaves the valid request alone.
			if err := negative.Validate(sp, c.Method, valid.Target(c.Path), valid.JSON()); err != nil {
				t.Fatalf("%s changed the request it was applied to: %v", c.Name(), err)
			}
			total++
		}
	}
	t.Logf("%d generated requests over 25 seeds, every one refused by the contract", total)
}

func TestGenerateIsBoundedSeededAndCoversEveryKind(t *testing.T) {
	sp := contract(t)
	names := func(cs []negative.Case) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.Name()
		}
		return out
	}
	a, b := negative.Generate(sp, 20, 7), negative.Generate(sp, 20, 7)
	if !slices.Equal(names(a), names(b)) {
		t.Fatal("the same seed gave different cases")
	}
	if c := negative.Generate(sp, 20, 8); slices.Equal(names(a), names(c)) {
		t.Error("another seed gave the same cases")
	}
	perOp := map[string]int{}
	for _, c := range a {
		perOp[c.Operation]++
	}
	for _, id := range []string{"createApplication", "hireApplicant", "anonymizeApplication", "getPublicLink", "getResults", "getStatus"} {
		if n := perOp[id]; n == 0 || n > 20 {
			t.Errorf("%s: %d cases, want 1 to 20", id, n)
		}
	}
	for _, id := range []string{"createAccessToken", "getAccessTokenLegacy", "listJobs"} {
		if perOp[id] != 0 {
			t.Errorf("%s has neither body nor parameters, yet %d cases", id, perOp[id])
		}
	}
	if perOp["createApplication"] != 20 {
		t.Errorf("createApplication: %d cases, want the bound, 20", perOp["createApplication"])
	}
	kinds := map[string]bool{}
	var where []string
	for _, c := range negative.Generate(sp, 1000, 1) {
		kinds[c.Kind] = true
		where = append(where, c.Name())
	}
	for _, k := range []string{negative.Missing, negative.Type, negative.Enum, negative.Format, negative.Length, negative.Pattern} {
		if !kinds[k] {
			t.Errorf("no %s case", k)
		}
	}
	all := strings.Join(where, "\n")
	for _, want := range []string{
		"createApplication: body missing",
		"createApplication: body.applicant_details.email missing",
		"createApplication: body.invitation_type enum",
		"createApplication: body.job_id format",
		"createApplication: body.callback_url pattern",
		"createApplication: body.applicant_details.first_name length",
		"hireApplicant: body.add_to_team missing",
		"hireApplicant: body.start_date format",
		"hireApplicant: path.reference_id format",
		"getResults: query.locale pattern",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no case %q among:\n%s", want, all)
		}
	}
	if testing.Verbose() {
		fmt.Println(strings.Join(names(a), "\n"))
	}
}
