package h1

import (
	"errors"
	"os"
	"sync/atomic"
	"time"
)

// This file stops an upstream exchange from outside its goroutine: when
// the client goes away (Link.Cancel) or when the upstream has not
// answered within the head timeout (the readiness reaper). Both abort the
// upstream connection, which is then closed, never pooled.

// Why an upstream connection was aborted (upConn.aborted).
const (
	abortNone int32 = iota
	abortClient
	abortTimeout
)

// errClientAborted is the upstream read error once the client went away.
var errClientAborted = errors.New("client went away")

// aLongTimeAgo is a read deadline that wakes a blocked read at once.
var aLongTimeAgo = time.Unix(1, 0)

// abort makes the reader of uc (another goroutine) fail at once; why
// says what its error becomes. The first reason wins.
func (uc *upConn) abort(why int32) {
	if !uc.aborted.CompareAndSwap(abortNone, why) {
		return
	}
	uc.wait.Interrupt()
	_ = uc.nc.SetReadDeadline(aLongTimeAgo)
}

// expire is the readiness reaper's hook: the head timeout passed.
func (uc *upConn) expire() { uc.abort(abortTimeout) }

// abortErr is the read error of an aborted uc (err when it was not).
func (uc *upConn) abortErr(err error) error {
	switch uc.aborted.Load() {
	case abortClient:
		return errClientAborted
	case abortTimeout:
		return os.ErrDeadlineExceeded
	}
	return err
}

// armHead starts the head timeout d (0: none) for the answer to the
// request just sent. It costs no timer where the readiness reaper
// enforces it; elsewhere it is a read deadline.
func (uc *upConn) armHead(d time.Duration) {
	if d <= 0 {
		return
	}
	if uc.wait.Armed() {
		uc.wait.Arm(d)
		return
	}
	uc.deadline = time.Now().Add(d)
	_ = uc.nc.SetReadDeadline(uc.deadline)
}

// disarmHead ends the head timeout once the head arrived (or the
// exchange failed) and reports whether it had expired first.
func (uc *upConn) disarmHead(d time.Duration) (expired bool) {
	if d <= 0 {
		return false
	}
	if uc.wait.Armed() {
		return !uc.wait.Disarm()
	}
	uc.deadline = time.Time{}
	_ = uc.nc.SetReadDeadline(time.Time{})
	return false
}

// Link ties an upstream exchange to its client, so that the client going
// away aborts the upstream connection in use: Cancel (from any goroutine)
// against attach and detach (the exchange's goroutine). Whoever takes the
// connection out of the link acts on it: Cancel aborts it, detach keeps
// it for the pool. The zero value is ready.
type Link struct {
	up   atomic.Pointer[upConn]
	gone atomic.Bool
}

// Cancel says the client went away: the exchange in progress, if any,
// and every later one fails at once.
func (l *Link) Cancel() {
	l.gone.Store(true)
	if uc := l.up.Swap(nil); uc != nil {
		uc.abort(abortClient)
	}
}

// Gone reports whether Cancel was called.
func (l *Link) Gone() bool { return l != nil && l.gone.Load() }

func (l *Link) attach(uc *upConn) {
	if l == nil {
		return
	}
	l.up.Store(uc)
	if l.gone.Load() {
		l.Cancel()
	}
}

// detach takes uc out of the link and reports whether it is still usable
// (false: Cancel took it and aborted it).
func (l *Link) detach() bool {
	return l == nil || l.up.Swap(nil) != nil
}
