// Package service is the mock's one application service: every entry point — the vendor API,
// the control API, the operator console, the pages behind the links, the scenario runner, the Go
// control handle on mockserver.Server, the tests — calls it, and its HTTP callers only decode,
// call and encode. It runs the use cases (invite, start, complete, expire, hire, anonymize,
// complete automatically on the clock; results, links, the dashboard, the outbox; register, list
// and delete webhooks, send an event again; the delivery log and redelivery) and the mock's
// controls (the clock, fault rules, token generations, the journal, settle, reset).
//
// Where each rule lives:
//   - the lifecycle — which states allow which action, what a completion from invited passes
//     through, which invitations lapse, which states show results — is stated once, in the
//     contracts' x-lifecycle, read at start-up into the domain.Lifecycle the service is given
//     (Deps.Lifecycle, built by spec.DomainLifecycle), which every transition, refusal and
//     visibility here goes through;
//   - what each state means and the refusals' words, what a webhook label and secret are:
//     internal/domain;
//   - making a change under one lock, numbering its events and writing it in order: internal/store
//     (and internal/persist, the data file);
//   - what each event sends, in which order, retried how, signed how; the clients' webhooks:
//     internal/delivery (the store's one publisher);
//   - everything that combines them — which job an application is for, scores drawn or chosen,
//     the links and their tokens, what reset empties, when the mock has settled: here.
//
// The service builds its store and its delivery sender (its parts) itself, on the data file it
// is given, so the assembly outside needs none of them.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/equalture/equalture-mock/internal/auth"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/coverage"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/egress"
	"github.com/equalture/equalture-mock/internal/fault"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/journal"
	"github.com/equalture/equalture-mock/internal/persist"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/store"
)

// Config holds the service's settings.
type Config struct {
	// PublicURL is the base of the links the mock hands out (assessment, public results, dashboard).
	PublicURL string
	// InvitationTTL is how long an invitation link is valid (1 week).
	InvitationTTL time.Duration
	// PublicLinkTTL is how long a public results link is valid (120 minutes).
	PublicLinkTTL time.Duration
	// Seed makes reference ids, scores, jitter and event ids reproducible.
	Seed int64
	// AutoCompleteAfter completes applications this long after creation unless their job says
	// otherwise (0: never).
	AutoCompleteAfter time.Duration
	// Deliveries tunes the results callbacks and webhook events (retries, timeout, workers).
	Deliveries delivery.Config
	// Egress says where callback_url and webhook urls may point, and where deliveries may connect:
	// its PublicURL is the service's, its Timeout the deliveries' unless set (every host but the
	// mock's own by default).
	Egress egress.Config
}

// Defaults for Config's zero fields.
const (
	DefaultInvitationTTL = 7 * 24 * time.Hour
	DefaultPublicLinkTTL = 120 * time.Minute
	DefaultPublicURL     = "http://localhost:8080"
)

func (c *Config) setDefaults() {
	if c.PublicURL == "" {
		c.PublicURL = DefaultPublicURL
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.InvitationTTL <= 0 {
		c.InvitationTTL = DefaultInvitationTTL
	}
	if c.PublicLinkTTL <= 0 {
		c.PublicLinkTTL = DefaultPublicLinkTTL
	}
	if c.Deliveries.Seed == 0 {
		c.Deliveries.Seed = uint64(c.Seed)
	}
}

// Deps are the service's collaborators, built once and shared with the rest of the mock.
type Deps struct {
	Clock *clock.Virtual
	// Lifecycle applies the contracts' x-lifecycle (spec.DomainLifecycle): every transition, the
	// actions offered, which states show results.
	Lifecycle *domain.Lifecycle
	Fixtures  *fixtures.Set
	// Links signs the links handed out (the same key as access tokens).
	Links *auth.Signer
	// Journal and Faults are the request journal and the fault rules the vendor API's pipeline
	// uses; the service erases, clears and resets them.
	Journal *journal.Journal
	Faults  *fault.Set
	// Coverage, when set, counts what the vendor API's traffic met of openapi.yaml; the service
	// tells it of every delivery attempt (what the receivers made of the callbacks and events).
	Coverage *coverage.Recorder
	// DB is the data file (nil: everything in memory).
	DB *persist.DB
	// UserAgent is what deliveries identify the mock as.
	UserAgent string
	Logger    *slog.Logger
}

// Service runs the use cases and the controls.
type Service struct {
	cfg     Config
	deps    Deps
	lc      *domain.Lifecycle // deps.Lifecycle
	egress  *egress.Policy    // cfg.Egress
	store   *store.Store
	sender  *delivery.Sender
	results *results.Generator
	queue   *clock.Queue // automatic completions
	clockMu sync.Mutex   // orders the clock's moves and their records
}

// New builds the service and its parts on deps.DB: the store and the delivery sender hold what
// the data file holds, the clock takes the course it kept. Resume starts the work a restart
// interrupted; Close stops it all.
func New(cfg Config, deps Deps) (*Service, error) {
	if deps.Clock == nil || deps.Lifecycle == nil || deps.Fixtures == nil || deps.Links == nil || deps.Journal == nil || deps.Faults == nil {
		return nil, errors.New("service: missing dependency")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	cfg.Egress.PublicURL = cfg.PublicURL
	if cfg.Egress.Timeout == 0 {
		cfg.Egress.Timeout = cfg.Deliveries.Timeout
	}
	policy, err := egress.New(cfg.Egress)
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	s := &Service{cfg: cfg, deps: deps, egress: policy, lc: deps.Lifecycle, results: results.NewGenerator(deps.Fixtures, cfg.Seed)}
	if err := s.restoreClock(); err != nil {
		return nil, err
	}
	// The store publishes to the sender, and the sender renders payloads from the store's
	// applications: the sender is built first and reads them through the service (s.Lookup),
	// which holds the store before any change can be published.
	s.sender, err = delivery.New(cfg.Deliveries, delivery.Deps{
		Clock: deps.Clock, Fixtures: deps.Fixtures, DB: deps.DB, Egress: policy,
		Lookup:    s.Lookup,
		Results:   func(a domain.Application) any { return s.Render(a, "en") },
		UserAgent: deps.UserAgent, Logger: deps.Logger,
		Attempted: s.attempted,
	})
	if err != nil {
		return nil, err
	}
	if s.store, err = store.Open(store.Deps{Clock: deps.Clock, Lifecycle: deps.Lifecycle, DB: deps.DB, Publisher: s.sender, Seed: cfg.Seed}); err != nil {
		return nil, errors.Join(err, s.sender.Close(context.Background()))
	}
	s.queue = clock.NewQueue(deps.Clock)
	return s, nil
}

// attempted tells coverage of a delivery attempt: the callback it was (the results, or an
// event) and what the receiver made of it.
func (s *Service) attempted(kind delivery.Kind, event string, status int, err error) {
	if s.deps.Coverage == nil {
		return
	}
	name := event
	if kind == delivery.KindResults {
		name = coverage.ResultsCallback
	}
	s.deps.Coverage.Callback(name, coverage.OutcomeOf(status, err, errors.Is(err, delivery.ErrTimeout)))
}

// Resume starts what a restart interrupted, once the mock is assembled: pending deliveries, and
// the automatic completions of restored invited or started applications (with the settings in
// force now; those due already run at once).
func (s *Service) Resume() {
	s.sender.Resume()
	n := 0
	for _, app := range s.store.List(store.Filter{}) {
		if !s.lc.Can(app.Status, domain.ActComplete) {
			continue
		}
		job, ok := s.deps.Fixtures.Job(app.ClientID, app.JobID)
		if !ok {
			continue // the fixtures changed since: nothing to complete it with
		}
		if after := s.autoCompleteAfter(job); after > 0 {
			s.scheduleCompletion(app.ReferenceID, app.CreatedAt.Add(after))
			n++
		}
	}
	if n > 0 {
		s.deps.Logger.Info("automatic completions resumed after a restart", "applications", n)
	}
}

// Lifecycle returns the lifecycle the service applies: for whoever offers actions (the console)
// to ask which an application's state allows.
func (s *Service) Lifecycle() *domain.Lifecycle { return s.lc }

// Config returns the settings in force (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// Close stops automatic completions and deliveries: attempts in flight get until ctx is done.
func (s *Service) Close(ctx context.Context) error {
	s.queue.Close()
	return s.sender.Close(ctx)
}

// Settled returns once everything due at the clock's time has happened — automatic completions,
// and the delivery attempts they and earlier changes made due — or ctx is done: until the clock
// moves, nothing more happens. Tests and the control API wait on it instead of sleeping.
func (s *Service) Settled(ctx context.Context) error {
	if err := s.queue.Settled(ctx); err != nil {
		return err
	}
	return s.sender.Settled(ctx)
}

// Reset puts the mock back to its fixtures: no applications, token generations, webhooks,
// deliveries, automatic completions to come, journal entries or fault rules, and the clock back
// on real time. Kept: the signing key, and the numbers that keep reference ids, delivery ids and
// event ids from being given twice. The error is a failed write.
func (s *Service) Reset() error {
	s.queue.Reset()
	err := errors.Join(s.sender.Reset(), s.store.Reset())
	s.deps.Journal.Reset()
	s.deps.Faults.Reset()
	return errors.Join(err, s.moveClock(always(s.deps.Clock.Reset)))
}

// keyClock is the state record of the clock's course.
const keyClock = "clock"

// clockRecord is the clock's course: frozen at Now, or running Offset ahead of real time.
type clockRecord struct {
	Frozen bool          `json:"frozen"`
	Now    time.Time     `json:"now"`
	Offset time.Duration `json:"offset_ns"`
}

// restoreClock puts the clock on the course the data file kept, or keeps the one it has and
// writes it (a new data file).
func (s *Service) restoreClock() error {
	if s.deps.DB == nil {
		return nil
	}
	var r clockRecord
	if found, err := s.deps.DB.GetJSON(persist.State, keyClock, &r); err != nil {
		return err
	} else if !found {
		return s.moveClock(always(func() {}))
	}
	s.deps.Clock.Restore(clock.State{Now: r.Now, Frozen: r.Frozen, Offset: r.Offset})
	return nil
}

// moveClock changes the clock's course with move and writes the new course, in the order the
// moves were made, before it returns. A move refused (its error returned) changed nothing: nothing
// is written.
func (s *Service) moveClock(move func() error) error {
	s.clockMu.Lock()
	if err := move(); err != nil {
		s.clockMu.Unlock()
		return err
	}
	st := s.deps.Clock.State()
	r := clockRecord{Frozen: st.Frozen}
	if st.Frozen {
		r.Now = st.Now
	} else {
		r.Offset = st.Offset
	}
	pos := s.deps.DB.Append(persist.Put(persist.State, keyClock, r))
	s.clockMu.Unlock()
	if err := s.deps.DB.Wait(pos); err != nil {
		return fmt.Errorf("service: saving the clock: %w", err)
	}
	return nil
}
