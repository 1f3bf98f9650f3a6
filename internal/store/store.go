// Package store is the mock's one state: applications and their lifecycle, the invitation outbox,
// token generations and the clients' webhooks. It owns its lock; every method takes and returns
// values, so no caller holds a pointer into shared state, and every state transition happens inside
// a method here. Transitions are published as events to subscribers (the callback dispatcher, which
// also raises the webhook events) after the lock is released.
//
// A store built with Open writes every change through to a Persistence before the method that made
// it returns (so before an HTTP handler answers), outside the lock; each change carries a revision
// so that writes racing to the disk cannot put an older state over a newer one.
package store

import (
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/notify"
)

// Status is an application's lifecycle state.
type Status string

// The lifecycle: invited → started → completed → hired; invited/started → expired when the
// invitation lapses unused; any state → anonymized.
const (
	Invited    Status = "invited"
	Started    Status = "started"
	Completed  Status = "completed"
	Hired      Status = "hired"
	Anonymized Status = "anonymized"
	Expired    Status = "expired"
)

// Invitation types.
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

// Application is a copy of an application's state.
type Application struct {
	ReferenceID         string         `json:"reference_id"`
	ClientID            string         `json:"client_id"`
	JobID               string         `json:"job_id"`
	CallbackURL         string         `json:"callback_url"`
	InvitationType      string         `json:"invitation_type"`
	Applicant           Applicant      `json:"applicant"`
	Status              Status         `json:"status"`
	AssessmentURL       string         `json:"assessment_url"`
	CreatedAt           time.Time      `json:"created_at"`
	InvitationExpiresAt time.Time      `json:"invitation_expires_at"`
	StartedAt           time.Time      `json:"started_at,omitzero"`
	CompletedAt         time.Time      `json:"completed_at,omitzero"`
	AnonymizedAt        time.Time      `json:"anonymized_at,omitzero"`
	Scores              map[string]int `json:"scores,omitempty"`
	Hire                *Hire          `json:"hire,omitempty"`
}

func (a *Application) clone() Application {
	c := *a
	c.Scores = maps.Clone(a.Scores)
	if a.Hire != nil {
		h := *a.Hire
		c.Hire = &h
	}
	return c
}

// Email is an invitation the mock would have sent.
type Email struct {
	ClientID    string    `json:"client_id"`
	ReferenceID string    `json:"reference_id"`
	To          string    `json:"to"`
	Subject     string    `json:"subject"`
	Body        string    `json:"body"`
	Link        string    `json:"link"`
	SentAt      time.Time `json:"sent_at"`
}

// EventType names a lifecycle transition.
type EventType string

// Event types.
const (
	EventCreated    EventType = "application.created"
	EventStarted    EventType = "application.started"
	EventCompleted  EventType = "application.completed"
	EventHired      EventType = "application.hired"
	EventAnonymized EventType = "application.anonymized"
)

// Event is a transition, with the application as it stands after it.
type Event struct {
	Type        EventType
	Application Application
	At          time.Time
	// From is the application's status (as seen on the clock) before the transition: a
	// completion From Invited never had its own start.
	From Status
}

// Store holds the state.
type Store struct {
	clock   clock.Clock
	changed notify.Broadcaster
	durable Persistence // nil: in memory only

	mu        sync.RWMutex
	apps      map[string]*Application
	order     []string
	outbox    []Email
	tokenGens map[string]TokenGeneration
	hooks     map[string]map[string]Webhook // client id → label → webhook
	listeners []func(Event)
	rev       uint64 // counts changes; orders the writes to persistence
}

// Persistence is where a durable store writes its changes. WriteStore must be durable when it
// returns, and must ignore a change older (by Rev) than what it holds of the same application or
// client, and any change older than the last reset.
type Persistence interface {
	WriteStore(Change) error
}

// Change is what one store method changed, as of revision Rev.
type Change struct {
	Rev uint64
	// Application is the application as stored (its status as set, not as seen on the clock).
	Application *Application
	// Created says Application is new: it comes after every earlier one in creation order.
	Created bool
	// Email joins the outbox.
	Email *Email
	// Erased are outbox emails as they stand once erased (an application's, when it is
	// anonymized): they replace the emails of the same application.
	Erased []Email
	// Tokens are clients' new token generations.
	Tokens map[string]TokenGeneration
	// Webhook is a client's webhook as registered or updated.
	Webhook *Webhook
	// Unhooked are webhooks deleted (their client and label say which).
	Unhooked []Webhook
	// Reset empties the store: everything written before Rev is gone.
	Reset bool
}

// Snapshot is a store's whole state, as a Persistence gives it back at start-up.
type Snapshot struct {
	Applications []Application // in creation order
	Outbox       []Email       // oldest first
	Tokens       map[string]TokenGeneration
	Webhooks     []Webhook
	Rev          uint64 // the newest change's revision
}

// TokenGeneration is a client's token epoch: tokens carry the generation they were issued in, and
// only the current one is accepted. Reason says why older ones stopped working.
type TokenGeneration struct {
	Gen    int    `json:"generation"`
	Reason string `json:"reason,omitempty"`
}

// New returns an empty store on clock c, in memory only.
func New(c clock.Clock) *Store {
	return &Store{clock: c, apps: make(map[string]*Application), tokenGens: make(map[string]TokenGeneration), hooks: make(map[string]map[string]Webhook)}
}

// Open returns a store on clock c holding snap (what p gave back at start-up) that writes every
// change through to p before the method making it returns (a nil p writes nothing). A method whose
// write fails returns the error; the change stays in memory (and its event is published) but may
// not survive a restart.
func Open(c clock.Clock, p Persistence, snap Snapshot) *Store {
	s := New(c)
	s.durable = p
	s.rev = snap.Rev
	for _, a := range snap.Applications {
		stored := a.clone()
		s.apps[a.ReferenceID] = &stored
		s.order = append(s.order, a.ReferenceID)
	}
	s.outbox = append(s.outbox, snap.Outbox...)
	maps.Copy(s.tokenGens, snap.Tokens)
	for _, w := range snap.Webhooks {
		s.hookLocked(w)
	}
	return s
}

// changeLocked stamps ch with the next revision; it returns nil when nothing is written through.
func (s *Store) changeLocked(ch Change) *Change {
	if s.durable == nil {
		return nil
	}
	s.rev++
	ch.Rev = s.rev
	return &ch
}

// write makes ch durable (nothing when ch is nil).
func (s *Store) write(ch *Change) error {
	if ch == nil {
		return nil
	}
	if err := s.durable.WriteStore(*ch); err != nil {
		return fmt.Errorf("store: saving the change: %w", err)
	}
	return nil
}

// Subscribe registers fn for every event. fn runs after the store's lock is released, in the
// goroutine that caused the transition; it must not block.
func (s *Store) Subscribe(fn func(Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, fn)
}

// Changed wakes waiters (the control API's ?wait= queries) on every transition and email.
func (s *Store) Changed() *notify.Broadcaster { return &s.changed }

func (s *Store) publish(events ...Event) {
	defer s.changed.Notify()
	s.mu.RLock()
	ls := s.listeners
	s.mu.RUnlock()
	for _, e := range events {
		for _, l := range ls {
			l(e)
		}
	}
}

// Create stores a new invited application; an email invitation is recorded in the outbox.
// ReferenceID, ClientID and the rest come from a; the store stamps times and status. The error is
// a failed write-through (the application stays in memory).
func (s *Store) Create(a Application, invitationTTL time.Duration, mail *Email) (Application, error) {
	now := s.clock.Now()
	a.Status = Invited
	a.CreatedAt = now
	a.InvitationExpiresAt = now.Add(invitationTTL)
	s.mu.Lock()
	stored := a.clone()
	s.apps[a.ReferenceID] = &stored
	s.order = append(s.order, a.ReferenceID)
	var m *Email
	if mail != nil {
		sent := *mail
		sent.SentAt = now
		s.outbox = append(s.outbox, sent)
		m = &sent
	}
	out := stored.clone()
	ch := s.changeLocked(Change{Application: &out, Created: true, Email: m})
	s.mu.Unlock()
	err := s.write(ch)
	s.publish(Event{Type: EventCreated, Application: out, At: now})
	return out, err
}

// Get returns clientID's application ref; another client's application is NotFound, like an
// unknown one.
func (s *Store) Get(clientID, ref string) (Application, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, err := s.getLocked(clientID, ref)
	if err != nil {
		return Application{}, err
	}
	return s.view(a), nil
}

// Lookup returns application ref of any client (for the control API).
func (s *Store) Lookup(ref string) (Application, error) { return s.Get("", ref) }

func (s *Store) getLocked(clientID, ref string) (*Application, error) {
	a, ok := s.apps[ref]
	if !ok || (clientID != "" && a.ClientID != clientID) {
		return nil, apierr.New(apierr.NotFound, "Not Found")
	}
	return a, nil
}

// view copies a, with the effective status on the store's clock.
func (s *Store) view(a *Application) Application {
	c := a.clone()
	c.Status = effective(a, s.clock.Now())
	return c
}

// List returns all applications in creation order (clientID "" for all clients).
func (s *Store) List(clientID string) []Application {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Application, 0, len(s.order))
	for _, ref := range s.order {
		if a := s.apps[ref]; clientID == "" || a.ClientID == clientID {
			out = append(out, s.view(a))
		}
	}
	return out
}

// AppFilter selects applications for a page of them; empty fields select all.
type AppFilter struct {
	ClientID string
	Status   Status // as seen on the clock: an invitation past its expiry is expired
	// Text matches the start of the reference id, or a part of the applicant's name or email,
	// in any case.
	Text string
}

func (f AppFilter) matches(a *Application, st Status, text string) bool {
	if f.ClientID != "" && a.ClientID != f.ClientID || f.Status != "" && st != f.Status {
		return false
	}
	if text == "" {
		return true
	}
	return strings.HasPrefix(a.ReferenceID, text) || containsFold(a.Applicant.FirstName+" "+a.Applicant.LastName, text) ||
		containsFold(a.Applicant.Email, text)
}

// containsFold reports whether s contains lower (already lower case), in any case.
func containsFold(s, lower string) bool { return strings.Contains(strings.ToLower(s), lower) }

// ApplicationsPage returns the applications f selects, newest first, from the offset-th on, at
// most limit of them, and how many f selects in all. Only the page is copied: a console showing
// 50 of 10,000 applications costs a walk over their statuses, not 10,000 copies.
func (s *Store) ApplicationsPage(f AppFilter, offset, limit int) (page []Application, total int) {
	now := s.clock.Now()
	text := strings.ToLower(strings.TrimSpace(f.Text))
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := len(s.order) - 1; i >= 0; i-- {
		a := s.apps[s.order[i]]
		st := effective(a, now)
		if !f.matches(a, st, text) {
			continue
		}
		if total >= offset && len(page) < limit {
			c := a.clone()
			c.Status = st
			page = append(page, c)
		}
		total++
	}
	return page, total
}

// OutboxPage returns clientID's invitation emails ("" for all), newest first, from the offset-th
// on, at most limit of them, and how many there are in all.
func (s *Store) OutboxPage(clientID string, offset, limit int) (page []Email, total int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := len(s.outbox) - 1; i >= 0; i-- {
		m := s.outbox[i]
		if clientID != "" && m.ClientID != clientID {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, m)
		}
		total++
	}
	return page, total
}

// Count returns how many applications are stored.
func (s *Store) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.apps)
}

// transition applies fn to application ref of clientID ("" for any) under the lock, writes the
// application through unless fn failed (a repeated start or anonymization writes the same state
// again: harmless, and rare), and publishes the event fn names (none when fn returns "").
func (s *Store) transition(clientID, ref string, fn func(a *Application, now time.Time) (EventType, error)) (Application, error) {
	return s.transitionErasing(clientID, ref, func(a *Application, now time.Time) (EventType, []Email, error) {
		ev, err := fn(a, now)
		return ev, nil, err
	})
}

// transitionErasing is transition for a change that also erases outbox emails (fn returns them
// as they now stand), written through with it.
func (s *Store) transitionErasing(clientID, ref string, fn func(a *Application, now time.Time) (EventType, []Email, error)) (Application, error) {
	now := s.clock.Now()
	s.mu.Lock()
	a, err := s.getLocked(clientID, ref)
	if err != nil {
		s.mu.Unlock()
		return Application{}, err
	}
	from := effective(a, now)
	ev, erased, err := fn(a, now)
	out := s.view(a)
	var ch *Change
	if err == nil {
		stored := a.clone()
		ch = s.changeLocked(Change{Application: &stored, Erased: erased})
	}
	s.mu.Unlock()
	if err != nil {
		return out, err
	}
	werr := s.write(ch)
	if ev != "" {
		s.publish(Event{Type: ev, Application: out, At: now, From: from})
	}
	return out, werr
}

// Action is a transition someone can ask of an application.
type Action string

// The actions, named as the console and the control API name them.
const (
	ActStart     Action = "start"
	ActComplete  Action = "complete"
	ActExpire    Action = "expire"
	ActHire      Action = "hire"
	ActAnonymize Action = "anonymize"
)

// Can reports whether an application in state st (as seen on the clock) can take action act: the
// rule the transitions below apply, for whoever offers actions (the console) to ask before
// offering one that cannot work. Starting a started application and expiring an expired one are
// accepted as repeats, changing nothing; they are not offered.
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

// Start marks the applicant as having opened the assessment.
func (s *Store) Start(ref string) (Application, error) {
	return s.transition("", ref, func(a *Application, now time.Time) (EventType, error) {
		switch st := effective(a, now); {
		case st == Started:
			return "", nil
		case Can(st, ActStart):
			a.Status, a.StartedAt = Started, now
			return EventStarted, nil
		default:
			return "", conflictIn(st, "The assessment cannot be started: the application is %s", st)
		}
	})
}

// Complete marks the assessment completed with scores (trait code → bucket score).
func (s *Store) Complete(ref string, scores map[string]int) (Application, error) {
	return s.transition("", ref, func(a *Application, now time.Time) (EventType, error) {
		if st := effective(a, now); !Can(st, ActComplete) {
			return "", conflictIn(st, "The assessment cannot be completed: the application is %s", st)
		}
		if a.StartedAt.IsZero() {
			a.StartedAt = now
		}
		a.Status, a.CompletedAt, a.Scores = Completed, now, maps.Clone(scores)
		return EventCompleted, nil
	})
}

// ExpireInvitation makes an invited application's link lapse now.
func (s *Store) ExpireInvitation(ref string) (Application, error) {
	return s.transition("", ref, func(a *Application, now time.Time) (EventType, error) {
		if st := effective(a, now); st != Expired && !Can(st, ActExpire) {
			return "", conflictIn(st, "The invitation cannot expire: the application is %s", st)
		}
		a.InvitationExpiresAt = now
		return "", nil
	})
}

// Hire hires clientID's completed application ref.
func (s *Store) Hire(clientID, ref string, h Hire) (Application, error) {
	return s.transition(clientID, ref, func(a *Application, now time.Time) (EventType, error) {
		if st := effective(a, now); !Can(st, ActHire) {
			return "", conflictIn(st, "The applicant cannot be hired: the application is %s, not completed", st)
		}
		h.HiredAt = now
		a.Status, a.Hire = Hired, &h
		return EventHired, nil
	})
}

// Anonymize anonymizes clientID's application ref from any state, idempotently: the applicant's
// personal details and scores are erased.
func (s *Store) Anonymize(clientID, ref string) (Application, error) {
	return s.transitionErasing(clientID, ref, func(a *Application, now time.Time) (EventType, []Email, error) {
		if a.Status == Anonymized {
			return "", nil, nil
		}
		a.Status, a.AnonymizedAt = Anonymized, now
		a.Applicant = Applicant{FirstName: "Anonymized", LastName: "Applicant", Email: ""}
		a.Scores = nil
		var erased []Email
		for i := range s.outbox {
			if m := &s.outbox[i]; m.ReferenceID == ref {
				m.To, m.Subject, m.Body = "", "(anonymized)", "(anonymized)"
				erased = append(erased, *m)
			}
		}
		return EventAnonymized, erased, nil
	})
}

// ResultsAvailable reports (as a 409 error) why a's results and public link cannot be shown.
func ResultsAvailable(a Application, what string) error {
	switch a.Status {
	case Completed, Hired:
		return nil
	case Anonymized:
		return conflictIn(Anonymized, "%s are no longer available: the application is anonymized", what)
	default:
		return conflictIn(a.Status, "%s are not available: the application is %s, not completed", what, a.Status)
	}
}

// conflictIn is a 409 because the application is in state st (the reason coverage counts).
func conflictIn(st Status, format string, args ...any) error {
	return apierr.New(apierr.Conflict, format, args...).Because(string(st))
}

// effective is a's status at now: an unused invitation past its expiry is expired.
func effective(a *Application, now time.Time) Status {
	if (a.Status == Invited || a.Status == Started) && !now.Before(a.InvitationExpiresAt) {
		return Expired
	}
	return a.Status
}

// Outbox returns the recorded invitation emails, oldest first (clientID "" for all).
func (s *Store) Outbox(clientID string) []Email {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Email, 0, len(s.outbox))
	for _, m := range s.outbox {
		if clientID == "" || m.ClientID == clientID {
			out = append(out, m)
		}
	}
	return out
}

// TokenGeneration returns clientID's current token generation.
func (s *Store) TokenGeneration(clientID string) TokenGeneration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tokenGens[clientID]
}

// InvalidateTokens makes every token issued so far to the clients invalid, for reason ("expired"
// or "revoked"). The error is a failed write-through.
func (s *Store) InvalidateTokens(reason string, clientIDs ...string) error {
	s.mu.Lock()
	gens := make(map[string]TokenGeneration, len(clientIDs))
	for _, id := range clientIDs {
		g := s.tokenGens[id]
		s.tokenGens[id] = TokenGeneration{Gen: g.Gen + 1, Reason: reason}
		gens[id] = s.tokenGens[id]
	}
	ch := s.changeLocked(Change{Tokens: gens})
	s.mu.Unlock()
	return s.write(ch)
}

// Reset empties the store, webhooks included (subscribers stay). The error is a failed write-through.
func (s *Store) Reset() error {
	s.mu.Lock()
	s.apps = make(map[string]*Application)
	s.order = nil
	s.outbox = nil
	s.tokenGens = make(map[string]TokenGeneration)
	s.hooks = make(map[string]map[string]Webhook)
	ch := s.changeLocked(Change{Reset: true})
	s.mu.Unlock()
	s.changed.Notify()
	return s.write(ch)
}
