package domain

import "time"

// EventType names what happened to an application.
type EventType string

// The events. assessment_started and assessment_finished are also what a client's webhooks hear,
// under these names (the vendor's payloads' names).
const (
	EventCreated    EventType = "application_created"
	EventStarted    EventType = "assessment_started"
	EventFinished   EventType = "assessment_finished"
	EventHired      EventType = "applicant_hired"
	EventAnonymized EventType = "application_anonymized"
)

// Event is what a transition caused. The transitions set Type and At; the store, which makes the
// change under its lock, stamps Seq and Application there, so the events of every application
// are numbered in the order their changes were made, and handed on in that order.
type Event struct {
	// Seq numbers the events of the store's changes in the order they were made; no number is
	// given twice, across resets and restarts (an event's id is drawn from it).
	Seq  uint64
	Type EventType
	At   time.Time
	// Resent marks an event sent again on request (Resend), not caused by a transition.
	Resent bool
	// Application is the application as the change left it, seen at At.
	Application Application
}
