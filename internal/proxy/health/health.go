package health

import (
	"sync/atomic"
	"time"
)

// Intervals an endpoint is skipped for after a failed connect.
const (
	FirstBackoff = 250 * time.Millisecond
	MaxBackoff   = 30 * time.Second
)

// Backoff is how long an endpoint is skipped after its fails-th
// consecutive failed connect (fails >= 1).
func Backoff(fails uint32) time.Duration {
	if fails == 0 {
		return 0
	}
	d := FirstBackoff
	for i := uint32(1); i < fails && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// State is the connect health of one endpoint; the zero value is healthy.
// It is safe for concurrent use.
type State struct {
	until atomic.Int64 // UnixNano before which the endpoint is skipped; 0: healthy
	fails atomic.Uint32
}

// Skip reports whether a request should avoid the endpoint now.
func (s *State) Skip() bool {
	u := s.until.Load()
	if u == 0 {
		return false
	}
	return s.skipAt(u, time.Now().UnixNano())
}

// skipAt decides for a failing endpoint (until u) at now: skip it before
// u; past u, the first caller probes it (and pushes u on by the current
// interval, so that the others keep skipping while it does).
func (s *State) skipAt(u, now int64) bool {
	if now < u {
		return true
	}
	return !s.until.CompareAndSwap(u, now+int64(Backoff(s.fails.Load())))
}

// Failed records a failed connect: the endpoint is skipped for the next
// interval.
func (s *State) Failed() { s.failedAt(time.Now().UnixNano()) }

func (s *State) failedAt(now int64) {
	n := s.fails.Add(1)
	s.until.Store(now + int64(Backoff(n)))
}

// Succeeded records a successful connect: the endpoint is healthy again.
func (s *State) Succeeded() {
	if s.until.Load() != 0 {
		s.until.Store(0)
		s.fails.Store(0)
	}
}

// Cursor walks the endpoints of one backend for one request: from the
// round-robin position start, skipping failing endpoints.
type Cursor struct{ n, start, off int }

// NewCursor returns a cursor over n endpoints starting at position start.
func NewCursor(n, start int) Cursor { return Cursor{n: n, start: start} }

// Next returns the position of the endpoint to try. The first call always
// returns one: the first from start that skip does not refuse, or start
// itself when skip refuses them all. Each later call (after a failed
// connect) returns a position not returned or passed over before that
// skip does not refuse; ok is false when none is left.
func (c *Cursor) Next(skip func(int) bool) (pos int, ok bool) {
	first := c.off == 0
	for c.off < c.n {
		i := (c.start + c.off) % c.n
		c.off++
		if !skip(i) {
			return i, true
		}
	}
	if first && c.n > 0 {
		return c.start % c.n, true
	}
	return 0, false
}
