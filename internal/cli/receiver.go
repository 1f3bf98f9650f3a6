package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/receiver"
	"github.com/equalture/equalture-mock/internal/spec"
)

// runReceiver is `equalture-mock receiver`: a callback endpoint for trying the mock by hand. It
// prints every results callback the mock PUTs and every webhook event it POSTs, says whether it
// honours the contract (and, given the webhook's secret, whether its signature verifies), and
// answers as told.
func runReceiver(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	f := newFlagSet("receiver", env, stderr)
	var addr, respond, secret string
	f.StringVar(&addr, "addr", "127.0.0.1:3000", "address to listen on")
	f.bindEnv("addr", "EQUALTURE_MOCK_RECEIVER_ADDR")
	f.StringVar(&respond, "respond", "200", "what to answer, in turn (the last repeats): statuses or 'down', comma-separated, e.g. 500,500,200")
	f.bindEnv("respond", "EQUALTURE_MOCK_RECEIVER_RESPOND")
	f.StringVar(&secret, "secret", "", "the webhook's secret (whsec_…): verify the signature of every event")
	f.bindEnv("secret", "EQUALTURE_MOCK_RECEIVER_SECRET")
	if code, ok := f.parseOrExit(args, stderr); !ok {
		return code
	}
	if secret != "" {
		if err := domain.CheckSecret(secret); err != nil {
			fmt.Fprintf(stderr, "equalture-mock receiver: --secret %v\n", err)
			return exitUsage
		}
	}
	var plan []receiver.Answer
	for _, s := range strings.Split(respond, ",") {
		s = strings.TrimSpace(s)
		if s == "down" {
			plan = append(plan, receiver.Down)
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 || n > 599 {
			fmt.Fprintf(stderr, "equalture-mock receiver: --respond %q: want statuses (100-599) or down\n", s)
			return exitUsage
		}
		plan = append(plan, receiver.Answer(n))
	}
	sp, err := spec.Vendor()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFail
	}
	rcv, err := receiver.New(addr, "", sp)
	if err != nil {
		fmt.Fprintf(stderr, "equalture-mock receiver: %v\n", err)
		return exitFail
	}
	defer rcv.Close()
	rcv.SetDefault(plan, 0)
	rcv.SetDefaultSecret(secret)
	var mu sync.Mutex
	rcv.Watch(func(cb receiver.Callback) {
		mu.Lock()
		defer mu.Unlock()
		verdict := "honours openapi.yaml"
		switch {
		case cb.Violation != "":
			verdict = "BREAKS openapi.yaml: " + cb.Violation
		case cb.Event != "" && secret != "":
			verdict += ", signature verified"
		}
		what := "results"
		if cb.Event != "" {
			what = "event " + cb.Event
		}
		fmt.Fprintf(stdout, "%s %s: %s (delivery %s, attempt %s) → answered %s; %s\n%s\n\n", cb.Method, cb.Path, what,
			cb.Header.Get("X-Equalture-Delivery-Id"), cb.Header.Get("X-Equalture-Delivery-Attempt"), cb.Answer, verdict, cb.Body)
	})
	fmt.Fprintf(stdout, "receiving callbacks at %s (answering %s); use it as callback_url, e.g. %s/applications/42, or as a webhook's url, e.g. %s/events\n\n", rcv.URL, respond, rcv.URL, rcv.URL)
	<-ctx.Done()
	return exitOK
}
