package delivery

import "net/http"

// worker makes the attempts that are due, one at a time; Config.Workers of them run.
func (d *Dispatcher) worker() {
	defer d.workers.Done()
	for {
		d.mu.Lock()
		for len(d.ready) == 0 && !d.closing {
			d.work.Wait()
		}
		if d.closing {
			d.mu.Unlock()
			return
		}
		id := d.ready[0]
		d.ready = d.ready[1:]
		dl := d.all[id]
		if dl == nil || dl.Status != Pending { // reset, or already taken
			d.mu.Unlock()
			continue
		}
		if lane := dl.lane(); lane != "" {
			if d.inflight[lane] { // an earlier event of the application is on its way to the webhook
				d.parked[lane] = append(d.parked[lane], id)
				d.mu.Unlock()
				continue
			}
			d.inflight[lane] = true
		}
		dl.Status, dl.NextAttemptAt = Delivering, nil
		dl.series++
		n := len(dl.Attempts) + 1
		snap := dl.clone()
		d.busy++
		d.mu.Unlock()
		d.changed.Notify()

		at := d.deps.Clock.Now()
		code, latency, err := d.send(snap, n, at)
		if d.deps.Attempted != nil { // before finish: once settled, every attempt is told
			d.deps.Attempted(snap.Kind, snap.EventType, code, err)
		}
		d.finish(id, Attempt{N: n, At: at, StatusCode: code, Error: errText(err), LatencyMS: float64(latency.Microseconds()) / 1000})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// finish records an attempt and decides what follows it; the next attempt, if any, is armed once
// the record is saved.
func (d *Dispatcher) finish(id string, a Attempt) {
	d.mu.Lock()
	dl := d.all[id]
	if dl == nil { // reset while in flight
		d.busy--
		d.mu.Unlock()
		d.changed.Notify()
		return
	}
	dl.Attempts = append(dl.Attempts, a)
	if lane := dl.lane(); lane != "" && d.inflight[lane] {
		delete(d.inflight, lane)
		if waiting := d.parked[lane]; len(waiting) > 0 { // next in line, before anything due later
			delete(d.parked, lane)
			d.ready = append(waiting, d.ready...)
			d.work.Broadcast()
		}
	}
	now := d.deps.Clock.Now()
	switch {
	case dl.Status == Cancelled: // anonymized while in flight: it stays cancelled
	case a.Error == "" && d.success(a.StatusCode):
		dl.Status, dl.Reason = Delivered, ""
	case a.StatusCode == http.StatusGone:
		dl.Status, dl.Reason = Failed, ReasonGone
	default:
		d.planLocked(dl, now)
	}
	outcome := dl.Status // read under the lock: once it is released, another worker may move dl on
	w := d.writeLocked(dl)
	d.mu.Unlock()
	err := d.saveAndArm(w, now, dl)
	d.deps.Logger.Info("callback attempt", "delivery", id, "attempt", a.N, "status", a.StatusCode, "error", a.Error, "outcome", string(outcome))
	if err != nil {
		d.deps.Logger.Error("callback attempt not saved", "delivery", id, "attempt", a.N, "err", err)
	}
}

func (d *Dispatcher) success(code int) bool {
	if d.cfg.Success == "2xx" {
		return code >= 200 && code < 300
	}
	return code == http.StatusOK
}
