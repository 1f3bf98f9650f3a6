// Package delivery is what leaves the mock for a consumer, the way the real service sends it and
// more visibly: an application's results, PUT to its callback URL, and the vendor's webhook events
// (assessment_started, assessment_finished), POSTed to every webhook of the application's client
// and signed Standard-Webhooks style with that webhook's secret. Both kinds are deliveries of one
// machinery, the Sender: a bounded worker pool fed by a queue that never drops, retries on a
// Standard-Webhooks-like schedule timed on the mock's clock, 410 handling, redelivery, a log of
// every attempt, and the clients' webhooks it sends to.
//
// The Sender is the store's one publisher: it gets the events of every change under the store's
// lock, in the order the changes were made, and makes their deliveries then, in that order, in
// the same write to the data file as the change. What each event makes is decided here, the
// transport's rule: assessment_started and assessment_finished go to every webhook of the client;
// assessment_finished also makes the results PUT; an anonymization cancels what is pending of the
// application and erases what was kept of it.
//
// Order: the deliveries of one application to one webhook form a lane that goes one at a time, in
// the order they were made: a delivery's first attempt waits until the one before it has been
// delivered, has failed for good or was cancelled. The results PUT of a completion is made after
// its assessment_finished deliveries and its first attempt waits until each of them has had its
// first attempt (whatever the answer), or cannot have one now because the event before it waits
// for a retry: a receiver that answers sees assessment_finished before the results, and a webhook
// that is down never holds the results back for more than one attempt.
//
// Durability: an attempt is never made before the write that planned it is on disk (OnCommit),
// so an event is never sent for a change the data file does not hold. Payloads are not kept: each
// attempt renders them from the application as it stands (the results, the event's data), so an
// anonymized application's payloads are gone with it.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/egress"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/notify"
	"github.com/equalture/equalture-mock/internal/persist"
)

// Status is where a delivery stands.
type Status string

// Delivery statuses.
const (
	Pending    Status = "pending"    // waiting for its next attempt (or for its turn)
	Delivering Status = "delivering" // an attempt is in flight
	Delivered  Status = "delivered"
	Failed     Status = "failed"    // attempts exhausted, or the receiver answered 410
	Cancelled  Status = "cancelled" // the application was anonymized, or the webhook deleted
)

// Kind says what a delivery carries.
type Kind string

// Delivery kinds.
const (
	KindResults Kind = "results" // an application's results, PUT to its callback_url
	KindWebhook Kind = "webhook" // an event, POSTed to a webhook of the application's client
)

// Reasons a delivery stopped without being delivered.
const (
	ReasonGone           = "gone" // the receiver answered 410 Gone: no more attempts follow
	ReasonAnonymized     = "anonymized"
	ReasonWebhookDeleted = "webhook deleted"
)

// Headers every delivery carries besides Content-Type and User-Agent.
const (
	HeaderID      = "X-Equalture-Delivery-Id"
	HeaderAttempt = "X-Equalture-Delivery-Attempt"
)

// Attempt is one try at delivering.
type Attempt struct {
	N          int       `json:"n"`
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	LatencyMS  float64   `json:"latency_ms"`
}

// Delivery is a results PUT to one application's callback URL, or one event POSTed to one webhook,
// with every attempt, as the log shows it.
type Delivery struct {
	ID          string `json:"id"`
	ReferenceID string `json:"reference_id"`
	ClientID    string `json:"client_id"`
	Kind        Kind   `json:"kind"`
	Method      string `json:"method"`
	// EventType, EventID and Webhook (its label) describe a webhook delivery; an event sent to
	// several webhooks has one id, its deliveries one each.
	EventType     string     `json:"event_type,omitempty"`
	EventID       string     `json:"event_id,omitempty"`
	Webhook       string     `json:"webhook,omitempty"`
	URL           string     `json:"url"`
	Status        Status     `json:"status"`
	Reason        string     `json:"reason,omitempty"`
	Attempts      []Attempt  `json:"attempts"`
	CreatedAt     time.Time  `json:"created_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	// Payload is what the delivery carries, rendered from its application now ({} once the
	// application is anonymized).
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Config tunes deliveries.
type Config struct {
	// Workers bounds concurrent attempts (4).
	Workers int
	// Timeout bounds one attempt, real time (15s).
	Timeout time.Duration
	// Schedule is the delay before each attempt of a series (DefaultSchedule).
	Schedule []time.Duration
	// MaxAttempts per series (len(Schedule)); later attempts reuse the last delay.
	MaxAttempts int
	// TimeScale multiplies every delay (1; 0.001 runs a whole schedule in seconds).
	TimeScale float64
	// Jitter spreads each delay by ±Jitter of itself (0.1).
	Jitter float64
	// Success is "200" (the seed's words) or "2xx".
	Success string
	// Seed makes jitter and event ids reproducible.
	Seed uint64
}

// DefaultSchedule follows Standard Webhooks: immediately, 5s, 5m, 30m, 2h, 5h, 10h, 10h.
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Defaults.
const (
	DefaultWorkers = 4
	DefaultTimeout = 15 * time.Second
	DefaultJitter  = 0.1
)

// Check reports a setting no sender can work with (jitter outside [0, 1), a success set other
// than 200 or 2xx); zero values are fine, they take the defaults.
func (c Config) Check() error {
	if c.Jitter < 0 || c.Jitter >= 1 {
		return fmt.Errorf("jitter %v must be in [0, 1)", c.Jitter)
	}
	switch c.Success {
	case "", "200", "2xx":
		return nil
	default:
		return fmt.Errorf("success %q must be 200 or 2xx", c.Success)
	}
}

func (c *Config) setDefaults() error {
	if err := c.Check(); err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if len(c.Schedule) == 0 {
		c.Schedule = DefaultSchedule
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = len(c.Schedule)
	}
	if c.TimeScale <= 0 {
		c.TimeScale = 1
	}
	if c.Success == "" {
		c.Success = "200"
	}
	return nil
}

// Deps are the sender's collaborators.
type Deps struct {
	Clock    clock.Clock
	Fixtures *fixtures.Set // clients' callback tokens and webhook secrets (results)
	// Lookup returns the application a delivery is about, as it stands now.
	Lookup func(ref string) (domain.Application, error)
	// Results renders an application's results as its callback sends them.
	Results func(domain.Application) any
	// DB is the data file deliveries and webhooks are written to and read back from (nil: memory).
	DB *persist.DB
	// Client sends the requests (a transport with sane pools, dialling through Egress, when nil).
	Client *http.Client
	// Egress, when set, is where deliveries may connect: the default Client dials through it, and
	// attempt errors show only what it lets them show.
	Egress *egress.Policy
	// UserAgent identifies the mock to receivers.
	UserAgent string
	Logger    *slog.Logger
	// Attempted, when set, is told of every attempt as it is recorded: what it carried (the
	// results, or an event of type event) and what the receiver made of it (its status, or the
	// error that kept it from answering; ErrTimeout when it ran out of time). Coverage counts it.
	Attempted func(kind Kind, event string, status int, err error)
}

// ErrTimeout is why an attempt failed when the receiver did not answer within the timeout.
var ErrTimeout = errors.New("timeout")

// Sender makes the deliveries, keeps their log and the clients' webhooks, and sends them.
type Sender struct {
	cfg     Config
	deps    Deps
	db      *persist.DB
	changed notify.Broadcaster
	queue   *clock.Queue    // planned attempts, on the clock
	ctx     context.Context // cancelled by Close when its wait runs out
	cancel  context.CancelFunc

	mu      sync.Mutex
	work    *sync.Cond // signalled when ready gains items or the sender closes
	log     []*delivery
	first   int // number of log[0]
	lastSeq int // the highest delivery number ever given
	hooks   map[string]map[string]domain.Webhook
	lanes   map[lane][]*delivery          // unfinished webhook deliveries of one application to one webhook, in order
	gated   map[string]map[*delivery]bool // results deliveries waiting for their application's events, by reference id
	ready   []*delivery                   // due, in their turn: for the workers, FIFO
	arming  []arming                      // plans waiting for their write to be durable, in the order written
	busy    int                           // attempts in flight
	written uint64                        // the position of the last write appended
	stopped bool                          // the data file failed a write: nothing more becomes durable
	closing bool

	workers sync.WaitGroup
}

// delivery is a delivery as the sender keeps it: what the log shows but the payload (rendered
// when sent or shown), the id and the method (derived), plus what orders it.
type delivery struct {
	seq      int
	ref      string
	client   string
	kind     Kind
	event    domain.EventType
	eventID  string
	webhook  string
	url      string
	status   Status
	reason   string
	attempts []Attempt
	created  time.Time
	next     time.Time // zero: none planned
	series   int       // attempts in the current series (a redelivery starts a new one)
	after    []int     // results: the numbers of the assessment_finished deliveries it follows
	erased   bool      // the application was anonymized: nothing of it is shown or sent
	durable  bool      // its plan is on disk: its attempt may be made
}

// id is the delivery's id: its number and the start of its application's reference id.
func (d *delivery) id() string {
	return fmt.Sprintf("dlv_%06d_%s", d.seq, d.ref[:min(8, len(d.ref))])
}

func (d *delivery) unfinished() bool { return d.status == Pending || d.status == Delivering }

// New builds the sender, with the deliveries and webhooks deps.DB holds, and starts its workers;
// Resume starts what a restart interrupted. Close stops them.
func New(cfg Config, deps Deps) (*Sender, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if deps.Clock == nil || deps.Fixtures == nil || deps.Lookup == nil || deps.Results == nil {
		return nil, errors.New("delivery: missing dependency")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Client == nil {
		tr := &http.Transport{MaxIdleConnsPerHost: cfg.Workers, IdleConnTimeout: 90 * time.Second}
		if deps.Egress != nil {
			tr.DialContext = deps.Egress.DialContext
		}
		deps.Client = &http.Client{
			Transport: tr,
			// A receiver answers; redirects are answers too (and count as failed attempts).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if deps.UserAgent == "" {
		deps.UserAgent = "equalture-mock"
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sender{
		cfg: cfg, deps: deps, db: deps.DB, ctx: ctx, cancel: cancel,
		queue: clock.NewQueue(deps.Clock),
		first: 1, hooks: make(map[string]map[string]domain.Webhook),
		lanes: make(map[lane][]*delivery), gated: make(map[string]map[*delivery]bool),
	}
	s.work = sync.NewCond(&s.mu)
	if err := s.load(); err != nil {
		s.queue.Close()
		return nil, err
	}
	s.db.OnCommit(s.committed)
	for range cfg.Workers {
		s.workers.Add(1)
		go s.worker()
	}
	return s, nil
}

// Changed wakes waiters on every change of any delivery or webhook.
func (s *Sender) Changed() *notify.Broadcaster { return &s.changed }

// Settled returns once every attempt due at the clock's time has been made and recorded, or ctx
// is done: until the clock moves, nothing more happens. Tests wait on it instead of sleeping.
func (s *Sender) Settled(ctx context.Context) error {
	for {
		changed := s.changed.Changed()
		if err := s.queue.Settled(ctx); err != nil {
			return err
		}
		s.mu.Lock()
		idle := len(s.ready) == 0 && s.busy == 0 && len(s.arming) == 0 && (s.stopped || s.db.Durable() >= s.written) || s.closing
		s.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// appendLocked appends writes to the data file and notes their position: the sender has not
// settled before it is durable.
func (s *Sender) appendLocked(writes ...persist.Write) uint64 {
	pos := s.db.Append(writes...)
	s.written = max(s.written, pos)
	return pos
}

// Close stops taking work and waits, at most until ctx is done, for attempts in flight; then it
// cancels them. Deliveries still pending are logged, not lost silently.
func (s *Sender) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.work.Broadcast()
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.workers.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("delivery: attempts still in flight at shutdown: %w", ctx.Err())
	}
	s.cancel() // cuts attempts still in flight
	<-done
	s.queue.Close()
	s.deps.Client.CloseIdleConnections() // their read and write loops would outlive the sender
	// What is pending is named, not rendered: the log needs no payload.
	s.mu.Lock()
	var pending [][]any
	for _, d := range s.log {
		if d.status == Pending {
			pending = append(pending, []any{"delivery", d.id(), "reference_id", d.ref, "url", d.url, "attempts", len(d.attempts)})
		}
	}
	s.mu.Unlock()
	for _, attrs := range pending {
		s.deps.Logger.Warn("callback pending at shutdown", attrs...)
	}
	return err
}
