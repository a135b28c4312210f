package kubernetes

import (
	"context"
	"time"
)

// mailbox is a coalescing "something changed" signal: any number of Pokes
// before the loop takes the next one make one reconcile, which reads the
// latest state. It is not a queue of events.
type mailbox struct{ ch chan struct{} }

func newMailbox() *mailbox { return &mailbox{ch: make(chan struct{}, 1)} }

// Poke marks the state dirty. It never blocks.
func (m *mailbox) Poke() {
	select {
	case m.ch <- struct{}{}:
	default: // a reconcile is already pending
	}
}

// Wait blocks until the state is dirty, then lets a burst settle for
// debounce (pokes meanwhile are absorbed: the reconcile that follows sees
// their state). It returns false when ctx ends.
func (m *mailbox) Wait(ctx context.Context, debounce time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-m.ch:
	}
	if debounce <= 0 {
		return true
	}
	t := time.NewTimer(debounce)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	select {
	case <-m.ch:
	default:
	}
	return true
}
