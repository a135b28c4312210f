package readiness

import (
	"sync/atomic"
	"time"
)

// Hooks are what a Waiter does, besides waking Wait, when its socket's
// peer goes away or a deadline set with Arm passes. They run on the
// package's own goroutines (the poller, the reaper): they must be quick
// and never block.
type Hooks struct {
	// OnHangup runs once, when the peer closes or resets the connection
	// (EPOLLRDHUP, EPOLLHUP, EPOLLERR); a half-close counts.
	OnHangup func()
	// OnExpire runs once per Arm whose deadline passed before Disarm.
	OnExpire func()
}

// coarse is the reaper's clock (Unix ns at its last tick, 0 before the
// first): Arm reads it instead of the time, so arming costs no clock read.
var coarse atomic.Int64

func coarseNow() int64 {
	if n := coarse.Load(); n != 0 {
		return n
	}
	return time.Now().UnixNano()
}

// Arm starts a deadline d from now, which the reaper enforces (up to
// reapEvery early or late) by calling Hooks.OnExpire. It costs no timer
// and no system call; a nil Waiter ignores it (the caller then needs a
// deadline of its own: Armed says so).
func (w *Waiter) Arm(d time.Duration) {
	if w != nil {
		w.armed.Store(coarseNow() + int64(d))
	}
}

// Disarm stops the deadline Arm started and reports whether it was still
// running; false means it expired (OnExpire ran or is running).
func (w *Waiter) Disarm() bool {
	return w == nil || w.armed.Swap(0) != 0
}

// Armed reports whether Arm deadlines are enforced for w (w is not nil).
func (w *Waiter) Armed() bool { return w != nil }

// check runs w's hooks for the reaper's tick at now.
func (w *Waiter) check(now int64) {
	if d := w.armed.Load(); d != 0 && now >= d && w.armed.CompareAndSwap(d, 0) && w.hooks.OnExpire != nil {
		w.hooks.OnExpire()
	}
}

// hangup runs OnHangup the first time the peer's end is seen.
func (w *Waiter) hangup() {
	if !w.ended.Swap(true) && w.hooks.OnHangup != nil {
		w.hooks.OnHangup()
	}
}
