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
}

type sectionView struct {
	Trait, Name string
	N           int // 1-based
	Questions   []questionView
}

type questionView struct {
	Text    string
	Missing bool
	Options []optionView
}

type optionView struct {
	Name, Label string
	Value       int
	Checked     bool
}

// handleAssessment is where an invitation link leads: opening it starts the assessment.
func (p *Pages) handleAssessment(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("locale")
	a, err := p.service.OpenAssessment(r.PathValue("token"))
	if err != nil {
		p.writeError(w, r, loc, 0, err)
		return
	}
	p.render(w, http.StatusOK, "assessment", p.assessmentView(r, loc, a, nil, false))
}

// handleAssessmentSubmit completes the assessment with the scores the answers give, which sends
// the results callback, and thanks the applicant. Answers that do not cover the questionnaire send
// the form back (422) with what was answered kept and what was not marked. A POST without any
// answer completes with drawn scores: what scripts that only POST to the link get.
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
	l := labelsFor(loc)
	v := &assessmentView{view: newView(loc, fmt.Sprintf(l.ThanksTitle, a.Application.Applicant.FirstName), localeSwitch(r, 0)),
		Job: a.Job.Name, FirstName: a.Application.Applicant.FirstName}
	p.render(w, http.StatusOK, "thanks", v)
}

// parseAnswers reads the form's answers: trait code → answers by statement index. Indexes must
// be dense from 0 (a gap is an unanswered statement, which the lifecycle reports by trait).
func parseAnswers(form map[string][]string) (map[string][]int, error) {
	byIndex := map[string]map[int]int{}
	for key, vs := range form {
		rest, ok := strings.CutPrefix(key, answerPrefix)
		if !ok || len(vs) == 0 || vs[0] == "" {
			continue
		}
		dot := strings.LastIndexByte(rest, '.')
		i, err := strconv.Atoi(rest[dot+1:])
		if dot <= 0 || err != nil || i < 0 || i >= fixtures.MaxQuestions {
			return nil, apierr.Field("answers", fmt.Sprintf("%q is not an answer field", key))
		}
		v, err := strconv.Atoi(vs[0])
		if err != nil {
			return nil, apierr.Field("answers."+rest[:dot], fmt.Sprintf("%q is not a number", vs[0]))
		}
		trait := rest[:dot]
		if byIndex[trait] == nil {
			byIndex[trait] = map[int]int{}
		}
		byIndex[trait][i] = v
	}
	out := make(map[string][]int, len(byIndex))
	for trait, m := range byIndex {
		for i := 0; i < len(m); i++ {
			v, ok := m[i]
			if !ok {
				break // a gap: the answers so far, which are too few
			}
			out[trait] = append(out[trait], v)
		}
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
			q := questionView{Text: text, Missing: sentBack && (chosen < results.MinAnswer || chosen > results.MaxAnswer)}
			for k, label := range l.Scale {
				q.Options = append(q.Options, optionView{Name: name, Label: label, Value: k + 1, Checked: chosen == k+1})
			}
			v.Total++
			if q.Missing {
				v.Missing++
			} else if chosen != 0 {
				v.Answered++
			}
			sv.Questions = append(sv.Questions, q)
		}
		v.Sections = append(v.Sections, sv)
	}
	return v
}
