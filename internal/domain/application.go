// Package domain is the mock's core: an application of an applicant to a job, its lifecycle's
// transitions, which return the events a transition causes or a StateError naming the current
// state, the events, and the rules that depend on nothing else (what a webhook label and secret
// look like, when an event can be sent again). It imports no HTTP, disk or goroutines: the service
// calls it, the store keeps its values, the delivery machinery turns its events into what leaves
// the mock.
//
// The lifecycle, as the embedded contracts state it:
//
//	invited ──► started ──► completed ──► hired
//	   │           │
//	   └───────────┴──► expired      (the invitation lapses unused, on the clock)
//	any state ──────► anonymized     (final; personal data and scores erased)
//
// Which state allows which action is not written here. The contracts state it once, as
// x-lifecycle (openapi.yaml: its root's transitions and its operations' rules; control-openapi.yaml:
// the rules of the mock's levers start, complete and expire); internal/spec reads it into a Rules
// at start-up, and NewLifecycle builds the Lifecycle that applies them, refusing rules the domain
// cannot apply. That Lifecycle is the one enforcer: its transitions (Start, Complete,
// ExpireInvitation, Hire, Anonymize) make the moves the rules allow, through the states they say
// (a completion from invited is a start too: assessment_started, then assessment_finished);
// StatusAt says which invitations have lapsed (a status seen on the clock, not stored); Can says
// which actions a state offers (the console asks it); ResultsVisible says where results show.
// What each state means — a start time, scores, a hiring, erasure, the event that announces it —
// is the domain's own.
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
// reference id and hands out copies. Its Status is the one set by its transitions;
// Lifecycle.StatusAt says what it is at a time (an unused invitation lapses). What can be rebuilt
// from it is not kept in it: the assessment link, the invitation email and the payloads sent
// about it.
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
	a = a.Interned()
	a.Status, a.CreatedAt, a.InvitationExpiresAt = Invited, now, now.Add(ttl)
	a.StartedAt, a.CompletedAt, a.AnonymizedAt, a.Scores, a.Hire = time.Time{}, time.Time{}, time.Time{}, nil, nil
	return a, []Event{{Type: EventCreated, At: now}}
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
