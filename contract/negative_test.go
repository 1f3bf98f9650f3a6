package contract

import (
	"context"
	"encoding/json"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/negative"
	"github.com/equalture/equalture-mock/internal/spec"
)

// Invalid requests, Schemathesis-style: for each operation with a body or parameters, up to
// EQUALTURE_CONTRACT_NEGATIVE_COUNT requests (seeded by EQUALTURE_CONTRACT_NEGATIVE_SEED) that
// break the contract in one place. The target must refuse each with a 4xx the operation documents,
// in the documented error shape, never a 5xx, and create nothing. Every request is checked to be
// invalid before it is sent; those that could change something if a target wrongly accepted them
// (POST, PUT, DELETE) are also destructive, and aim at an id nobody has (an application, a webhook
// label) where the path takes one.
var _ = Describe("Invalid requests", Label("negative"), func() {
	sp, err := spec.Load(context.Background(), assets.VendorSpec())
	if err != nil {
		It("loads openapi.yaml", func() { Fail(err.Error()) })
		return
	}
	count, seed, _ := cfg.Negatives() // a bad setting fails the suite's set-up, naming it
	cases := negative.Generate(sp, count, seed)
	if len(cases) == 0 {
		return
	}
	ops := sp.Operations()
	entries := make([]TableEntry, 0, len(cases))
	for _, c := range cases {
		if c.Method == http.MethodGet {
			entries = append(entries, Entry(c.Name(), c))
		} else {
			entries = append(entries, Entry(c.Name(), Label("destructive"), c))
		}
	}
	DescribeTable("are refused with a documented 4xx in the error shape, and create nothing",
		func(c negative.Case) {
			tok := token()
			valid := negative.Example(sp, ops[c.Operation])
			if _, ok := valid.PathParams["reference_id"]; ok {
				valid.PathParams["reference_id"] = unknownRef
			}
			var hook string // the label of a webhook that must not exist
			if _, ok := valid.PathParams["label"]; ok {
				hook = webhookLabel()
				valid.PathParams["label"] = hook
			}
			var marker string // the callback_url of an application that must not exist
			if c.Operation == "createApplication" {
				requireJob()
				marker = receiver.URL + callbackPath("negative")
				Expect(json.Unmarshal([]byte(applicant("email", marker)), &valid.Body)).To(Succeed())
			}
			bad := c.Apply(valid)
			target, body := bad.Target(c.Path), bad.JSON()
			Expect(negative.Validate(sp, c.Method, target, body)).To(HaveOccurred(),
				"not sent: the generator made a request openapi.yaml accepts: %s %s %s", c.Method, target, body)

			r := call(c.Method, target, string(body), Bearer(tok))
			if ref := r.Field("reference_id"); r.Status < 300 && ref != "" {
				Fail("the target created application " + ref + " from an invalid request (" + c.Name() + "): " + r.String())
			}
			Expect(r.Status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)),
				"%s: the invalid request %s %s %s must get a 4xx: %s", c.Name(), c.Method, target, body, r)
			expectField(r, "errors", BeAssignableToTypeOf(map[string]any{}))
			if hook != "" && c.Method == http.MethodPut {
				list, raw := listWebhooks(tok)
				Expect(labels(list)).NotTo(ContainElement(hook), "webhook %s was registered from an invalid request (%s): %s", hook, c.Name(), raw)
			}
			if marker != "" && ctl != nil {
				var list struct {
					Applications []struct {
						ReferenceID string `json:"reference_id"`
						CallbackURL string `json:"callback_url"`
					}
				}
				Expect(json.Unmarshal(mustJSON(control(http.MethodGet, "/applications?client_id="+cfg.ClientID, "")), &list)).To(Succeed())
				for _, a := range list.Applications {
					Expect(a.CallbackURL).NotTo(Equal(marker), "application %s was created from an invalid request (%s)", a.ReferenceID, c.Name())
				}
			}
		},
		entries,
	)
})
