package domain

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Action is a transition someone can ask of an application, named as the console and the
// control API name it.
type Action string

// The actions.
const (
	ActStart     Action = "start"
	ActComplete  Action = "complete"
	ActExpire    Action = "expire"
	ActHire      Action = "hire"
	ActAnonymize Action = "anonymize"
)

// Actions are the actions, in lifecycle order.
var Actions = []Action{ActStart, ActComplete, ActExpire, ActHire, ActAnonymize}

// leadsTo is the state act puts an application in ("" for no action): what the domain does on
// the way (a start time, scores, a hiring, erasure) belongs to that state, so rules that lead an
// action elsewhere are rules it cannot apply.
func leadsTo(act Action) Status {
	switch act {
	case ActStart:
		return Started
	case ActComplete:
		return Completed
	case ActExpire:
		return Expired
	case ActHire:
		return Hired
	case ActAnonymize:
		return Anonymized
	}
	return ""
}

// Rules are the lifecycle's rules as plain data: what each action may be taken from and leads to,
// which invitations lapse on the clock, in which states results show. The contracts state them
// (x-lifecycle in openapi.yaml and control-openapi.yaml); internal/spec reads them into a Rules
// at start-up, and NewLifecycle checks the domain can apply them.
type Rules struct {
	// Initial is the state an application is invited in.
	Initial Status
	// Moves are, by action, the states it may be taken from and the state it leads to.
	Moves map[Action]Move
	// Lapse are the states an invitation past its expiry leaves for expired (the clock's move).
	Lapse []Status
	// Results and PublicLink are the states in which an application's results, and a public link
	// to them, can be had.
	Results, PublicLink []Status
}

// Move is what an action may do: the states it may be taken from and the state it leads to.
// Taken from To itself (when From has it), it is a repeat: accepted, changing nothing.
type Move struct {
	From []Status
	To   Status
	// Via are the states the move passes through on its way to To, by the state it is taken
	// from: an applicant completing an unopened invitation opens it first (invited: [started]).
	Via map[Status][]Status
}

// Lifecycle applies a Rules to applications: its methods are the transitions, which check the
// application's state (as seen on the clock) against the rules and return the events the change
// causes, or a StateError naming the state. It is read-only once built, so one serves every
// goroutine.
type Lifecycle struct {
	rules Rules
}

// NewLifecycle returns the lifecycle that applies r, or an error naming each rule the domain
// needs that r lacks, or that r states and the domain cannot apply.
func NewLifecycle(r Rules) (*Lifecycle, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	known := func(what string, sts []Status) {
		for _, st := range sts {
			if !slices.Contains(Statuses, st) {
				bad("%s names state %q, which the domain does not know (it knows %v)", what, st, Statuses)
			}
		}
	}
	if r.Initial != Invited {
		bad("applications start in %q; the domain invites them in %q", r.Initial, Invited)
	}
	for _, act := range Actions {
		m, ok := r.Moves[act]
		switch {
		case !ok:
			bad("no rule says which states %s may be taken from", act)
			continue
		case m.To != leadsTo(act):
			bad("%s leads to %q; the domain's %s leads to %q", act, m.To, act, leadsTo(act))
		case len(m.From) == 0:
			bad("%s may be taken from no state", act)
		}
		known(string(act), m.From)
		for _, from := range slices.Sorted(maps.Keys(m.Via)) {
			if !slices.Contains(m.From, from) || from == m.To {
				bad("%s passes through %v from %q, a state it is not taken from", act, m.Via[from], from)
			}
			for _, via := range m.Via[from] {
				if via != Started || via == from {
					bad("%s from %q passes through %q; the domain can pass only through %q on the way (from another state)", act, from, via, Started)
				}
			}
		}
	}
	for _, act := range slices.Sorted(maps.Keys(r.Moves)) {
		if leadsTo(act) == "" {
			bad("a rule names action %q, which the domain does not have", act)
		}
	}
	known("lapse", r.Lapse)
	for _, v := range []struct {
		what string
		sts  []Status
	}{{"results", r.Results}, {"public links", r.PublicLink}} {
		if len(v.sts) == 0 {
			bad("%s show in no state", v.what)
		}
		known(v.what, v.sts)
	}
	// The expire action makes an invitation lapse now: from a state that does not lapse, it could
	// not show as expired.
	for _, st := range r.Moves[ActExpire].From {
		if st != Expired && !slices.Contains(r.Lapse, st) {
			bad("expire may be taken from %q, a state whose invitation does not lapse", st)
		}
	}
	if len(problems) > 0 {
		return nil, errors.New("lifecycle: " + strings.Join(problems, "; "))
	}
	return &Lifecycle{rules: r.clone()}, nil
}

// clone copies r, so the caller's slices and maps are not shared.
func (r Rules) clone() Rules {
	c := Rules{Initial: r.Initial, Moves: make(map[Action]Move, len(r.Moves)),
		Lapse: slices.Clone(r.Lapse), Results: slices.Clone(r.Results), PublicLink: slices.Clone(r.PublicLink)}
	for act, m := range r.Moves {
		via := make(map[Status][]Status, len(m.Via))
		for from, sts := range m.Via {
			via[from] = slices.Clone(sts)
		}
		c.Moves[act] = Move{From: slices.Clone(m.From), To: m.To, Via: via}
	}
	return c
}

// Rules returns a copy of the rules l applies.
func (l *Lifecycle) Rules() Rules { return l.rules.clone() }

// StatusAt is a's status at now: an invitation past its expiry in a state that lapses (never
// completed) is expired.
func (l *Lifecycle) StatusAt(a Application, now time.Time) Status {
	if !now.Before(a.InvitationExpiresAt) && slices.Contains(l.rules.Lapse, a.Status) {
		return Expired
	}
	return a.Status
}

// Can reports whether an application in state st (as seen on the clock) can take action act to
// a new state: for whoever offers actions (the console) to ask before offering one. A repeat the
// rules accept (starting a started application) changes nothing, and is not offered.
func (l *Lifecycle) Can(st Status, act Action) bool {
	m, ok := l.rules.Moves[act]
	return ok && st != m.To && slices.Contains(m.From, st)
}

// take checks that a, as seen at now, may take act, and makes the steps its move passes through
// (returning their events). repeat says a is where act leads already, which the rules accept:
// nothing changes. A refusal is a StateError for op.
func (l *Lifecycle) take(a *Application, act Action, op Op, now time.Time) (events []Event, repeat bool, err error) {
	m := l.rules.Moves[act]
	st := l.StatusAt(*a, now)
	switch {
	case !slices.Contains(m.From, st):
		return nil, false, &StateError{Op: op, Status: st, Needs: m.From[0]}
	case st == m.To:
		return nil, true, nil
	}
	for _, via := range m.Via[st] {
		if via == Started { // the only state NewLifecycle lets a move pass through
			a.Status, a.StartedAt = Started, now
			events = append(events, Event{Type: EventStarted, At: now})
		}
	}
	return events, false, nil
}

// Start is the applicant opening the assessment, into started (from invited, as the embedded
// contracts say).
func (l *Lifecycle) Start(a *Application, now time.Time) ([]Event, error) {
	events, repeat, err := l.take(a, ActStart, OpStart, now)
	if err != nil || repeat {
		return nil, err
	}
	a.Status, a.StartedAt = Started, now
	return append(events, Event{Type: EventStarted, At: now}), nil
}

// Complete is the applicant finishing the assessment with scores, into completed (from invited or
// started, as the embedded contracts say). A move that passes through started (completing an
// unopened invitation) gets assessment_started, then assessment_finished.
func (l *Lifecycle) Complete(a *Application, now time.Time, scores Scores) ([]Event, error) {
	events, repeat, err := l.take(a, ActComplete, OpComplete, now)
	if err != nil || repeat {
		return nil, err
	}
	a.Status, a.CompletedAt, a.Scores = Completed, now, scores
	return append(events, Event{Type: EventFinished, At: now}), nil
}

// ExpireInvitation makes an unused invitation lapse now: it is expired from then on (StatusAt).
// One expired already keeps the time it lapsed.
func (l *Lifecycle) ExpireInvitation(a *Application, now time.Time) ([]Event, error) {
	events, repeat, err := l.take(a, ActExpire, OpExpire, now)
	if err != nil || repeat {
		return nil, err
	}
	a.InvitationExpiresAt = now
	return events, nil
}

// Hire hires the applicant, into hired (from completed, as the embedded contracts say).
func (l *Lifecycle) Hire(a *Application, now time.Time, h Hire) ([]Event, error) {
	events, repeat, err := l.take(a, ActHire, OpHire, now)
	if err != nil || repeat {
		return nil, err
	}
	h.HiredAt = now
	a.Status, a.Hire = Hired, &h
	return append(events, Event{Type: EventHired, At: now}), nil
}

// Anonymous is the name an anonymized applicant goes by.
var Anonymous = Applicant{FirstName: "Anonymized", LastName: "Applicant"}

// Anonymize erases the applicant's personal details and scores, into anonymized (from any state,
// as the embedded contracts say; again, changing nothing).
func (l *Lifecycle) Anonymize(a *Application, now time.Time) ([]Event, error) {
	events, repeat, err := l.take(a, ActAnonymize, OpAnonymize, now)
	if err != nil || repeat {
		return nil, err
	}
	a.Status, a.AnonymizedAt = Anonymized, now
	a.Applicant, a.Scores = Anonymous, nil
	return append(events, Event{Type: EventAnonymized, At: now}), nil
}

// Resend is sending event typ about a again, now (a lever of the control API, not a transition):
// only an event the application has had, and none once it is anonymized.
func (l *Lifecycle) Resend(a Application, now time.Time, typ EventType) ([]Event, error) {
	switch {
	case a.Status == Anonymized:
		return nil, &StateError{Op: OpResend, Status: a.Status, Event: typ}
	case typ == EventStarted && a.StartedAt.IsZero(), typ == EventFinished && a.CompletedAt.IsZero():
		return nil, &StateError{Op: OpResend, Status: l.StatusAt(a, now), Event: typ}
	}
	return []Event{{Type: typ, At: now, Resent: true}}, nil
}

// ResultsVisible says, as a StateError for op (OpResults or OpPublicLink), why a's results cannot
// be shown, or a public link to them had, in its state. a is an application as seen at a time
// (the store's reads give them so).
func (l *Lifecycle) ResultsVisible(a Application, op Op) error {
	states := l.rules.Results
	if op == OpPublicLink {
		states = l.rules.PublicLink
	}
	if slices.Contains(states, a.Status) {
		return nil
	}
	return &StateError{Op: op, Status: a.Status, Needs: states[0]} // NewLifecycle: never empty
}
