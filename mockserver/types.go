package mockserver

import (
	"encoding/json"
	"errors"
	"time"
)

// Status is where an application stands in its lifecycle: invited → started → completed → hired;
// invited or started → expired when the invitation lapses unused; any state → anonymized.
type Status string

// Application statuses.
const (
	StatusInvited    Status = "invited"
	StatusStarted    Status = "started"
	StatusCompleted  Status = "completed"
	StatusHired      Status = "hired"
	StatusAnonymized Status = "anonymized"
	StatusExpired    Status = "expired"
)

// Fit is how well an applicant's scores match the job's competency profile.
type Fit string

// Fits.
const (
	FitLow    Fit = "low"
	FitMedium Fit = "medium"
	FitHigh   Fit = "high"
)

// Application is an application as the mock holds it: a copy, which the mock never changes.
type Application struct {
	ReferenceID         string
	ClientID            string
	JobID               string
	CallbackURL         string
	InvitationType      string // "email" or "one_time_link"
	Applicant           Applicant
	Status              Status
	AssessmentURL       string
	CreatedAt           time.Time
	InvitationExpiresAt time.Time
	StartedAt           time.Time      // zero until started
	CompletedAt         time.Time      // zero until completed
	AnonymizedAt        time.Time      // zero unless anonymized
	Scores              map[string]int // trait code → bucket score (1-5), once completed
	Hire                *Hire          // nil until hired
}

// Applicant is who was invited.
type Applicant struct {
	FirstName string
	LastName  string
	Email     string
}

// Hire is what the ATS said when it hired the applicant.
type Hire struct {
	AddToTeam   bool
	AddedToTeam bool
	Team        string
	StartDate   string
	HiredAt     time.Time
}

// Completion says how an assessment is completed. Give at most one of Fit, Scores and Answers;
// with none, scores are drawn from the seed.
type Completion struct {
	// Fit draws scores that give this fit.
	Fit Fit
	// Scores are bucket scores (1-5) by trait code; traits left out are drawn.
	Scores map[string]int
	// Answers are the applicant's answers by trait code, one (1-5) per statement of the job's
	// questionnaire, scored as the assessment page scores them.
	Answers map[string][]int
}

// Job is an assessment job of a client, as GET /connect_ats/jobs lists it.
type Job struct {
	ID   string
	Name string
	Team string
}

// DeliveryKind says what a delivery carries.
type DeliveryKind string

// Delivery kinds.
const (
	// DeliveryResults is an application's results, PUT to its callback URL.
	DeliveryResults DeliveryKind = "results"
	// DeliveryWebhook is an event, POSTed to a webhook of the application's client.
	DeliveryWebhook DeliveryKind = "webhook"
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending    DeliveryStatus = "pending"    // waiting for its next attempt
	DeliveryDelivering DeliveryStatus = "delivering" // an attempt is in flight
	DeliveryDelivered  DeliveryStatus = "delivered"  // the receiver answered as Config.Callbacks.Success requires
	DeliveryFailed     DeliveryStatus = "failed"     // attempts exhausted, or the receiver answered 410
	DeliveryCancelled  DeliveryStatus = "cancelled"  // the application was anonymized, or the webhook deleted
)

// EventType is a webhook event.
type EventType string

// Webhook events, in the order an application has them.
const (
	EventAssessmentStarted  EventType = "assessment_started"  // the applicant opened the assessment
	EventAssessmentFinished EventType = "assessment_finished" // the applicant completed it
)

// Delivery is a results callback — the PUT of an application's results to its callback URL — or
// a webhook event POSTed to one of its client's webhooks, with every attempt so far.
type Delivery struct {
	ID          string
	ReferenceID string
	ClientID    string
	Kind        DeliveryKind
	Method      string // PUT for results, POST for events
	// EventType, EventID and Webhook (its label) describe a webhook event; an event sent to
	// several webhooks has one id, and a delivery to each.
	EventType     EventType
	EventID       string
	Webhook       string
	URL           string
	Status        DeliveryStatus
	Reason        string // why it failed or was cancelled
	Attempts      []Attempt
	CreatedAt     time.Time
	NextAttemptAt time.Time       // zero when no attempt is planned
	Payload       json.RawMessage // the results as PUT, or the event as POSTed
}

// Attempt is one try at delivering.
type Attempt struct {
	N          int       // 1 for the first attempt
	At         time.Time // on the mock's clock
	StatusCode int       // 0 when no answer came
	Error      string    // why no answer came
	Latency    time.Duration
}

// DeliveryFilter selects deliveries; its zero fields match every delivery.
type DeliveryFilter struct {
	ReferenceID string
	ClientID    string
	Kind        DeliveryKind
	Status      DeliveryStatus
	EventType   EventType
	EventID     string
}

// Request is a request the vendor API received, as the journal keeps it: bodies up to 64 KiB,
// secrets as the journal records them.
type Request struct {
	ID           int64 // increasing: the journal's order
	Time         time.Time
	Method       string
	Path         string
	Query        string
	ClientID     string // who the request claimed to be
	OperationID  string // the contract's operationId, "" when no operation matched
	Status       int
	RequestBody  []byte // as sent, its first 64 KiB
	ResponseBody []byte // as answered, its first 64 KiB
	Fault        string // the id of the fault rule that shaped the answer
}

// Fault is a rule that makes the vendor API fail on purpose: requests it matches (by method,
// path, client, and optionally only the Nth match) are answered with Status and Body, delayed,
// or cut off, up to Times hits or with a Probability.
type Fault struct {
	ID          string            // set by AddFault
	Method      string            // "" matches every method
	Path        string            // a path pattern such as "/connect_ats/applications/*"; "" matches every path
	ClientID    string            // "" matches every client
	Nth         int               // only the Nth matching request (0: every one)
	Times       int               // at most this many hits (0: no limit)
	Probability float64           // the chance that a match is hit, in (0, 1] (0: always)
	Status      int               // the status to answer (0: the mock's own answer, delayed)
	Headers     map[string]string // headers to answer with Status
	Body        json.RawMessage   // the body to answer with Status
	Latency     time.Duration     // delay before answering
	LatencyMax  time.Duration     // with Latency, a random delay in [Latency, LatencyMax]
	Break       Break             // break the wire instead of answering
	Matched     int               // requests the rule matched so far (read-out)
	Hits        int               // requests it shaped so far (read-out)
}

// Break is a way to break the wire.
type Break string

// Ways to break the wire.
const (
	BreakEmptyResponse   Break = "empty_response"   // close the connection without an answer
	BreakConnectionReset Break = "connection_reset" // reset the connection
	BreakGarbage         Break = "garbage"          // answer bytes that are not HTTP
)

// Email is an invitation email the mock would have sent.
type Email struct {
	ClientID    string
	ReferenceID string
	To          string
	Subject     string
	Body        string
	Link        string // the assessment link
	SentAt      time.Time
}

// Errors the Server's methods wrap, to be matched with errors.Is.
var (
	// ErrNotFound: no such application, client, delivery or fault rule.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the application's state does not allow it (completing a completed one).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: an argument the mock refuses (a fit and scores at once, a score out of 1-5).
	ErrInvalid = errors.New("invalid")
	// ErrUnauthorized: credentials no client of the fixtures has.
	ErrUnauthorized = errors.New("unauthorized")
)
