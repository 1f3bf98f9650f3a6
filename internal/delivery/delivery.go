// Package delivery sends what leaves the mock for a consumer, the way the real service does and
// more visibly: an application's results, PUT to its callback URL, and the vendor webhook events
// (assessment_started, assessment_finished), POSTed to every webhook of the application's client
// and signed Standard-Webhooks style with that webhook's secret. Both kinds are deliveries of one
// machinery: a bounded worker pool fed by a queue that never drops, retries on a
// Standard-Webhooks-like schedule timed on the mock's clock (a schedule.Queue), 410 handling,
// redelivery, and a log of every attempt. Deliveries of an anonymized application are cancelled
// and their payloads erased; those to a deleted webhook are cancelled.
//
// With a Persistence, every change of a delivery is written through before the dispatcher moves on
// (a planned attempt starts only once its plan is durable), and Resume picks up after a restart.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/egress"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/notify"
	"github.com/equalture/equalture-mock/internal/schedule"
	"github.com/equalture/equalture-mock/internal/store"
)

// Status is where a delivery stands.
type Status string

// Delivery statuses.
const (
	Pending    Status = "pending"    // waiting for its next attempt
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

// ReasonGone is a failed delivery's reason when the receiver answered 410 Gone: no more attempts
// follow. A delivery that ran out of attempts says "gave up after N attempts".
const ReasonGone = "gone"

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
// with every attempt.
type Delivery struct {
	ID          string `json:"id"`
	ReferenceID string `json:"reference_id"`
	ClientID    string `json:"client_id"`
	Kind        Kind   `json:"kind"`
	Method      string `json:"method"`
	// EventType, EventID and Webhook (its label) describe a webhook delivery; an event sent to
	// several webhooks has one id, its deliveries one each.
	EventType     string          `json:"event_type,omitempty"`
	EventID       string          `json:"event_id,omitempty"`
	Webhook       string          `json:"webhook,omitempty"`
	URL           string          `json:"url"`
	Status        Status          `json:"status"`
	Reason        string          `json:"reason,omitempty"`
	Attempts      []Attempt       `json:"attempts"`
	CreatedAt     time.Time       `json:"created_at"`
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	Payload       json.RawMessage `json:"payload"`

	series int    // attempts in the current series (redelivery starts a new one)
	seq    int    // the delivery's number: its place in the log and in its id
	secret string // signs a webhook delivery; never shown
}

func (d *Delivery) clone() Delivery {
	c := *d
	c.Attempts = append(make([]Attempt, 0, len(d.Attempts)), d.Attempts...) // [] before the first, not null
	if d.NextAttemptAt != nil {
		t := *d.NextAttemptAt
		c.NextAttemptAt = &t
	}
	return c
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
	// Seed makes jitter reproducible: one seed, application and attempt always get the same delay.
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

// Check reports a setting no dispatcher can work with (jitter outside [0, 1), a success set other
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

// Deps are the dispatcher's collaborators.
type Deps struct {
	Clock    clock.Clock
	Store    *store.Store
	Fixtures *fixtures.Set
	// Payload renders an application's results as the callback sends them.
	Payload func(store.Application) any
	// Client sends the PUTs (a transport with sane pools, dialling through Egress, when nil).
	Client *http.Client
	// Egress, when set, is where deliveries may connect: the default Client dials through it, and
	// attempt errors show only what it lets them show.
	Egress *egress.Policy
	// UserAgent identifies the mock to receivers.
	UserAgent string
	Logger    *slog.Logger
	// Persistence, when set, receives every change of a delivery; Restored is what it gave back
	// at start-up (Resume starts the deliveries a restart interrupted).
	Persistence Persistence
	Restored    Restored
	// Attempted, when set, is told of every attempt as it is recorded: what it carried (the
	// results, or an event of type event) and what the receiver made of it (its status, or the
	// error that kept it from answering; ErrTimeout when it ran out of time). Coverage counts it.
	Attempted func(kind Kind, event string, status int, err error)
}

// ErrTimeout is why an attempt failed when the receiver did not answer within the timeout.
var ErrTimeout = errors.New("timeout")

// Dispatcher delivers results callbacks.
type Dispatcher struct {
	cfg     Config
	deps    Deps
	changed notify.Broadcaster
	queue   *schedule.Queue // future attempts, on the clock
	ctx     context.Context // cancelled by Close when its wait runs out
	cancel  context.CancelFunc

	mu    sync.Mutex
	work  *sync.Cond // signalled when ready gains items or the dispatcher closes
	all   map[string]*Delivery
	order []string
	ready []string // deliveries whose attempt is due, FIFO
	// inflight holds the lanes with an attempt in flight; parked, the due deliveries waiting for
	// it: the events of one application reach one webhook in the order they happened.
	inflight map[string]bool
	parked   map[string][]string
	busy     int // attempts in flight, and plans being written before they are armed
	closing  bool
	nextID   int
	rev      uint64 // counts writes through to persistence; orders them

	workers sync.WaitGroup
}

// New builds a dispatcher, subscribes it to the store's completions and starts its workers.
// Close stops them.
func New(cfg Config, deps Deps) (*Dispatcher, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if deps.Clock == nil || deps.Store == nil || deps.Fixtures == nil || deps.Payload == nil {
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
	d := &Dispatcher{
		cfg: cfg, deps: deps, ctx: ctx, cancel: cancel,
		queue:    schedule.New(deps.Clock),
		all:      make(map[string]*Delivery),
		inflight: make(map[string]bool), parked: make(map[string][]string),
	}
	d.work = sync.NewCond(&d.mu)
	for _, s := range deps.Restored.Deliveries {
		dl := s.Delivery.clone()
		dl.series, dl.seq, dl.secret = s.Series, s.Seq, s.Secret
		if dl.Kind == "" { // written before deliveries had kinds
			dl.Kind, dl.Method = KindResults, http.MethodPut
		}
		d.all[dl.ID] = &dl
		d.order = append(d.order, dl.ID)
		d.nextID = max(d.nextID, s.Seq)
	}
	d.nextID = max(d.nextID, deps.Restored.LastSeq)
	d.rev = deps.Restored.Rev
	deps.Store.Subscribe(d.onEvent)
	for i := 0; i < cfg.Workers; i++ {
		d.workers.Add(1)
		go d.worker()
	}
	return d, nil
}

// Changed wakes waiters on every change of any delivery.
func (d *Dispatcher) Changed() *notify.Broadcaster { return &d.changed }

// onEvent turns the store's transitions into deliveries: a start into assessment_started, a
// completion into assessment_finished (after assessment_started when the application completed
// without being opened: it started then too) and the results callback. It only takes the
// dispatcher's lock: the store's caller (an HTTP handler) never waits for a receiver.
func (d *Dispatcher) onEvent(e store.Event) {
	switch e.Type {
	case store.EventStarted:
		d.raise(e.Application, EventStarted, e.At)
	case store.EventCompleted:
		if e.From == store.Invited {
			d.raise(e.Application, EventStarted, e.At)
		}
		d.raise(e.Application, EventFinished, e.At)
		d.enqueue(e.Application, e.At)
	}
}

// enqueue starts the results delivery of app.
func (d *Dispatcher) enqueue(app store.Application, now time.Time) {
	body, err := json.Marshal(d.deps.Payload(app))
	if err != nil {
		d.deps.Logger.Error("render callback payload", "reference_id", app.ReferenceID, "err", err)
		return
	}
	d.mu.Lock()
	if d.closing {
		d.mu.Unlock()
		d.deps.Logger.Warn("callback not sent: shutting down", "reference_id", app.ReferenceID)
		return
	}
	if d.anonymized(app.ReferenceID) { // since it completed: Cancel ran before this was made
		d.mu.Unlock()
		return
	}
	dl := d.newLocked(app, KindResults, now, body)
	dl.Method, dl.URL = http.MethodPut, app.CallbackURL
	d.planLocked(dl, now)
	d.busy++
	w := d.writeLocked(dl)
	d.mu.Unlock()
	if err := d.saveAndArm(w, now, dl); err != nil {
		d.deps.Logger.Error("callback not saved", "delivery", dl.ID, "reference_id", app.ReferenceID, "err", err)
	}
}

// newLocked adds a pending delivery of kind for app to the log, with the next number.
func (d *Dispatcher) newLocked(app store.Application, kind Kind, now time.Time, payload []byte) *Delivery {
	d.nextID++
	dl := &Delivery{
		ID:          fmt.Sprintf("dlv_%06d_%s", d.nextID, app.ReferenceID[:min(8, len(app.ReferenceID))]),
		ReferenceID: app.ReferenceID,
		ClientID:    app.ClientID,
		Kind:        kind,
		Status:      Pending,
		Attempts:    []Attempt{},
		CreatedAt:   now,
		Payload:     payload,
		seq:         d.nextID,
	}
	d.all[dl.ID] = dl
	d.order = append(d.order, dl.ID)
	return dl
}

// planLocked plans dl's next attempt of its series, or marks it failed when the series is spent.
// armLocked hands the attempt on, once the plan is saved.
func (d *Dispatcher) planLocked(dl *Delivery, now time.Time) {
	if dl.series >= d.cfg.MaxAttempts {
		dl.Status, dl.NextAttemptAt = Failed, nil
		dl.Reason = fmt.Sprintf("gave up after %d attempts", dl.series)
		return
	}
	delay := d.cfg.Schedule[min(dl.series, len(d.cfg.Schedule)-1)]
	delay = time.Duration(float64(delay) * d.cfg.TimeScale)
	if d.cfg.Jitter > 0 && delay > 0 {
		delay += time.Duration(d.spread(dl.jitterKey(), len(dl.Attempts)) * d.cfg.Jitter * float64(delay))
	}
	at := now.Add(delay)
	dl.Status, dl.NextAttemptAt = Pending, &at
}

// armLocked hands dl's planned attempt to the workers when it is due at now, else to the queue.
func (d *Dispatcher) armLocked(dl *Delivery, now time.Time) {
	if !dl.NextAttemptAt.After(now) {
		d.readyLocked(dl.ID)
		return
	}
	id, series := dl.ID, dl.series
	d.queue.At(*dl.NextAttemptAt, func() { d.due(id, series) })
}

// due hands delivery id's attempt to the workers, unless it moved on since it was planned
// (delivered by a redelivery, reset, cancelled).
func (d *Dispatcher) due(id string, series int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if dl := d.all[id]; dl != nil && dl.Status == Pending && dl.series == series && !d.closing {
		d.readyLocked(id)
	}
}

// spread returns a number in [-1, 1) that depends only on the seed, the application and the
// attempt, so a seeded run retries at the same times however its deliveries interleave.
func (d *Dispatcher) spread(ref string, attempt int) float64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, ref)
	r := rand.New(rand.NewPCG(d.cfg.Seed, h.Sum64()+uint64(attempt)))
	return r.Float64()*2 - 1
}

func (d *Dispatcher) readyLocked(id string) {
	d.ready = append(d.ready, id)
	d.work.Signal()
}

// Settled returns once every attempt due at the clock's time has been made and recorded, or ctx
// is done: until the clock moves, nothing more happens. Tests wait on it instead of sleeping.
func (d *Dispatcher) Settled(ctx context.Context) error {
	for {
		changed := d.changed.Changed()
		if err := d.queue.Settled(ctx); err != nil {
			return err
		}
		d.mu.Lock()
		idle := len(d.ready) == 0 && d.busy == 0 || d.closing
		d.mu.Unlock()
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

// Close stops taking work and waits, at most until ctx is done, for attempts in flight; then it
// cancels them. Deliveries still pending are logged, not lost silently.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closing {
		d.mu.Unlock()
		return nil
	}
	d.closing = true
	d.work.Broadcast()
	d.mu.Unlock()

	done := make(chan struct{})
	go func() {
		d.workers.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("delivery: attempts still in flight at shutdown: %w", ctx.Err())
	}
	d.cancel() // cuts attempts still in flight
	<-done
	d.queue.Close()
	d.deps.Client.CloseIdleConnections() // their read and write loops would outlive the dispatcher
	for _, dl := range d.List(Filter{Status: Pending}) {
		d.deps.Logger.Warn("callback pending at shutdown", "delivery", dl.ID, "reference_id", dl.ReferenceID, "url", dl.URL, "attempts", len(dl.Attempts))
	}
	return err
}
