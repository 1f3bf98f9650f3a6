// Package store is the repository of applications (and of the clients' token generations). It
// owns its lock; its methods take and return values, so no caller holds a pointer into its state.
// Every change is made under the lock: Create invites, Update runs a domain transition on one
// application. Statuses are read as the domain's Lifecycle sees them at the store's time (an
// unused invitation lapses). The events a change causes are stamped with a sequence number there and handed,
// in that order, to the one Publisher (the delivery machinery), together with the records that
// write the change to the data file, so a change and what it makes leave for the disk as one, in
// the order the changes were made. A change method returns once its records are durable.
//
// Reference ids are the store's to give: UUIDs drawn from a faker seeded with the mock's seed, in
// creation order. How many were drawn is written with each creation, so a restarted mock skips
// them and never gives one twice.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/brianvoe/gofakeit/v6"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/notify"
	"github.com/equalture/equalture-mock/internal/persist"
)

// Publisher gets the events of every change, in the order the changes were made, with the records
// that write the change through. It runs under the store's lock: it must be quick and must not
// call the store.
type Publisher interface {
	// Publish appends writes, then whatever the events make it write, to the data file as one
	// append, and returns its position.
	Publish(events []domain.Event, writes []persist.Write) uint64
}

// TokenGeneration is a client's token epoch: tokens carry the generation they were issued in, and
// only the current one is accepted. Reason says why older ones stopped working.
type TokenGeneration struct {
	Gen    int    `json:"generation"`
	Reason string `json:"reason,omitempty"`
}

// Deps are the store's collaborators.
type Deps struct {
	Clock clock.Clock
	// Lifecycle says what an application's status is at a time (an unused invitation lapses).
	Lifecycle *domain.Lifecycle
	// DB is the data file the store writes its changes to and reads back at Open (nil: memory).
	DB *persist.DB
	// Publisher gets the events (nil: the store appends its records itself, and events go nowhere).
	Publisher Publisher
	// Seed seeds the reference ids (0: random).
	Seed int64
}

// chunk is how many applications one block of the store holds: blocks do not move as the store
// grows, so it never holds twice the room it needs, as a doubling slice does.
const chunk = 1024

// Store holds the applications.
type Store struct {
	clock   clock.Clock
	lc      *domain.Lifecycle
	db      *persist.DB
	pub     Publisher
	changed notify.Broadcaster

	mu     sync.RWMutex
	blocks [][]domain.Application // in creation order
	index  map[string]int32       // reference id → place in blocks
	ids    *gofakeit.Faker
	drawn  uint64 // reference ids drawn, ever: kept across resets and restarts
	tokens map[string]TokenGeneration
	seq    uint64 // events stamped, ever: kept across resets and restarts
}

// Open returns the store, holding what deps.DB holds.
func Open(deps Deps) (*Store, error) {
	if deps.Clock == nil || deps.Lifecycle == nil {
		return nil, errors.New("store: no clock or no lifecycle")
	}
	s := &Store{clock: deps.Clock, lc: deps.Lifecycle, db: deps.DB, pub: deps.Publisher, index: make(map[string]int32), tokens: make(map[string]TokenGeneration), ids: gofakeit.New(deps.Seed)}
	if err := s.load(); err != nil {
		return nil, err
	}
	for range s.drawn {
		s.ids.UUID() // issued before: never again
	}
	return s, nil
}

// Changed wakes waiters (the control API's ?wait= queries) on every change.
func (s *Store) Changed() *notify.Broadcaster { return &s.changed }

func (s *Store) at(i int32) *domain.Application { return &s.blocks[i/chunk][i%chunk] }

func (s *Store) len() int32 {
	if len(s.blocks) == 0 {
		return 0
	}
	return int32((len(s.blocks)-1)*chunk + len(s.blocks[len(s.blocks)-1]))
}

func (s *Store) appendLocked(a domain.Application) {
	if n := len(s.blocks); n == 0 || len(s.blocks[n-1]) == chunk {
		s.blocks = append(s.blocks, make([]domain.Application, 0, chunk))
	}
	s.index[a.ReferenceID] = s.len()
	last := &s.blocks[len(s.blocks)-1]
	*last = append(*last, a)
}

// commitLocked stamps events, hands them and writes to the publisher (or appends writes), and
// returns the position to wait for.
func (s *Store) commitLocked(events []domain.Event, app domain.Application, writes []persist.Write) uint64 {
	for i := range events {
		s.seq++
		events[i].Seq, events[i].Application = s.seq, app
	}
	if len(events) > 0 { // the numbers go on after a restart: events are named by them
		writes = append(writes, persist.Put(persist.State, keyEventSeq, s.seq))
	}
	if s.pub != nil {
		return s.pub.Publish(events, writes)
	}
	return s.db.Append(writes...)
}

// finish waits for pos to be durable and wakes waiters.
func (s *Store) finish(pos uint64) error {
	s.changed.Notify()
	if err := s.db.Wait(pos); err != nil {
		return fmt.Errorf("store: saving the change: %w", err)
	}
	return nil
}

// Create stores a as a new invitation (domain.Invite) with the next reference id, at the store's
// time, its link valid for ttl. The error is a failed write (the application stays in memory).
func (s *Store) Create(a domain.Application, ttl time.Duration) (domain.Application, error) {
	s.mu.Lock()
	now := s.clock.Now()
	s.drawn++
	a.ReferenceID = s.ids.UUID()
	a, events := domain.Invite(a, now, ttl)
	s.appendLocked(a)
	pos := s.commitLocked(events, a, []persist.Write{
		persist.PutSealed(persist.Applications, a.ReferenceID, a),
		persist.Put(persist.ApplicationOrder, persist.Seq(s.drawn), a.ReferenceID),
		persist.Put(persist.State, keyIDsDrawn, s.drawn),
	})
	s.mu.Unlock()
	return a, s.finish(pos)
}

// Update changes clientID's application ref (any client's when clientID is "") under the store's
// lock: fn is a domain transition of it at the store's time. A change fn refuses (its error)
// changes nothing. The events fn returns are stamped and published; Update returns once the
// change is durable, with the application as it stands, seen now. Another client's application
// is NotFound, like an unknown one.
func (s *Store) Update(clientID, ref string, fn func(a *domain.Application, now time.Time) ([]domain.Event, error)) (domain.Application, error) {
	s.mu.Lock()
	i, err := s.findLocked(clientID, ref)
	if err != nil {
		s.mu.Unlock()
		return domain.Application{}, err
	}
	now := s.clock.Now()
	a := s.at(i)
	before := *a
	events, err := fn(a, now)
	if err != nil {
		*a = before
		s.mu.Unlock()
		return s.view(before, now), err
	}
	out := s.view(*a, now)
	pos := s.commitLocked(events, out, []persist.Write{record(before, *a)})
	s.mu.Unlock()
	return out, s.finish(pos)
}

// record is the write of application a, changed from before. An application's record holds its
// applicant's personal data and results, so it is sealed with a key of its own (persist.PutSealed);
// the change that anonymizes it writes it with a new key and destroys the old one
// (persist.Reseal), so that no copy of what it held before — bbolt keeps old copies in its free
// pages — can be read again.
func record(before, a domain.Application) persist.Write {
	if a.Status == domain.Anonymized && before.Status != domain.Anonymized {
		return persist.Reseal(persist.Applications, a.ReferenceID, a)
	}
	return persist.PutSealed(persist.Applications, a.ReferenceID, a)
}

func (s *Store) findLocked(clientID, ref string) (int32, error) {
	i, ok := s.index[ref]
	if !ok || (clientID != "" && s.at(i).ClientID != clientID) {
		return 0, apierr.New(apierr.NotFound, "Not Found")
	}
	return i, nil
}

// view is a with its status as seen at now.
func (s *Store) view(a domain.Application, now time.Time) domain.Application {
	a.Status = s.lc.StatusAt(a, now)
	return a
}

// Get returns clientID's application ref, seen now; another client's is NotFound, like an unknown
// one.
func (s *Store) Get(clientID, ref string) (domain.Application, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, err := s.findLocked(clientID, ref)
	if err != nil {
		return domain.Application{}, err
	}
	return s.view(*s.at(i), s.clock.Now()), nil
}

// Lookup returns application ref of any client, seen now.
func (s *Store) Lookup(ref string) (domain.Application, error) { return s.Get("", ref) }

// Filter selects applications; empty fields match everything.
type Filter struct {
	ClientID, ReferenceID string
	Status                domain.Status // as seen now
	InvitationType        string
	Email                 string // the applicant's, compared without case
	// Text matches the start of the reference id, or a part of the applicant's name or email, in
	// any case.
	Text string
}

func (f Filter) matches(a *domain.Application, lc *domain.Lifecycle, now time.Time) bool {
	return (f.ClientID == "" || a.ClientID == f.ClientID) && (f.ReferenceID == "" || a.ReferenceID == f.ReferenceID) &&
		(f.InvitationType == "" || a.InvitationType == f.InvitationType) &&
		(f.Email == "" || strings.EqualFold(a.Applicant.Email, f.Email)) &&
		(f.Status == "" || lc.StatusAt(*a, now) == f.Status) && (f.Text == "" || f.mentions(a))
}

// mentions says whether a's reference id starts with f.Text, or its applicant's name or email
// holds it, in any case (f.Text lower case already).
func (f Filter) mentions(a *domain.Application) bool {
	return strings.HasPrefix(a.ReferenceID, f.Text) || containsFold(a.Applicant.FirstName+" "+a.Applicant.LastName, f.Text) ||
		containsFold(a.Applicant.Email, f.Text)
}

func containsFold(s, lower string) bool { return strings.Contains(strings.ToLower(s), lower) }

// List returns the applications f selects, in creation order, seen now.
func (s *Store) List(f Filter) []domain.Application {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.clock.Now()
	f.Text = strings.ToLower(strings.TrimSpace(f.Text))
	if f.ReferenceID != "" {
		i, ok := s.index[f.ReferenceID]
		if !ok || !f.matches(s.at(i), s.lc, now) {
			return []domain.Application{}
		}
		return []domain.Application{s.view(*s.at(i), now)}
	}
	out := []domain.Application{}
	for _, b := range s.blocks {
		for i := range b {
			if f.matches(&b[i], s.lc, now) {
				out = append(out, s.view(b[i], now))
			}
		}
	}
	return out
}

// Page returns the applications f selects, newest first, from the offset-th on, at most limit of
// them, seen now, and how many f selects in all. Only the page is copied: a console showing 50 of
// 10,000 applications costs a walk over them, not 10,000 copies.
func (s *Store) Page(f Filter, offset, limit int) (page []domain.Application, total int) {
	f.Text = strings.ToLower(strings.TrimSpace(f.Text))
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.clock.Now()
	for i := s.len() - 1; i >= 0; i-- {
		a := s.at(i)
		if !f.matches(a, s.lc, now) {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, s.view(*a, now))
		}
		total++
	}
	return page, total
}

// Count returns how many applications are stored.
func (s *Store) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int(s.len())
}

// TokenGeneration returns clientID's current token generation.
func (s *Store) TokenGeneration(clientID string) TokenGeneration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tokens[clientID]
}

// InvalidateTokens makes every token issued so far to the clients invalid, for reason ("expired"
// or "revoked"). The error is a failed write.
func (s *Store) InvalidateTokens(reason string, clientIDs ...string) error {
	s.mu.Lock()
	var writes []persist.Write
	for _, id := range clientIDs {
		g := TokenGeneration{Gen: s.tokens[id].Gen + 1, Reason: reason}
		s.tokens[id] = g
		writes = append(writes, persist.Put(persist.TokenGenerations, id, g))
	}
	pos := s.commitLocked(nil, domain.Application{}, writes)
	s.mu.Unlock()
	return s.finish(pos)
}

// Reset forgets every application and token generation (not how many reference ids were drawn:
// none is given twice). The error is a failed write.
func (s *Store) Reset() error {
	s.mu.Lock()
	s.blocks, s.index, s.tokens = nil, make(map[string]int32), make(map[string]TokenGeneration)
	pos := s.commitLocked(nil, domain.Application{}, []persist.Write{
		persist.Clear(persist.Applications), persist.Clear(persist.ApplicationOrder), persist.Clear(persist.TokenGenerations),
	})
	s.mu.Unlock()
	return s.finish(pos)
}

// The state records of how many reference ids were drawn and events numbered.
const (
	keyIDsDrawn = "ids_drawn"
	keyEventSeq = "event_seq"
)

// load reads the applications (in creation order), the token generations and the ids drawn back
// from the data file.
func (s *Store) load() error {
	if s.db == nil {
		return nil
	}
	for key, n := range map[string]*uint64{keyIDsDrawn: &s.drawn, keyEventSeq: &s.seq} {
		if _, err := s.db.GetJSON(persist.State, key, n); err != nil {
			return err
		}
	}
	var refs []string
	err := s.db.Load(persist.ApplicationOrder, func(n int) { refs = make([]string, n) }, func(i int, _, v []byte) error {
		return json.Unmarshal(v, &refs[i])
	})
	if err != nil {
		return err
	}
	place := make(map[string]int32, len(refs))
	for _, ref := range refs {
		if _, dup := place[ref]; !dup {
			place[ref] = int32(len(place))
		}
	}
	n := int32(len(place))
	s.blocks = make([][]domain.Application, 0, (n+chunk-1)/chunk)
	for left := n; left > 0; left -= chunk {
		s.blocks = append(s.blocks, make([]domain.Application, min(left, chunk), chunk))
	}
	var mu sync.Mutex
	var unordered []domain.Application // a creation whose order record is missing (an older file)
	err = s.db.Load(persist.Applications, func(int) {}, func(_ int, k, v []byte) error {
		var a domain.Application
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		if a.ReferenceID != string(k) {
			return fmt.Errorf("it holds application %q", a.ReferenceID)
		}
		a = a.Interned()
		if i, ok := place[a.ReferenceID]; ok {
			*s.at(i) = a
			return nil
		}
		mu.Lock()
		unordered = append(unordered, a)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	s.index = make(map[string]int32, int(n)+len(unordered))
	for i := range n {
		a := s.at(i)
		if a.ReferenceID == "" { // ordered, but its record is gone: drop the place
			continue
		}
		s.index[a.ReferenceID] = i
	}
	if len(s.index) != int(n) { // holes: compact
		all := make([]domain.Application, 0, len(s.index))
		for i := range n {
			if a := s.at(i); a.ReferenceID != "" {
				all = append(all, *a)
			}
		}
		s.blocks, s.index = nil, make(map[string]int32, len(all))
		for _, a := range all {
			s.appendLocked(a)
		}
	}
	for _, a := range sortedByCreation(unordered) {
		s.appendLocked(a)
	}
	var ids []string
	var gens []TokenGeneration
	err = s.db.Load(persist.TokenGenerations, func(n int) { ids, gens = make([]string, n), make([]TokenGeneration, n) }, func(i int, k, v []byte) error {
		ids[i] = string(k)
		return json.Unmarshal(v, &gens[i])
	})
	for i, id := range ids {
		s.tokens[id] = gens[i]
	}
	return err
}

func sortedByCreation(apps []domain.Application) []domain.Application {
	slices.SortFunc(apps, func(a, b domain.Application) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return apps
}
