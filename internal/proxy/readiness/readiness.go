package readiness

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

var (
	// ErrTimeout: the deadline passed before data arrived.
	ErrTimeout = errors.New("readiness: deadline exceeded")
	// ErrInterrupted: Interrupt was called (the connection is being closed).
	ErrInterrupted = errors.New("readiness: interrupted")
)

// Waiter states: what the poller found since the last Wait returned.
const (
	idle    int32 = iota // nothing yet, nobody waiting
	waiting              // a goroutine is blocked in Wait
	ready                // data arrived while nobody waited
)

// Waiter is one socket's readiness. Wait is for one goroutine at a time;
// Interrupt and Close may be called from any.
type Waiter struct {
	p     *poller
	fd    int32
	state atomic.Int32
	ended atomic.Bool   // the peer closed or reset: reads never block again
	wake  chan struct{} // the poller's token for a waiting Wait (capacity 1)
	done  chan struct{} // closed by Interrupt, which sets stop first
	stop  atomic.Bool
	once  sync.Once
	timer *time.Timer // Wait's deadline, reused

	// WaitIdle's deadline (Unix ns, 0: none), which the reaper checks;
	// expired tells WaitIdle that the reaper's token is a timeout.
	idleUntil atomic.Int64
	expired   atomic.Bool

	hooks Hooks        // set before registration
	armed atomic.Int64 // Arm's deadline (Unix ns, 0: none)
}

func newWaiter(p *poller, fd int32, h Hooks) *Waiter {
	w := &Waiter{p: p, fd: fd, wake: make(chan struct{}, 1), done: make(chan struct{}), hooks: h}
	// Data may have arrived before registration: the first Wait returns
	// at once and the read finds out.
	w.state.Store(ready)
	return w
}

// notify is the poller's side: data arrived on the socket, or its end
// (FIN, RST, error), after which every Wait returns at once: a short read
// before the end does not drain it (the next read returns EOF without a
// new arrival to announce it).
func (w *Waiter) notify(end bool) {
	if end {
		w.hangup()
	}
	for {
		switch w.state.Load() {
		case waiting:
			if w.state.CompareAndSwap(waiting, idle) {
				w.wake <- struct{}{} // never blocks: one token at most
				return
			}
		case idle:
			if w.state.CompareAndSwap(idle, ready) {
				return
			}
		default:
			return
		}
	}
}

// Wait returns nil when data may have arrived since the previous Wait
// returned, ErrTimeout at deadline (zero: none), ErrInterrupted once
// Interrupt was called. A nil Waiter returns nil at once.
func (w *Waiter) Wait(deadline time.Time) error {
	if done, err := w.begin(); done {
		return err
	}
	var expired <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if w.timer == nil {
			w.timer = time.NewTimer(d)
		} else {
			w.timer.Reset(d)
		}
		expired = w.timer.C
	}
	select {
	case <-w.wake:
		return nil
	case <-expired:
		if w.state.CompareAndSwap(waiting, idle) {
			return ErrTimeout
		}
		<-w.wake // the poller won the race: its token is on the way
		return nil
	case <-w.done:
		return ErrInterrupted
	}
}

// WaitIdle is Wait for long waits such as a keep-alive connection's wait
// for its next request: no timer per call; the deadline is enforced by a
// sweep every reapEvery, so ErrTimeout comes up to that much late.
func (w *Waiter) WaitIdle(deadline time.Time) error {
	if done, err := w.begin(); done {
		return err
	}
	if !deadline.IsZero() { // zero: none (its UnixNano is not 0)
		w.idleUntil.Store(deadline.UnixNano())
	}
	defer w.idleUntil.Store(0)
	select {
	case <-w.wake:
		if w.expired.Swap(false) {
			return ErrTimeout
		}
		return nil
	case <-w.done:
		return ErrInterrupted
	}
}

// begin is the start of both waits: it returns done with the result when
// there is no need to block, and otherwise leaves w waiting.
func (w *Waiter) begin() (done bool, err error) {
	if w == nil || w.ended.Load() {
		return true, nil
	}
	if w.stop.Load() {
		return true, ErrInterrupted
	}
	if w.state.CompareAndSwap(ready, idle) {
		return true, nil
	}
	if !w.state.CompareAndSwap(idle, waiting) {
		w.state.Store(idle) // it became ready; only we leave that state
		return true, nil
	}
	return false, nil
}

// reapEvery is how often WaitIdle deadlines are checked.
const reapEvery = 250 * time.Millisecond

// expire wakes w's WaitIdle with ErrTimeout if its deadline passed
// (the reaper's side).
func (w *Waiter) expire(now int64) {
	if d := w.idleUntil.Load(); d != 0 && now >= d && w.state.CompareAndSwap(waiting, idle) {
		w.expired.Store(true)
		w.wake <- struct{}{}
	}
}

// Interrupt makes the current and every later Wait return
// ErrInterrupted. Call it before closing the connection from another
// goroutine than the one that waits.
func (w *Waiter) Interrupt() {
	if w != nil {
		w.once.Do(func() {
			w.stop.Store(true)
			close(w.done)
		})
	}
}

// Close forgets the Waiter (events for its socket are then ignored) and
// interrupts it. It does not touch the socket, which may stay open (a
// hijacked connection) or be closed already.
func (w *Waiter) Close() {
	if w == nil {
		return
	}
	w.Interrupt()
	w.p.waiters.CompareAndDelete(w.fd, w)
}
