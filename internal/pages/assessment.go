package pages

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/service"
)

// The assessment's form names each answer "a.<trait code>.<statement index>", valued 1..5.
const answerPrefix = "a."

func answerName(trait string, i int) string { return fmt.Sprintf("%s%s.%d", answerPrefix, trait, i) }

type assessmentView struct {
	view
	Job, FirstName, Action string
	Parts, Total, Answered int
	Missing                int // statements left open in a submission that was sent back
	Sections               []sectionView
	Open                   []openView // those statements, for the summary at the top
}

// openView is a statement a submission left open, as the summary at the top links to it.
type openView struct {
	ID, Part, Text string
}

type sectionView struct {
	Trait, Name string
	N           int // 1-based
	Questions   []questionView
}

type questionView struct {
	ID, Text string // ID: the statement's fieldset, which the summary of open statements links to
	Missing  bool
	Options  []optionView
}

type optionView struct {
	Name, Label string
	Value       int
	Checked     bool
	Missing     bool   // its statement was left open in a submission sent back
	Of          string // its statement's ID
}

// handleAssessment is where an invitation link leads: opening it (GET) starts the assessment. A
// HEAD — link checkers, chat apps building a preview — gets the same status and headers and
// starts nothing: only a person opening the page starts it.
func (p *Pages) handleAssessment(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("locale")
	open := p.service.OpenAssessment
	if r.Method == http.MethodHead {
		open = p.service.PeekAssessment
	}
	a, err := open(r.PathValue("token"))
	if err != nil {
		p.writeError(w, r, loc, 0, err)
		return
	}
	p.render(w, http.StatusOK, "assessment", p.assessmentView(r, loc, a, nil, false))
}

// handleThanks is the thank-you page again, at its own address: where the thank-you page's
// language switch leads (the link itself is used by then). Before the assessment is done it sends
// the browser to the assessment.
func (p *Pages) handleThanks(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("locale")
	a, err := p.service.FinishedAssessment(r.PathValue("token"))
	if errors.Is(err, service.ErrNotFinished) {
		http.Redirect(w, r, strings.TrimSuffix(r.URL.Path, thanksSuffix), http.StatusSeeOther)
		return
	}
	if err != nil {
		p.writeError(w, r, loc, 0, err)
		return
	}
	p.render(w, http.StatusOK, "thanks", p.thanksView(r, loc, a))
}

// thanksSuffix makes an assessment link the address of its thank-you page.
const thanksSuffix = "/thanks"

func (p *Pages) thanksView(r *http.Request, loc string, a service.Assessment) *assessmentView {
	l := labelsFor(loc)
	at := localeSwitch(r, 0)
	thanks := func(loc string) string {
		u := at(loc)
		if strings.HasSuffix(u, thanksSuffix) {
			return u
		}
		return u + thanksSuffix
	}
	return &assessmentView{view: newView(loc, fmt.Sprintf(l.ThanksTitle, a.Application.Applicant.FirstName), thanks),
		Job: a.Job.Name, FirstName: a.Application.Applicant.FirstName}
}

// handleAssessmentSubmit completes the assessment with the scores the answers give, which sends
// the results callback, and thanks the applicant. Answers that do not cover the questionnaire —
// one statement left open is enough — send the form back (422) with what was answered kept, what
// was not marked and listed at the top, and nothing completed. Only a POST without any answer
// field completes with drawn scores: what scripts that only POST to the link get.
func (p *Pages) handleAssessmentSubmit(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("locale")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.writeError(w, r, loc, 0, apierr.New(apierr.BadRequest, "The form could not be read: %v", err))
		return
	}
	answers, err := parseAnswers(r.PostForm)
	if err != nil {
		p.writeError(w, r, loc, 0, err)
		return
	}
	a, err := p.service.SubmitAssessment(r.PathValue("token"), answers)
	if apierr.Is(err, apierr.Invalid) {
		// Sent back: the link still works (it verified), so the form can be shown again.
		opened, openErr := p.service.OpenAssessment(r.PathValue("token"))
		if openErr == nil {
			p.render(w, http.StatusUnprocessableEntity, "assessment", p.assessmentView(r, loc, opened, r.PostForm, true))
			return
		}
		err = errors.Join(err, openErr)
	}
	if err != nil {
		p.writeError(w, r, loc, 0, err)
		return
	}
	p.render(w, http.StatusOK, "thanks", p.thanksView(r, loc, a))
}

// parseAnswers reads the form's answers: trait code → answers by statement index, 0 where a
// statement up to the highest index given is unanswered (an empty value, or no field), which the
// lifecycle refuses. Any answer field makes the submission one of answers: only a form without
// any completes with drawn scores, never one whose answers were dropped.
func parseAnswers(form map[string][]string) (map[string][]int, error) {
	out := map[string][]int{}
	for key, vs := range form {
		rest, ok := strings.CutPrefix(key, answerPrefix)
		if !ok {
			continue
		}
		dot := strings.LastIndexByte(rest, '.')
		if dot <= 0 {
			return nil, apierr.Field("answers", fmt.Sprintf("%q is not an answer field", key))
		}
		i, err := strconv.Atoi(rest[dot+1:])
		if err != nil || i < 0 || i >= fixtures.MaxQuestions {
			return nil, apierr.Field("answers", fmt.Sprintf("%q is not an answer field", key))
		}
		v := 0 // unanswered
		if len(vs) > 0 && vs[0] != "" {
			if v, err = strconv.Atoi(vs[0]); err != nil {
				return nil, apierr.Field("answers."+rest[:dot], fmt.Sprintf("%q is not a number", vs[0]))
			}
		}
		trait := rest[:dot]
		got := out[trait]
		for len(got) <= i {
			got = append(got, 0)
		}
		got[i] = v
		out[trait] = got
	}
	return out, nil
}

// assessmentView builds the form for a, with the answers of a submission that was sent back
// (form, nil when the page is opened) kept and those it lacks marked.
func (p *Pages) assessmentView(r *http.Request, loc string, a service.Assessment, form map[string][]string, sentBack bool) *assessmentView {
	l := labelsFor(loc)
	sections := p.service.Questionnaire(a.Job, loc)
	v := &assessmentView{
		view:      newView(loc, l.AssessmentTitle+": "+a.Job.Name, localeSwitch(r, 0)),
		Job:       a.Job.Name,
		FirstName: a.Application.Applicant.FirstName,
		Action:    r.URL.Path,
		Parts:     len(sections),
	}
	for i, s := range sections {
		sv := sectionView{Trait: s.Trait, Name: s.Name, N: i + 1}
		for j, text := range s.Questions {
			name := answerName(s.Trait, j)
			chosen := 0
			if vs := form[name]; len(vs) > 0 {
				chosen, _ = strconv.Atoi(vs[0])
			}
			q := questionView{ID: fmt.Sprintf("q-%s-%d", s.Trait, j), Text: text,
				Missing: sentBack && (chosen < results.MinAnswer || chosen > results.MaxAnswer)}
			for k, label := range l.Scale {
				q.Options = append(q.Options, optionView{Name: name, Label: label, Value: k + 1, Checked: chosen == k+1, Missing: q.Missing, Of: q.ID})
			}
			v.Total++
			if q.Missing {
				v.Missing++
				v.Open = append(v.Open, openView{ID: q.ID, Part: fmt.Sprintf(l.Part, i+1, len(sections)), Text: text})
			} else if chosen != 0 {
				v.Answered++
			}
			sv.Questions = append(sv.Questions, q)
		}
		v.Sections = append(v.Sections, sv)
	}
	return v
}
