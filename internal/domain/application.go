// Package domain is the mock's core: an application of an applicant to a job, its lifecycle as
// methods that return the events a transition causes or a StateError naming the current state,
// the events, and the rules that depend on nothing else (which states show results, what a webhook
// label and secret look like). It imports no HTTP, disk or goroutines: the service calls it, the
// store keeps its values, the delivery machinery turns its events into what leaves the mock.
//
// The lifecycle:
//
//	invited ──► started ──► completed ──► hired
//	   │           │
//	   └───────────┴──► expired      (the invitation lapses unused, on the clock)
//	any state ──────► anonymized     (final; personal data and scores erased)
//
// Each rule has its home here: which actions each state allows (Can, which the transitions apply
// and the console asks before offering a button); a completion from invited is also a start
// (Complete returns assessment_started, then assessment_finished); an expired invitation is a
// status seen on the clock (StatusAt), not a stored one; results are visible when completed or
// hired (ResultsVisible); an event can be sent again only once the application has had it
// (Resend).
package domain

import (
	"time"
	"unique"
)

// Status is an application's lifecycle state.
type Status string

// The lifecycle's states.
const (
	Invited    Status = "invited"
	Started    Status = "started"
	Completed  Status = "completed"
	Hired      Status = "hired"
	Anonymized Status = "anonymized"
	Expired    Status = "expired"
)

// Statuses are the states in lifecycle order.
var Statuses = []Status{Invited, Started, Completed, Hired, Expired, Anonymized}

// Invitation types: an email with the link (kept in the outbox), or the link handed to the ATS.
const (
	InviteEmail       = "email"
	InviteOneTimeLink = "one_time_link"
)

// Applicant is who was invited.
type Applicant struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
}

// Hire records a hiring.
type Hire struct {
	AddToTeam   bool      `json:"add_to_team"`
	AddedToTeam bool      `json:"added_to_team"`
	Team        string    `json:"team,omitempty"`
	StartDate   string    `json:"start_date,omitempty"`
	HiredAt     time.Time `json:"hired_at"`
}

// Application is one applicant's application to one job, as a value: the store keeps one per
// reference id and hands out copies. Its Status is the one set by its transitions; StatusAt says
// what it is at a time (an unused invitation lapses). What can be rebuilt from it is not kept in
// it: the assessment link, the invitation email and the payloads sent about it.
type Application struct {
	ReferenceID         string    `json:"reference_id"`
	ClientID            string    `json:"client_id"`
	JobID               string    `json:"job_id"`
	CallbackURL         string    `json:"callback_url"`
	InvitationType      string    `json:"invitation_type"`
	Applicant           Applicant `json:"applicant"`
	Status              Status    `json:"status"`
	CreatedAt           time.Time `json:"created_at"`
	InvitationExpiresAt time.Time `json:"invitation_expires_at"`
	StartedAt           time.Time `json:"started_at,omitzero"`
	CompletedAt         time.Time `json:"completed_at,omitzero"`
	AnonymizedAt        time.Time `json:"anonymized_at,omitzero"`
	// Scores are set once, by the completion (never changed in place: copies share them).
	Scores Scores `json:"scores,omitempty"`
	// Hire is set once, by the hiring (never changed in place: copies share it).
	Hire *Hire `json:"hire,omitempty"`
}

// Invite returns a new application invited at now, its link valid for ttl, and its event. The
// values that repeat across applications (client, job, invitation type) are interned, so a
// hundred thousand applications hold one copy of each.
func Invite(a Application, now time.Time, ttl time.Duration) (Application, []Event) {
	a.ClientID, a.JobID, a.InvitationType = Intern(a.ClientID), Intern(a.JobID), Intern(a.InvitationType)
	a.Status, a.CreatedAt, a.InvitationExpiresAt = Invited, now, now.Add(ttl)
	a.StartedAt, a.CompletedAt, a.AnonymizedAt, a.Scores, a.Hire = time.Time{}, time.Time{}, time.Time{}, nil, nil
	return a, []Event{{Type: EventCreated, At: now}}
}

// StatusAt is a's status at now: an invitation past its expiry that was never completed is
// expired, whether or not the applicant had opened it.
func (a Application) StatusAt(now time.Time) Status {
	if (a.Status == Invited || a.Status == Started) && !now.Before(a.InvitationExpiresAt) {
		return Expired
	}
	return a.Status
}

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

// Can reports whether an application in state st (as seen on the clock) can take action act: the
// rule the transitions apply, for whoever offers actions (the console) to ask before offering one
// that cannot work. Starting a started application and expiring an expired one are accepted as
// repeats, changing nothing; they are not offered.
func Can(st Status, act Action) bool {
	switch act {
	case ActStart:
		return st == Invited
	case ActComplete, ActExpire:
		return st == Invited || st == Started
	case ActHire:
		return st == Completed
	case ActAnonymize:
		return st != Anonymized
	}
	return false
}

// Start is the applicant opening the assessment: invited → started. Starting a started
// application again changes nothing and causes no event.
func (a *Application) Start(now time.Time) ([]Event, error) {
	switch st := a.StatusAt(now); {
	case st == Started:
		return nil, nil
	case Can(st, ActStart):
		a.Status, a.StartedAt = Started, now
		return []Event{{Type: EventStarted, At: now}}, nil
	default:
		return nil, &StateError{Op: OpStart, Status: st}
	}
}

// Complete is the applicant finishing the assessment with scores: invited or started → completed.
// An application completed without having been opened started then too: it gets
// assessment_started, then assessment_finished.
func (a *Application) Complete(now time.Time, scores Scores) ([]Event, error) {
	if st := a.StatusAt(now); !Can(st, ActComplete) {
		return nil, &StateError{Op: OpComplete, Status: st}
	}
	var events []Event
	if a.StartedAt.IsZero() {
		a.StartedAt = now
		events = append(events, Event{Type: EventStarted, At: now})
	}
	a.Status, a.CompletedAt, a.Scores = Completed, now, scores
	return append(events, Event{Type: EventFinished, At: now}), nil
}

// ExpireInvitation makes an unused invitation lapse now (one already expired lapses again now).
func (a *Application) ExpireInvitation(now time.Time) ([]Event, error) {
	if st := a.StatusAt(now); st != Expired && !Can(st, ActExpire) {
		return nil, &StateError{Op: OpExpire, Status: st}
	}
	a.InvitationExpiresAt = now
	return nil, nil
}

// HireApplicant hires the applicant of a completed application.
func (a *Application) HireApplicant(now time.Time, h Hire) ([]Event, error) {
	if st := a.StatusAt(now); !Can(st, ActHire) {
		return nil, &StateError{Op: OpHire, Status: st}
	}
	h.HiredAt = now
	a.Status, a.Hire = Hired, &h
	return []Event{{Type: EventHired, At: now}}, nil
}

// Anonymous is the name an anonymized applicant goes by.
var Anonymous = Applicant{FirstName: "Anonymized", LastName: "Applicant"}

// Anonymize erases the applicant's personal details and scores, from any state; anonymizing an
// anonymized application changes nothing and causes no event.
func (a *Application) Anonymize(now time.Time) ([]Event, error) {
	if !Can(a.Status, ActAnonymize) {
		return nil, nil // anonymized already
	}
	a.Status, a.AnonymizedAt = Anonymized, now
	a.Applicant, a.Scores = Anonymous, nil
	return []Event{{Type: EventAnonymized, At: now}}, nil
}

// Resend is sending event typ about a again, now (a lever of the control API, not a transition):
// only an event the application has had, and none once it is anonymized.
func (a Application) Resend(now time.Time, typ EventType) ([]Event, error) {
	switch {
	case a.Status == Anonymized:
		return nil, &StateError{Op: OpResend, Status: a.Status, Event: typ}
	case typ == EventStarted && a.StartedAt.IsZero(), typ == EventFinished && a.CompletedAt.IsZero():
		return nil, &StateError{Op: OpResend, Status: a.StatusAt(now), Event: typ}
	}
	return []Event{{Type: typ, At: now, Resent: true}}, nil
}

// ResultsVisible says, as a StateError for op (OpResults or OpPublicLink), why a's results cannot
// be shown: only completed and hired applications have results. a is an application as seen at a
// time (the store's reads give them so).
func (a Application) ResultsVisible(op Op) error {
	if a.Status == Completed || a.Status == Hired {
		return nil
	}
	return &StateError{Op: op, Status: a.Status}
}

// UnmarshalText reads a status, as one of the constants (no copy of the text is kept).
func (s *Status) UnmarshalText(b []byte) error {
	for _, st := range Statuses {
		if string(st) == string(b) {
			*s = st
			return nil
		}
	}
	*s = Status(b)
	return nil
}

// Interned returns a with the strings that repeat across applications (client, job, invitation
// type) replaced by the process's one copy of each: what a data file gives back holds a copy per
// record otherwise.
func (a Application) Interned() Application {
	a.ClientID, a.JobID, a.InvitationType = Intern(a.ClientID), Intern(a.JobID), Intern(a.InvitationType)
	return a
}

// Intern returns the one copy of s the process keeps: strings that repeat across applications
// (client ids, job ids, trait codes, states) are held once.
func Intern(s string) string { return unique.Make(s).Value() }
