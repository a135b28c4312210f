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
	// At once, not after the file debounce: the time is the event.
	r.certTimer = time.AfterFunc(max(wait, 0), func() { r.box.PostNow(work{reload: true}) })
}
