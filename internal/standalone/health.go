package standalone

import (
	"time"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/status"
)

// liveAcker is a DataPlane whose answer changes after Apply: sockets opened
// by a background retry, sockets that stop or start accepting.
type liveAcker interface {
	Ack() ir.Ack
}

// readiness is a DataPlane that can be unready after the first Apply.
type readiness interface {
	ReadinessProblems() []string
}

// ListenerChanged tells the runner that the data plane's answer changed
// outside Apply (proxy.Options.OnListenerChange): status is projected again
// from the last computed configuration, without reloading files (which may
// be what is failing: out of file descriptors). It never blocks.
func (r *Runner) ListenerChanged() {
	r.box.PostNow(work{refresh: true})
}

// liveAck returns the data plane's current answer to the version ack
// answered, or ack itself. r.mu is held, so no Apply runs meanwhile.
func (r *Runner) liveAck(ack *ir.Ack) *ir.Ack {
	la, ok := r.proxy.(liveAcker)
	if !ok || ack == nil || ack.Error != "" {
		return ack
	}
	if a := la.Ack(); a.Version == ack.Version {
		return &a
	}
	return ack
}

// refresh projects status again with the data plane's current answer.
func (r *Runner) refresh() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil || r.ack == nil {
		return
	}
	r.ack = r.liveAck(r.ack)
	before := conditionStates(r.objects)
	r.objects = r.last.Status(status.Standalone{Answer: r.ack}, r.objects, time.Now())
	logTransitions(r.log, transitions(before, conditionStates(r.objects)))
	if r.opts.StatusFile != "" {
		r.writeStatusFile()
	}
}

// ReadinessProblems lists why the gateway should not get traffic although
// a configuration is applied (a listening socket failing to accept), for
// the admin API's /readyz; nil when there is none.
func (r *Runner) ReadinessProblems() []string {
	if rp, ok := r.proxy.(readiness); ok {
		return rp.ReadinessProblems()
	}
	return nil
}
