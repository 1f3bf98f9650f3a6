package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/domain"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const week = 7 * 24 * time.Hour

func invited() domain.Application {
	a, _ := domain.Invite(domain.Application{ReferenceID: "r", ClientID: "c", Applicant: domain.Applicant{FirstName: "Ada", Email: "ada@example.com"}}, t0, week)
	return a
}

// step runs one transition by name on a at now and returns its events' types.
func step(a *domain.Application, name string, now time.Time) ([]domain.EventType, error) {
	var events []domain.Event
	var err error
	switch name {
	case "start":
		events, err = a.Start(now)
	case "complete":
		events, err = a.Complete(now, domain.Scores{{Trait: "x", Value: 3}})
	case "hire":
		events, err = a.HireApplicant(now, domain.Hire{AddToTeam: true})
	case "anonymize":
		events, err = a.Anonymize(now)
	case "expire":
		events, err = a.ExpireInvitation(now)
	default:
		panic(name)
	}
	var types []domain.EventType
	for _, e := range events {
		types = append(types, e.Type)
	}
	return types, err
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
		"expired invitation cannot start":           {[]string{"expire", "start!"}, domain.Expired, "[]"},
		"expired invitation cannot complete":        {[]string{"expire", "complete!"}, domain.Expired, "[]"},
		"expire after completion":                   {[]string{"complete", "expire!"}, domain.Completed, "[assessment_started assessment_finished]"},
		"a started assessment's link lapses too":    {[]string{"start", "expire", "complete!"}, domain.Expired, "[assessment_started]"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := invited()
			var all []domain.EventType
			for i, st := range tc.steps {
				st, mustFail := strings.CutSuffix(st, "!")
				before := a
				types, err := step(&a, st, t0.Add(time.Duration(i)*time.Minute))
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
			if got := a.StatusAt(t0.Add(time.Hour)); got != tc.want {
				t.Fatalf("status = %s, want %s", got, tc.want)
			}
			if got := fmt.Sprint(all); got != tc.events {
				t.Fatalf("events %s, want %s", got, tc.events)
			}
		})
	}
}

func TestCompletionFromInvitedStartsThen(t *testing.T) {
	a := invited()
	at := t0.Add(time.Hour)
	events, err := a.Complete(at, nil)
	if err != nil || len(events) != 2 || events[0].Type != domain.EventStarted || events[1].Type != domain.EventFinished {
		t.Fatalf("events %+v, %v", events, err)
	}
	if !a.StartedAt.Equal(at) || !a.CompletedAt.Equal(at) || !events[0].At.Equal(at) {
		t.Fatalf("started %v, completed %v, at %v", a.StartedAt, a.CompletedAt, events[0].At)
	}
	b := invited()
	_, _ = b.Start(t0.Add(time.Minute))
	if events, _ := b.Complete(at, nil); len(events) != 1 || !b.StartedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("a started application's completion: %+v, started %v", events, b.StartedAt)
	}
}

func TestInvitationLapsesOnTheClock(t *testing.T) {
	a := invited()
	if got := a.StatusAt(t0.Add(week - time.Second)); got != domain.Invited {
		t.Fatalf("a second before a week: %s", got)
	}
	if got := a.StatusAt(t0.Add(week)); got != domain.Expired {
		t.Fatalf("at a week: %s", got)
	}
	if a.Status != domain.Invited {
		t.Fatal("StatusAt changed the stored status")
	}
}

func TestAnonymizeErases(t *testing.T) {
	a := invited()
	_, _ = a.Complete(t0, domain.Scores{{Trait: "x", Value: 3}})
	_, _ = a.Anonymize(t0.Add(time.Minute))
	if a.Applicant != domain.Anonymous || a.Scores != nil || !a.AnonymizedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("anonymized: %+v", a)
	}
}

func TestStateErrorsSayWhatAndWhy(t *testing.T) {
	completed := invited()
	_, _ = completed.Complete(t0, nil)
	anonymized := invited()
	_, _ = anonymized.Anonymize(t0)
	started := invited()
	_, _ = started.Start(t0)
	view := func(a domain.Application) domain.Application { a.Status = a.StatusAt(t0); return a }
	tests := map[string]struct {
		err  func() error
		want string
	}{
		"start":        {func() error { _, err := completed.Start(t0); return err }, "The assessment cannot be started: the application is completed"},
		"complete":     {func() error { _, err := anonymized.Complete(t0, nil); return err }, "The assessment cannot be completed: the application is anonymized"},
		"expire":       {func() error { _, err := completed.ExpireInvitation(t0); return err }, "The invitation cannot expire: the application is completed"},
		"hire":         {func() error { _, err := started.HireApplicant(t0, domain.Hire{}); return err }, "The applicant cannot be hired: the application is started, not completed"},
		"results":      {func() error { return view(started).ResultsVisible(domain.OpResults) }, "Results are not available: the application is started, not completed"},
		"public link":  {func() error { return view(anonymized).ResultsVisible(domain.OpPublicLink) }, "Public links are no longer available: the application is anonymized"},
		"resend":       {func() error { _, err := invited().Resend(t0, domain.EventStarted); return err }, "The application has not started (it is invited): no assessment_started to send"},
		"resend twice": {func() error { _, err := started.Resend(t0, domain.EventFinished); return err }, "The application has not completed (it is started): no assessment_finished to send"},
		"resend anon":  {func() error { _, err := anonymized.Resend(t0, domain.EventStarted); return err }, "The application is anonymized: it gets no more events"},
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
	if err := view(completed).ResultsVisible(domain.OpResults); err != nil {
		t.Fatalf("a completed application's results: %v", err)
	}
	if events, err := completed.Resend(t0, domain.EventFinished); err != nil || len(events) != 1 || !events[0].Resent {
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
	_, _ = a.Complete(t0.Add(time.Minute), domain.NewScores(map[string]int{"x": 3}))
	_, _ = a.HireApplicant(t0.Add(time.Hour), domain.Hire{AddToTeam: true, Team: "Engineering"})
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
// refuses is refused (but for the repeats accepted as no-ops: starting a started application,
// expiring an expired invitation, anonymizing an anonymized one).
func TestCanIsWhatTheTransitionsApply(t *testing.T) {
	in := func(st domain.Status) domain.Application {
		a := invited()
		switch st {
		case domain.Started:
			_, _ = a.Start(t0)
		case domain.Completed:
			_, _ = a.Complete(t0, nil)
		case domain.Hired:
			_, _ = a.Complete(t0, nil)
			_, _ = a.HireApplicant(t0, domain.Hire{})
		case domain.Expired:
			_, _ = a.ExpireInvitation(t0)
		case domain.Anonymized:
			_, _ = a.Anonymize(t0)
		}
		return a
	}
	repeat := map[domain.Action]domain.Status{domain.ActStart: domain.Started, domain.ActExpire: domain.Expired, domain.ActAnonymize: domain.Anonymized}
	for _, st := range domain.Statuses {
		for _, act := range []domain.Action{domain.ActStart, domain.ActComplete, domain.ActExpire, domain.ActHire, domain.ActAnonymize} {
			a := in(st)
			if got := a.StatusAt(t0); got != st {
				t.Fatalf("could not reach %s: %s", st, got)
			}
			name := map[domain.Action]string{domain.ActStart: "start", domain.ActComplete: "complete", domain.ActExpire: "expire", domain.ActHire: "hire", domain.ActAnonymize: "anonymize"}[act]
			_, err := step(&a, name, t0)
			if ok := err == nil; ok != domain.Can(st, act) && repeat[act] != st {
				t.Errorf("%s from %s: Can says %v, the transition %v", act, st, domain.Can(st, act), err)
			}
		}
	}
}
