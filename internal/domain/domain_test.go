package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/spec"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const week = 7 * 24 * time.Hour

// contract is the lifecycle the embedded contracts state: the one the mock applies.
func contract(t testing.TB) *domain.Lifecycle {
	t.Helper()
	lc, err := spec.EmbeddedLifecycle()
	if err != nil {
		t.Fatal(err)
	}
	return lc
}

// handBuilt are the rules the embedded contracts state, written out: the base of the edge cases'
// rules (and what TestTheContractStatesTheseRules holds the contracts to).
func handBuilt() domain.Rules {
	all := domain.Statuses
	return domain.Rules{
		Initial: domain.Invited,
		Moves: map[domain.Action]domain.Move{
			domain.ActStart:     {From: []domain.Status{domain.Invited, domain.Started}, To: domain.Started},
			domain.ActComplete:  {From: []domain.Status{domain.Invited, domain.Started}, To: domain.Completed, Via: map[domain.Status][]domain.Status{domain.Invited: {domain.Started}}},
			domain.ActExpire:    {From: []domain.Status{domain.Invited, domain.Started, domain.Expired}, To: domain.Expired},
			domain.ActHire:      {From: []domain.Status{domain.Completed}, To: domain.Hired},
			domain.ActAnonymize: {From: all, To: domain.Anonymized},
		},
		Lapse:      []domain.Status{domain.Invited, domain.Started},
		Results:    []domain.Status{domain.Completed, domain.Hired},
		PublicLink: []domain.Status{domain.Completed, domain.Hired},
	}
}

// build is the lifecycle applying r, which must be rules the domain can apply.
func build(t testing.TB, r domain.Rules) *domain.Lifecycle {
	t.Helper()
	lc, err := domain.NewLifecycle(r)
	if err != nil {
		t.Fatal(err)
	}
	return lc
}

func invited() domain.Application {
	a, _ := domain.Invite(domain.Application{ReferenceID: "r", ClientID: "c", Applicant: domain.Applicant{FirstName: "Ada", Email: "ada@example.com"}}, t0, week)
	return a
}

// step runs action act of lc on a at now and returns its events' types.
func step(lc *domain.Lifecycle, a *domain.Application, act domain.Action, now time.Time) ([]domain.EventType, error) {
	var events []domain.Event
	var err error
	switch act {
	case domain.ActStart:
		events, err = lc.Start(a, now)
	case domain.ActComplete:
		events, err = lc.Complete(a, now, domain.Scores{{Trait: "x", Value: 3}})
	case domain.ActHire:
		events, err = lc.Hire(a, now, domain.Hire{AddToTeam: true})
	case domain.ActAnonymize:
		events, err = lc.Anonymize(a, now)
	case domain.ActExpire:
		events, err = lc.ExpireInvitation(a, now)
	default:
		panic(act)
	}
	var types []domain.EventType
	for _, e := range events {
		types = append(types, e.Type)
	}
	return types, err
}

// run takes steps (an action's name; one ending in "!" must be refused with a StateError, and
// change nothing) a minute apart from an invitation, and returns the application and every
// event's type.
func run(t *testing.T, lc *domain.Lifecycle, steps ...string) (domain.Application, string) {
	t.Helper()
	a := invited()
	var all []domain.EventType
	for i, st := range steps {
		st, mustFail := strings.CutSuffix(st, "!")
		before := a
		types, err := step(lc, &a, domain.Action(st), t0.Add(time.Duration(i)*time.Minute))
		var se *domain.StateError
		switch {
		case mustFail && !errors.As(err, &se):
			t.Fatalf("%s: error %v, want a StateError", st, err)
		case mustFail && (len(types) > 0 || fmt.Sprint(a) != fmt.Sprint(before)):
			t.Fatalf("%s was refused but changed the application or caused %v", st, types)
		case !mustFail && err != nil:
			t.Fatalf("%s: %v", st, err)
		}
		all = append(all, types...)
	}
	return a, fmt.Sprint(all)
}

// TestTheContractStatesTheseRules: the embedded contracts' x-lifecycle, as the domain gets it, is
// the lifecycle the docs describe (handBuilt).
func TestTheContractStatesTheseRules(t *testing.T) {
	if got, want := contract(t).Rules(), handBuilt(); !reflect.DeepEqual(got, normal(want)) {
		t.Fatalf("the contracts state\n%+v\nwant\n%+v", got, normal(want))
	}
}

// normal is r as Rules returns it: every move with a (maybe empty) Via.
func normal(r domain.Rules) domain.Rules {
	for act, m := range r.Moves {
		if m.Via == nil {
			m.Via = map[domain.Status][]domain.Status{}
		}
		r.Moves[act] = m
	}
	return r
}

func TestTransitions(t *testing.T) {
	tests := map[string]struct {
		steps  []string // a step ending in "!" must fail with a StateError
		want   domain.Status
		events string
	}{
		"invited → started → completed → hired":     {[]string{"start", "complete", "hire"}, domain.Hired, "[assessment_started assessment_finished applicant_hired]"},
		"complete straight from invited starts too": {[]string{"complete"}, domain.Completed, "[assessment_started assessment_finished]"},
		"hire before completion":                    {[]string{"start", "hire!"}, domain.Started, "[assessment_started]"},
		"hire twice":                                {[]string{"complete", "hire", "hire!"}, domain.Hired, "[assessment_started assessment_finished applicant_hired]"},
		"anonymize from invited":                    {[]string{"anonymize"}, domain.Anonymized, "[application_anonymized]"},
		"anonymize from hired":                      {[]string{"complete", "hire", "anonymize"}, domain.Anonymized, "[assessment_started assessment_finished applicant_hired application_anonymized]"},
		"anonymize twice changes nothing":           {[]string{"anonymize", "anonymize"}, domain.Anonymized, "[application_anonymized]"},
		"complete after anonymize":                  {[]string{"anonymize", "complete!"}, domain.Anonymized, "[application_anonymized]"},
		"start twice changes nothing":               {[]string{"start", "start"}, domain.Started, "[assessment_started]"},
		"start after completion":                    {[]string{"complete", "start!"}, domain.Completed, "[assessment_started assessment_finished]"},
		"complete twice":                            {[]string{"complete", "complete!"}, domain.Completed, "[assessment_started assessment_finished]"},
		"expired invitation cannot start":           {[]string{"expire", "start!"}, domain.Expired, "[]"},
		"expired invitation cannot complete":        {[]string{"expire", "complete!"}, domain.Expired, "[]"},
		"expire twice changes nothing":              {[]string{"expire", "expire"}, domain.Expired, "[]"},
		"expire after completion":                   {[]string{"complete", "expire!"}, domain.Completed, "[assessment_started assessment_finished]"},
		"a started assessment's link lapses too":    {[]string{"start", "expire", "complete!"}, domain.Expired, "[assessment_started]"},
		"an expired invitation can be anonymized":   {[]string{"expire", "anonymize"}, domain.Anonymized, "[application_anonymized]"},
	}
	lc := contract(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a, events := run(t, lc, tc.steps...)
			if got := lc.StatusAt(a, t0.Add(time.Hour)); got != tc.want {
				t.Fatalf("status = %s, want %s", got, tc.want)
			}
			if events != tc.events {
				t.Fatalf("events %s, want %s", events, tc.events)
			}
		})
	}
}

// TestRepeatsChangeNothing: a repeat the rules accept leaves the application as it was — an
// expired invitation keeps the time it lapsed.
func TestRepeatsChangeNothing(t *testing.T) {
	lc := contract(t)
	for _, act := range []domain.Action{domain.ActStart, domain.ActExpire, domain.ActAnonymize} {
		t.Run(string(act), func(t *testing.T) {
			a := invited()
			if _, err := step(lc, &a, act, t0); err != nil {
				t.Fatal(err)
			}
			before := a
			if types, err := step(lc, &a, act, t0.Add(time.Hour)); err != nil || len(types) > 0 || !reflect.DeepEqual(a, before) {
				t.Fatalf("again an hour later: %v %v, %+v\nwas %+v", types, err, a, before)
			}
		})
	}
}

// TestHandBuiltRules: what the domain does follows the rules it is given, in the corners the
// embedded contracts do not reach.
func TestHandBuiltRules(t *testing.T) {
	tests := map[string]struct {
		change func(*domain.Rules)
		steps  []string
		want   domain.Status
		events string
	}{
		"hire from started, as a contract may say": {
			func(r *domain.Rules) {
				r.Moves[domain.ActHire] = domain.Move{From: []domain.Status{domain.Started}, To: domain.Hired}
			},
			[]string{"start", "hire"}, domain.Hired, "[assessment_started applicant_hired]"},
		"then not from completed": {
			func(r *domain.Rules) {
				r.Moves[domain.ActHire] = domain.Move{From: []domain.Status{domain.Started}, To: domain.Hired}
			},
			[]string{"complete", "hire!"}, domain.Completed, "[assessment_started assessment_finished]"},
		"a completion that passes through nothing": {
			func(r *domain.Rules) { m := r.Moves[domain.ActComplete]; m.Via = nil; r.Moves[domain.ActComplete] = m },
			[]string{"complete"}, domain.Completed, "[assessment_finished]"},
		"a start that is not repeated": {
			func(r *domain.Rules) {
				r.Moves[domain.ActStart] = domain.Move{From: []domain.Status{domain.Invited}, To: domain.Started}
			},
			[]string{"start", "start!"}, domain.Started, "[assessment_started]"},
		"anonymization only once": {
			func(r *domain.Rules) {
				r.Moves[domain.ActAnonymize] = domain.Move{From: []domain.Status{domain.Invited, domain.Started, domain.Completed, domain.Hired, domain.Expired}, To: domain.Anonymized}
			},
			[]string{"anonymize", "anonymize!"}, domain.Anonymized, "[application_anonymized]"},
		"only invitations lapse, not started assessments": {
			func(r *domain.Rules) {
				r.Lapse = []domain.Status{domain.Invited}
				r.Moves[domain.ActExpire] = domain.Move{From: []domain.Status{domain.Invited, domain.Expired}, To: domain.Expired}
			},
			[]string{"start", "expire!"}, domain.Started, "[assessment_started]"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := handBuilt()
			tc.change(&r)
			lc := build(t, r)
			a, events := run(t, lc, tc.steps...)
			if got := lc.StatusAt(a, t0.Add(time.Hour)); got != tc.want {
				t.Fatalf("status = %s, want %s", got, tc.want)
			}
			if events != tc.events {
				t.Fatalf("events %s, want %s", events, tc.events)
			}
		})
	}

	// A started assessment whose invitation does not lapse is still started past the expiry.
	r := handBuilt()
	r.Lapse = []domain.Status{domain.Invited}
	r.Moves[domain.ActExpire] = domain.Move{From: []domain.Status{domain.Invited, domain.Expired}, To: domain.Expired}
	lc := build(t, r)
	a, _ := run(t, lc, "start")
	if got := lc.StatusAt(a, t0.Add(2*week)); got != domain.Started {
		t.Errorf("a started assessment past its expiry: %s", got)
	}
	if got := lc.StatusAt(invited(), t0.Add(2*week)); got != domain.Expired {
		t.Errorf("an invitation past its expiry: %s", got)
	}

	// Results only once hired: a refusal names the state they need.
	r = handBuilt()
	r.Results = []domain.Status{domain.Hired}
	lc = build(t, r)
	a, _ = run(t, lc, "complete")
	if err := lc.ResultsVisible(a, domain.OpResults); err == nil || err.Error() != "Results are not available: the application is completed, not hired" {
		t.Errorf("results of a completed application: %v", err)
	}
	if err := lc.ResultsVisible(a, domain.OpPublicLink); err != nil {
		t.Errorf("a public link to a completed application: %v", err)
	}
}

// TestRulesTheDomainCannotApply: NewLifecycle names each rule it lacks or cannot apply.
func TestRulesTheDomainCannotApply(t *testing.T) {
	tests := map[string]struct {
		change func(*domain.Rules)
		want   string
	}{
		"no rule for an action": {func(r *domain.Rules) { delete(r.Moves, domain.ActHire) }, "no rule says which states hire may be taken from"},
		"an action leading elsewhere": {func(r *domain.Rules) {
			r.Moves[domain.ActHire] = domain.Move{From: []domain.Status{domain.Completed}, To: domain.Completed}
		}, `hire leads to "completed"; the domain's hire leads to "hired"`},
		"an action from nowhere": {func(r *domain.Rules) { r.Moves[domain.ActHire] = domain.Move{To: domain.Hired} }, "hire may be taken from no state"},
		"an unknown action": {func(r *domain.Rules) {
			r.Moves["reject"] = domain.Move{From: []domain.Status{domain.Completed}, To: "rejected"}
		}, `action "reject"`},
		"an unknown state":      {func(r *domain.Rules) { r.Results = append(r.Results, "archived") }, `results names state "archived"`},
		"another initial state": {func(r *domain.Rules) { r.Initial = domain.Started }, `applications start in "started"`},
		"passing through completed": {func(r *domain.Rules) {
			r.Moves[domain.ActHire] = domain.Move{From: []domain.Status{domain.Started, domain.Completed}, To: domain.Hired, Via: map[domain.Status][]domain.Status{domain.Started: {domain.Completed}}}
		}, `hire from "started" passes through "completed"`},
		"passing through from elsewhere": {func(r *domain.Rules) {
			m := r.Moves[domain.ActComplete]
			m.Via = map[domain.Status][]domain.Status{domain.Hired: {domain.Started}}
			r.Moves[domain.ActComplete] = m
		}, `complete passes through [started] from "hired", a state it is not taken from`},
		"expiring what does not lapse": {func(r *domain.Rules) { r.Lapse = []domain.Status{domain.Invited} }, `expire may be taken from "started", a state whose invitation does not lapse`},
		"results nowhere":              {func(r *domain.Rules) { r.PublicLink = nil }, "public links show in no state"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := handBuilt()
			tc.change(&r)
			_, err := domain.NewLifecycle(r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
		})
	}
	// The lifecycle keeps its own copy: changing the rules it was built from changes nothing.
	r := handBuilt()
	lc := build(t, r)
	r.Moves[domain.ActHire].From[0] = domain.Started
	if lc.Can(domain.Started, domain.ActHire) || !lc.Can(domain.Completed, domain.ActHire) {
		t.Fatal("the lifecycle shares the rules' slices")
	}
}

func TestCompletionFromInvitedStartsThen(t *testing.T) {
	lc := contract(t)
	a := invited()
	at := t0.Add(time.Hour)
	events, err := lc.Complete(&a, at, nil)
	if err != nil || len(events) != 2 || events[0].Type != domain.EventStarted || events[1].Type != domain.EventFinished {
		t.Fatalf("events %+v, %v", events, err)
	}
	if !a.StartedAt.Equal(at) || !a.CompletedAt.Equal(at) || !events[0].At.Equal(at) {
		t.Fatalf("started %v, completed %v, at %v", a.StartedAt, a.CompletedAt, events[0].At)
	}
	b := invited()
	_, _ = lc.Start(&b, t0.Add(time.Minute))
	if events, _ := lc.Complete(&b, at, nil); len(events) != 1 || !b.StartedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("a started application's completion: %+v, started %v", events, b.StartedAt)
	}
}

func TestInvitationLapsesOnTheClock(t *testing.T) {
	lc := contract(t)
	a := invited()
	if got := lc.StatusAt(a, t0.Add(week-time.Second)); got != domain.Invited {
		t.Fatalf("a second before a week: %s", got)
	}
	if got := lc.StatusAt(a, t0.Add(week)); got != domain.Expired {
		t.Fatalf("at a week: %s", got)
	}
	if a.Status != domain.Invited {
		t.Fatal("StatusAt changed the stored status")
	}
	done := invited()
	_, _ = lc.Complete(&done, t0, nil)
	if got := lc.StatusAt(done, t0.Add(2*week)); got != domain.Completed {
		t.Fatalf("a completed application past its invitation's expiry: %s", got)
	}
}

func TestAnonymizeErases(t *testing.T) {
	lc := contract(t)
	a := invited()
	_, _ = lc.Complete(&a, t0, domain.Scores{{Trait: "x", Value: 3}})
	_, _ = lc.Anonymize(&a, t0.Add(time.Minute))
	if a.Applicant != domain.Anonymous || a.Scores != nil || !a.AnonymizedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("anonymized: %+v", a)
	}
}

func TestStateErrorsSayWhatAndWhy(t *testing.T) {
	lc := contract(t)
	completed := invited()
	_, _ = lc.Complete(&completed, t0, nil)
	anonymized := invited()
	_, _ = lc.Anonymize(&anonymized, t0)
	started := invited()
	_, _ = lc.Start(&started, t0)
	view := func(a domain.Application) domain.Application { a.Status = lc.StatusAt(a, t0); return a }
	tests := map[string]struct {
		err  func() error
		want string
	}{
		"start":        {func() error { _, err := lc.Start(&completed, t0); return err }, "The assessment cannot be started: the application is completed"},
		"complete":     {func() error { _, err := lc.Complete(&anonymized, t0, nil); return err }, "The assessment cannot be completed: the application is anonymized"},
		"expire":       {func() error { _, err := lc.ExpireInvitation(&completed, t0); return err }, "The invitation cannot expire: the application is completed"},
		"hire":         {func() error { _, err := lc.Hire(&started, t0, domain.Hire{}); return err }, "The applicant cannot be hired: the application is started, not completed"},
		"results":      {func() error { return lc.ResultsVisible(view(started), domain.OpResults) }, "Results are not available: the application is started, not completed"},
		"public link":  {func() error { return lc.ResultsVisible(view(anonymized), domain.OpPublicLink) }, "Public links are no longer available: the application is anonymized"},
		"resend":       {func() error { _, err := lc.Resend(invited(), t0, domain.EventStarted); return err }, "The application has not started (it is invited): no assessment_started to send"},
		"resend twice": {func() error { _, err := lc.Resend(started, t0, domain.EventFinished); return err }, "The application has not completed (it is started): no assessment_finished to send"},
		"resend anon":  {func() error { _, err := lc.Resend(anonymized, t0, domain.EventStarted); return err }, "The application is anonymized: it gets no more events"},
		"resend lapsed": {func() error { _, err := lc.Resend(invited(), t0.Add(week), domain.EventStarted); return err },
			"The application has not started (it is expired): no assessment_started to send"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.err()
			var se *domain.StateError
			if !errors.As(err, &se) || err.Error() != tc.want {
				t.Fatalf("error %v, want a StateError saying %q", err, tc.want)
			}
		})
	}
	if err := lc.ResultsVisible(view(completed), domain.OpResults); err != nil {
		t.Fatalf("a completed application's results: %v", err)
	}
	if events, err := lc.Resend(completed, t0, domain.EventFinished); err != nil || len(events) != 1 || !events[0].Resent {
		t.Fatalf("resending assessment_finished of a completed application: %+v, %v", events, err)
	}
}

func TestScoresReadAndWriteAsAnObject(t *testing.T) {
	s := domain.NewScores(map[string]int{"working_memory": 4, "attention_to_detail": 2})
	b, err := json.Marshal(s)
	if err != nil || string(b) != `{"attention_to_detail":2,"working_memory":4}` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var back domain.Scores
	if err := json.Unmarshal(b, &back); err != nil || fmt.Sprint(back) != fmt.Sprint(s) {
		t.Fatalf("unmarshal: %v, %v", back, err)
	}
	if v, ok := back.Get("working_memory"); !ok || v != 4 {
		t.Fatalf("Get = %d, %v", v, ok)
	}
	if _, ok := back.Get("planning"); ok {
		t.Fatal("a trait without a score has one")
	}
	if m := back.Map(); len(m) != 2 || m["attention_to_detail"] != 2 {
		t.Fatalf("Map = %v", m)
	}
}

func TestApplicationRoundTrip(t *testing.T) {
	a := invited()
	lc := contract(t)
	_, _ = lc.Complete(&a, t0.Add(time.Minute), domain.NewScores(map[string]int{"x": 3}))
	_, _ = lc.Hire(&a, t0.Add(time.Hour), domain.Hire{AddToTeam: true, Team: "Engineering"})
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back domain.Application
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back.Scores) != fmt.Sprint(a.Scores) || *back.Hire != *a.Hire || back.Status != domain.Hired || !back.CompletedAt.Equal(a.CompletedAt) {
		t.Fatalf("round trip: %+v\nwant %+v", back, a)
	}
	if strings.Contains(string(b), "anonymized_at") {
		t.Fatalf("an unset time is written: %s", b)
	}
}

func TestWebhookRules(t *testing.T) {
	for label, ok := range map[string]bool{"ats": true, "ats-prod.v2_x": true, "": false, "-ats": false, strings.Repeat("a", 65): false, "a/b": false} {
		if err := domain.CheckLabel(label); (err == nil) != ok {
			t.Errorf("label %q: %v", label, err)
		}
	}
	for secret, ok := range map[string]bool{
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw": true,
		"whsec_" + strings.Repeat("A", 8):        false, // 6 bytes
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw":       false,
		"whsec_not base64!":                      false,
	} {
		if err := domain.CheckSecret(secret); (err == nil) != ok {
			t.Errorf("secret %q: %v", secret, err)
		}
	}
}

// Can is the rule the transitions apply: an action it allows succeeds from that state, and one it
// refuses is refused, but for the repeats the contracts accept as no-ops (starting a started
// application, expiring an expired invitation, anonymizing an anonymized one).
func TestCanIsWhatTheTransitionsApply(t *testing.T) {
	lc := contract(t)
	in := func(st domain.Status) domain.Application {
		a := invited()
		switch st {
		case domain.Started:
			_, _ = lc.Start(&a, t0)
		case domain.Completed:
			_, _ = lc.Complete(&a, t0, nil)
		case domain.Hired:
			_, _ = lc.Complete(&a, t0, nil)
			_, _ = lc.Hire(&a, t0, domain.Hire{})
		case domain.Expired:
			_, _ = lc.ExpireInvitation(&a, t0)
		case domain.Anonymized:
			_, _ = lc.Anonymize(&a, t0)
		}
		return a
	}
	repeat := map[domain.Action]domain.Status{domain.ActStart: domain.Started, domain.ActExpire: domain.Expired, domain.ActAnonymize: domain.Anonymized}
	for _, st := range domain.Statuses {
		for _, act := range domain.Actions {
			a := in(st)
			if got := lc.StatusAt(a, t0); got != st {
				t.Fatalf("could not reach %s: %s", st, got)
			}
			before := a
			_, err := step(lc, &a, act, t0)
			switch ok := err == nil; {
			case repeat[act] == st:
				if !ok || !reflect.DeepEqual(a, before) {
					t.Errorf("%s from %s, a repeat: %v, changed %v", act, st, err, !reflect.DeepEqual(a, before))
				}
			case ok != lc.Can(st, act):
				t.Errorf("%s from %s: Can says %v, the transition %v", act, st, lc.Can(st, act), err)
			}
		}
	}
}
