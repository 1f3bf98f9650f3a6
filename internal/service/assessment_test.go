package service_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// linkToken is the token of an application's assessment link.
func linkToken(t *testing.T, app service.Application) string {
	t.Helper()
	u, err := url.Parse(app.AssessmentURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path[strings.LastIndex(u.Path, "/")+1:]
}

// engineerAnswers answers the engineer job's questionnaire (three statements per trait).
func engineerAnswers(byTrait map[string]int) map[string][]int {
	out := map[string][]int{}
	for _, tr := range []string{"problem_solving_ability", "working_memory", "problem_solving_style", "attention_to_detail", "cognitive_flexibility"} {
		v := byTrait[tr]
		if v == 0 {
			v = 3
		}
		out[tr] = []int{v, v, v}
	}
	return out
}

func TestSubmitAssessment(t *testing.T) {
	a := newApp(t, nil)
	tests := map[string]struct {
		before  func(ref string) // moves the application first
		answers map[string][]int
		code    apierr.Code // "" for a completion
		reason  error
		scores  map[string]int
	}{
		"answers give the scores": {answers: engineerAnswers(map[string]int{"working_memory": 5, "attention_to_detail": 1}),
			scores: map[string]int{"working_memory": 5, "attention_to_detail": 1, "planning": 0, "problem_solving_ability": 3}},
		"no answers: drawn scores": {answers: nil},
		"incomplete answers":       {answers: map[string][]int{"working_memory": {5, 5, 5}}, code: apierr.Invalid},
		"twice": {before: func(ref string) { _, _ = a.Service.Complete(ref, service.Completion{}) },
			code: apierr.Conflict, reason: service.ErrLinkUsed},
		"expired": {before: func(ref string) { _, _ = a.Service.ExpireInvitation(ref) },
			code: apierr.Gone, reason: service.ErrLinkExpired},
		"anonymized": {before: func(ref string) { _, _ = a.Service.Anonymize(testenv.DemoID, ref) },
			code: apierr.Gone, reason: service.ErrAnonymized},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			app := invite(t, a, testenv.EngineerJob, testenv.CallbackURL)
			if tc.before != nil {
				tc.before(app.ReferenceID)
			}
			got, err := a.Service.SubmitAssessment(linkToken(t, app), tc.answers)
			if tc.code != "" {
				if !apierr.Is(err, tc.code) || tc.reason != nil && !errors.Is(err, tc.reason) {
					t.Fatalf("error = %v, want %s (%v)", err, tc.code, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Application.Status != domain.Completed || len(got.Application.Scores) != 5 || got.Job.ID != testenv.EngineerJob {
				t.Fatalf("submitted: %+v", got)
			}
			for trait, want := range tc.scores {
				if got.Application.Scores.Map()[trait] != want {
					t.Errorf("%s = %d, want %d (all %v)", trait, got.Application.Scores.Map()[trait], want, got.Application.Scores)
				}
			}
		})
	}
}

func TestOpenAssessment(t *testing.T) {
	a := newApp(t, nil)
	tests := map[string]struct {
		before func(ref string)
		token  func(tok string) string
		code   apierr.Code
		reason error
		status domain.Status
	}{
		"starts":       {status: domain.Started},
		"opened again": {before: func(ref string) { _, _ = a.Service.Start(ref) }, status: domain.Started},
		"used": {before: func(ref string) { _, _ = a.Service.Complete(ref, service.Completion{}) },
			code: apierr.Gone, reason: service.ErrLinkUsed},
		"expired": {before: func(ref string) { _, _ = a.Service.ExpireInvitation(ref) },
			code: apierr.Gone, reason: service.ErrLinkExpired},
		"anonymized": {before: func(ref string) { _, _ = a.Service.Anonymize(testenv.DemoID, ref) },
			code: apierr.Gone, reason: service.ErrAnonymized},
		"forged": {token: func(tok string) string { return tok[:len(tok)-2] + "xx" },
			code: apierr.NotFound, reason: service.ErrLinkInvalid},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			app := invite(t, a, testenv.EngineerJob, testenv.CallbackURL)
			if tc.before != nil {
				tc.before(app.ReferenceID)
			}
			tok := linkToken(t, app)
			if tc.token != nil {
				tok = tc.token(tok)
			}
			got, err := a.Service.OpenAssessment(tok)
			if tc.code != "" {
				if !apierr.Is(err, tc.code) || !errors.Is(err, tc.reason) {
					t.Fatalf("error = %v, want %s (%v)", err, tc.code, tc.reason)
				}
				return
			}
			if err != nil || got.Application.Status != tc.status {
				t.Fatalf("opened: %+v, %v", got.Application, err)
			}
		})
	}
}

func TestTimelineAndCandidate(t *testing.T) {
	a := newApp(t, nil)
	ref := invite(t, a, testenv.EngineerJob, testenv.CallbackURL).ReferenceID
	c, err := a.Service.Candidate(testenv.DemoID, ref, "nl")
	if err != nil || c.Results != nil || !errors.Is(c.Why, service.ErrNotFinished) || len(c.Timeline) != 1 {
		t.Fatalf("invited: %+v, %v", c, err)
	}
	a.Clock.Advance(time.Minute)
	_, _ = a.Service.Start(ref)
	a.Clock.Advance(time.Minute)
	_, _ = a.Service.Complete(ref, service.Completion{Fit: "high"})
	a.Clock.Advance(time.Minute)
	if _, err := a.Service.Hire(testenv.DemoID, ref, service.Hiring{}); err != nil {
		t.Fatal(err)
	}
	c, err = a.Service.Candidate(testenv.DemoID, ref, "nl")
	if err != nil || c.Results == nil || c.Results.Fit != "high" || !strings.Contains(c.Results.DetailedScores[0].TraitName, "Probleemoplossend") {
		t.Fatalf("hired: %+v, %v", c, err)
	}
	var got []string
	for i, m := range c.Timeline {
		got = append(got, string(m.Status))
		if want := testenv.T0.Add(time.Duration(i) * time.Minute); !m.At.Equal(want) {
			t.Errorf("%s at %v, want %v", m.Status, m.At, want)
		}
	}
	if strings.Join(got, ",") != "invited,started,completed,hired" {
		t.Fatalf("timeline %v", got)
	}
	if _, err := a.Service.Candidate(testenv.OtherID, ref, "en"); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("another client's candidate: %v", err)
	}
	_, _ = a.Service.Anonymize(testenv.DemoID, ref)
	c, _ = a.Service.Candidate(testenv.DemoID, ref, "en")
	if c.Results != nil || !errors.Is(c.Why, service.ErrAnonymized) || c.Timeline[len(c.Timeline)-1].Status != domain.Anonymized {
		t.Fatalf("anonymized: %+v", c)
	}

	expired := invite(t, a, testenv.EngineerJob, testenv.CallbackURL)
	a.Clock.Advance(service.DefaultInvitationTTL)
	app, _ := a.Service.Lookup(expired.ReferenceID)
	tl := service.Timeline(app)
	if len(tl) != 2 || tl[1].Status != domain.Expired || !tl[1].At.Equal(expired.InvitationExpiresAt) {
		t.Fatalf("expired timeline %+v", tl)
	}
	if got := a.Service.Candidates(testenv.DemoID); len(got) != 2 || got[0].ReferenceID != expired.ReferenceID {
		t.Fatalf("candidates, newest first: %+v", got)
	}
}
