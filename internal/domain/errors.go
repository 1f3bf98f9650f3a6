package domain

import "fmt"

// Op names what was asked of an application, for a StateError.
type Op string

// The operations a state can refuse.
const (
	OpStart      Op = "start"
	OpComplete   Op = "complete"
	OpExpire     Op = "expire the invitation"
	OpHire       Op = "hire"
	OpAnonymize  Op = "anonymize"
	OpResults    Op = "results"
	OpPublicLink Op = "public link"
	OpResend     Op = "send an event again"
)

// StateError says that an operation is not allowed in the application's current state (the
// APIs answer it as a 409 Conflict). Needs is the first state the lifecycle allows it in (what
// its words say the application is not); Event names the event of an OpResend.
type StateError struct {
	Op     Op
	Status Status
	Needs  Status
	Event  EventType
}

// Error says what was refused and why, in the words the APIs answer.
func (e *StateError) Error() string {
	switch e.Op {
	case OpStart:
		return fmt.Sprintf("The assessment cannot be started: the application is %s", e.Status)
	case OpComplete:
		return fmt.Sprintf("The assessment cannot be completed: the application is %s", e.Status)
	case OpExpire:
		return fmt.Sprintf("The invitation cannot expire: the application is %s", e.Status)
	case OpHire:
		return fmt.Sprintf("The applicant cannot be hired: the application is %s, not %s", e.Status, e.Needs)
	case OpAnonymize:
		return fmt.Sprintf("The application cannot be anonymized: the application is %s", e.Status)
	case OpResults, OpPublicLink:
		what := "Results"
		if e.Op == OpPublicLink {
			what = "Public links"
		}
		if e.Status == Anonymized {
			return what + " are no longer available: the application is anonymized"
		}
		return fmt.Sprintf("%s are not available: the application is %s, not %s", what, e.Status, e.Needs)
	case OpResend:
		switch {
		case e.Status == Anonymized:
			return "The application is anonymized: it gets no more events"
		case e.Event == EventStarted:
			return fmt.Sprintf("The application has not started (it is %s): no %s to send", e.Status, e.Event)
		default:
			return fmt.Sprintf("The application has not completed (it is %s): no %s to send", e.Status, e.Event)
		}
	}
	return fmt.Sprintf("Cannot %s: the application is %s", e.Op, e.Status)
}
