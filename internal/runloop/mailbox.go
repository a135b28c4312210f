package runloop

import (
	"context"
	"sync"
	"time"
)

// Debounce is how long a burst of posts settles before the loop takes it.
// The value is taken Quiet after the last post, and at the latest Max after
// the first post of the burst (0: no bound). Both are measured from the
// posts, so posts that came while the loop was busy may be taken at once.
type Debounce struct {
	Quiet, Max time.Duration
}

// Window is a fixed window: the value is taken d after the first post of a
// burst, whatever comes after it.
func Window(d time.Duration) Debounce { return Debounce{Quiet: d, Max: d} }

// Settle is a trailing debounce: the value is taken once no post came for
// d, however long the burst.
func Settle(d time.Duration) Debounce { return Debounce{Quiet: d} }

// due is when a burst posted from first to last is taken.
func (d Debounce) due(first, last time.Time) time.Time {
	at := last.Add(d.Quiet)
	if d.Max > 0 {
		if limit := first.Add(d.Max); limit.Before(at) {
			at = limit
		}
	}
	return at
}

// Mailbox is a coalescing latest-value mailbox: any number of posts before
// the loop takes the next value make one value (merged, or the newest), so
// a slow loop never falls behind a queue of stale work. Posts never block.
//
// Post is debounced; PostNow is taken at once, without the debounced value
// unless that one is due too, so an urgent post neither waits for a burst
// to settle nor cuts it short.
type Mailbox[T any] struct {
	debounce Debounce
	merge    func(pending, v T) T
	wake     chan struct{} // capacity 1: something was posted

	mu          sync.Mutex
	urgent      slot[T]
	settling    slot[T]
	first, last time.Time // of the settling burst
}

type slot[T any] struct {
	has bool
	v   T
}

// NewMailbox returns an empty mailbox. merge combines a pending value with
// a new post; nil keeps the newest.
func NewMailbox[T any](d Debounce, merge func(pending, v T) T) *Mailbox[T] {
	if merge == nil {
		merge = func(_, v T) T { return v }
	}
	return &Mailbox[T]{debounce: d, merge: merge, wake: make(chan struct{}, 1)}
}

// Post adds v to the debounced value.
func (m *Mailbox[T]) Post(v T) {
	now := time.Now()
	m.mu.Lock()
	if m.settling.has {
		m.settling.v = m.merge(m.settling.v, v)
	} else {
		m.settling = slot[T]{true, v}
		m.first = now
	}
	m.last = now
	m.mu.Unlock()
	m.poke()
}

// PostNow adds v to the value taken at once.
func (m *Mailbox[T]) PostNow(v T) {
	m.mu.Lock()
	if m.urgent.has {
		m.urgent.v = m.merge(m.urgent.v, v)
	} else {
		m.urgent = slot[T]{true, v}
	}
	m.mu.Unlock()
	m.poke()
}

func (m *Mailbox[T]) poke() {
	select {
	case m.wake <- struct{}{}:
	default: // the loop is already woken
	}
}

// Wait blocks until a value is due and takes it. It returns false when ctx
// ends, whatever is pending.
func (m *Mailbox[T]) Wait(ctx context.Context) (T, bool) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		var zero T
		if ctx.Err() != nil {
			return zero, false
		}
		v, ok, wait := m.take(time.Now())
		if ok {
			return v, true
		}
		var expired <-chan time.Time
		if wait >= 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			expired = timer.C
		}
		select {
		case <-ctx.Done():
			return zero, false
		case <-m.wake:
		case <-expired:
		}
	}
}

// take returns the value due at now, or how long until the pending one is
// due (negative: nothing pending).
func (m *Mailbox[T]) take(now time.Time) (v T, ok bool, wait time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	due := m.settling.has && !now.Before(m.debounce.due(m.first, m.last))
	switch {
	case m.urgent.has && due:
		v = m.merge(m.settling.v, m.urgent.v)
	case m.urgent.has:
		v = m.urgent.v
	case due:
		v = m.settling.v
	case m.settling.has:
		return v, false, m.debounce.due(m.first, m.last).Sub(now)
	default:
		return v, false, -1
	}
	m.urgent = slot[T]{}
	if due {
		m.settling = slot[T]{}
	}
	return v, true, 0
}
