package delivery

import (
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"slices"
	"time"
)

// When an attempt is made. A delivery's next attempt is planned (nextLocked) and written; once the
// write is durable (committed) it is scheduled: made ready when it is due, its turn has come
// and, for a results delivery, its application's assessment_finished has had its first attempt.

// arming is a plan waiting for the write at pos to be durable.
type arming struct {
	pos    uint64
	d      *delivery
	series int
}

// lane is what orders webhook deliveries: the events of one application to one webhook go one
// at a time, in the order they were made.
type lane struct{ client, webhook, ref string }

func (d *delivery) lane() lane { return lane{d.client, d.webhook, d.ref} }

// nextLocked plans d's next attempt of its series at its delay from now, or fails d when the
// series is spent.
func (s *Sender) nextLocked(d *delivery, now time.Time) {
	if d.series >= s.cfg.MaxAttempts {
		s.stopLocked(d, Failed, fmt.Sprintf("gave up after %d attempts", d.series))
		return
	}
	delay := s.cfg.Schedule[min(d.series, len(s.cfg.Schedule)-1)]
	delay = time.Duration(float64(delay) * s.cfg.TimeScale)
	if s.cfg.Jitter > 0 && delay > 0 {
		delay += time.Duration(s.spread(d.jitterKey(), len(d.attempts)) * s.cfg.Jitter * float64(delay))
	}
	d.status, d.next, d.durable = Pending, now.Add(delay), false
}

// planLocked schedules the attempts planned for ds once the write at pos is durable: an attempt
// is never made before the change that planned it is on disk.
func (s *Sender) planLocked(pos uint64, ds ...*delivery) {
	durable := s.db.Durable()
	for _, d := range ds {
		if d.status != Pending || s.stopped { // a stopped file makes nothing durable again
			continue
		}
		if pos <= durable {
			d.durable = true
			s.scheduleLocked(d)
			continue
		}
		s.arming = append(s.arming, arming{pos: pos, d: d, series: d.series})
	}
}

// committed schedules the plans the data file has made durable (persist.DB.OnCommit). A file
// that stopped makes none durable again: their attempts are not made.
func (s *Sender) committed(durable uint64, err error) {
	s.mu.Lock()
	if err != nil {
		if len(s.arming) > 0 {
			s.deps.Logger.Error("deliveries not saved: no attempt is made", "deliveries", len(s.arming), "err", err)
		}
		s.arming, s.stopped = nil, true
	}
	n := 0
	for _, a := range s.arming {
		if a.pos > durable {
			break
		}
		n++
		if a.d.status == Pending && a.d.series == a.series {
			a.d.durable = true
			s.scheduleLocked(a.d)
		}
	}
	s.arming = s.arming[n:]
	s.mu.Unlock()
	s.changed.Notify()
}

// scheduleLocked hands d's planned attempt to the workers when it may be made now, else to the
// clock for its time; one not in its turn, or gated, waits to be scheduled again.
func (s *Sender) scheduleLocked(d *delivery) {
	if d.status != Pending || !d.durable || s.closing {
		return
	}
	if q := s.lanes[d.lane()]; d.kind == KindWebhook && (len(q) == 0 || q[0] != d) {
		return // not its turn: it is scheduled when the one before it finishes (stopLocked)
	}
	if d.kind == KindResults && s.gatedLocked(d) {
		g := s.gated[d.ref]
		if g == nil {
			g = make(map[*delivery]bool)
			s.gated[d.ref] = g
		}
		g[d] = true
		return
	}
	if now := s.deps.Clock.Now(); d.next.After(now) {
		series, n := d.series, len(d.attempts)
		s.queue.At(d.next, func() { s.due(d, series, n) })
		return
	}
	s.ready = append(s.ready, d)
	s.work.Signal()
}

// due schedules d's planned attempt now that its time has come, unless it moved on since it was
// planned (delivered by a redelivery, reset, cancelled, retried).
func (s *Sender) due(d *delivery, series, attempts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.series == series && len(d.attempts) == attempts && s.logged(d) {
		s.scheduleLocked(d)
	}
}

// logged says d is still in the log (not reset away).
func (s *Sender) logged(d *delivery) bool {
	i := d.seq - s.first
	return i >= 0 && i < len(s.log) && s.log[i] == d
}

// gatedLocked says results delivery d must still wait for one of the assessment_finished
// deliveries it follows: one not yet attempted that is in flight or next in its lane (not held
// up by an earlier event waiting for a retry).
func (s *Sender) gatedLocked(d *delivery) bool {
	for _, seq := range d.after {
		f := s.bySeq(seq)
		if f == nil || !f.unfinished() || len(f.attempts) > 0 {
			continue
		}
		head := s.lanes[f.lane()]
		if len(head) == 0 {
			continue
		}
		if h := head[0]; h == f || h.status == Delivering || len(h.attempts) == 0 {
			return true
		}
	}
	return false
}

// ungateLocked schedules application ref's results deliveries that no longer wait.
func (s *Sender) ungateLocked(ref string) {
	for d := range s.gated[ref] {
		if !s.gatedLocked(d) {
			delete(s.gated[ref], d)
			s.scheduleLocked(d)
		}
	}
	if len(s.gated[ref]) == 0 {
		delete(s.gated, ref)
	}
}

// stopLocked ends d as status for reason: it leaves its lane, and what waited for it is
// scheduled.
func (s *Sender) stopLocked(d *delivery, status Status, reason string) {
	d.status, d.reason, d.next = status, reason, time.Time{}
	if d.kind == KindWebhook {
		s.leaveLaneLocked(d)
	}
	if g := s.gated[d.ref]; g != nil && d.kind == KindResults {
		delete(g, d)
	}
	s.ungateLocked(d.ref)
}

func (s *Sender) leaveLaneLocked(d *delivery) {
	l := d.lane()
	q := s.lanes[l]
	i := slices.Index(q, d)
	if i < 0 {
		return
	}
	q = slices.Delete(q, i, i+1)
	if len(q) == 0 {
		delete(s.lanes, l)
		return
	}
	s.lanes[l] = q
	if i == 0 {
		s.scheduleLocked(q[0]) // its turn now
	}
}

// bySeq returns delivery number seq (nil when reset away).
func (s *Sender) bySeq(seq int) *delivery {
	if i := seq - s.first; i >= 0 && i < len(s.log) {
		return s.log[i]
	}
	return nil
}

// spread returns a number in [-1, 1) that depends only on the seed, the delivery's key and the
// attempt, so a seeded run retries at the same times however its deliveries interleave.
func (s *Sender) spread(key string, attempt int) float64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, key)
	r := rand.New(rand.NewPCG(s.cfg.Seed, h.Sum64()+uint64(attempt)))
	return r.Float64()*2 - 1
}

// jitterKey is what a delivery's jitter is drawn for, with the seed and the attempt.
func (d *delivery) jitterKey() string {
	if d.kind != KindWebhook {
		return d.ref
	}
	return d.ref + " " + string(d.event) + " " + d.webhook
}
