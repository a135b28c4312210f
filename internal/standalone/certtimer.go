package standalone

import "time"

// maxTimer caps the wait for a certificate's expiry: a long sleep would
// miss a clock step (suspend, NTP), so the check is also done daily.
const maxTimer = 24 * time.Hour

// scheduleCertCheck makes the loop reconcile at the next time a served
// certificate expires or becomes valid, so that the listener status and the
// log say it when it happens and not at the next file change. Called with
// r.mu held.
func (r *Runner) scheduleCertCheck(at time.Time) {
	if r.certTimer != nil {
		r.certTimer.Stop()
		r.certTimer = nil
	}
	if at.IsZero() {
		return
	}
	wait := min(time.Until(at), maxTimer)
	r.certTimer = time.AfterFunc(max(wait, 0), r.markDirty)
}

// markDirty asks the loop for one reconcile (coalesced with any pending).
func (r *Runner) markDirty() {
	select {
	case r.dirty <- struct{}{}:
	default: // a reconcile is already pending
	}
}
