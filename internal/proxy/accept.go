package proxy

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Accept backoff: the first retry after a failed accept waits
// acceptBackoffMin, each further one twice as long, up to acceptBackoffMax.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// nextAcceptDelay is the wait after a failed accept that followed a wait of
// prev (0 for the first failure of an episode).
func nextAcceptDelay(prev time.Duration) time.Duration {
	return min(max(2*prev, acceptBackoffMin), acceptBackoffMax)
}

// guardedListener is the listening socket an engine serves: it never lets
// an accept error stop the engine, and it bounds the connections open at
// once.
//
// Every accept error but "closed" (EMFILE, ENFILE, ENOBUFS, ECONNABORTED
// and whatever else the kernel returns) is retried here with exponential
// backoff, logged once per episode, and reported (failure) until an accept
// succeeds again, or the process can open a descriptor again after a
// backoff (the next accept may wait long for a client): engines only ever
// see a connection or net.ErrClosed.
//
// slots bounds the connections accepted and not yet closed: Accept takes a
// slot before asking the kernel, so at the limit connections wait in the
// kernel's backlog; the engine gives the slot back (release) when the
// connection is closed or leaves it (hijacked).
type guardedListener struct {
	net.Listener
	log     *slog.Logger
	slots   chan struct{} // nil: no limit
	changed func()        // called when failure() changes
	closed  chan struct{}
	once    sync.Once

	fail    atomic.Pointer[string] // the accept error of the running episode
	fullLog atomic.Int64           // unix nanos of the last "limit reached" log
}

func newGuardedListener(ln net.Listener, limit int, log *slog.Logger, changed func()) *guardedListener {
	l := &guardedListener{Listener: ln, log: log, changed: changed, closed: make(chan struct{})}
	if limit > 0 {
		l.slots = make(chan struct{}, limit)
	}
	if l.changed == nil {
		l.changed = func() {}
	}
	return l
}

func (l *guardedListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		if err := l.acquire(); err != nil {
			return nil, err
		}
		nc, err := l.Listener.Accept()
		if err == nil {
			if l.fail.Swap(nil) != nil {
				l.log.Info("accepting connections again")
				l.changed()
			}
			return nc, nil
		}
		l.release()
		if errors.Is(err, net.ErrClosed) || l.isClosed() {
			return nil, err
		}
		delay = nextAcceptDelay(delay)
		msg := err.Error()
		if l.fail.Swap(&msg) == nil {
			l.log.Error("accepting connections failed; retrying with backoff until it works (new connections wait in the kernel backlog)",
				"err", err, "retryIn", delay, "maxRetryInterval", acceptBackoffMax)
			l.changed()
		}
		select {
		case <-time.After(delay):
		case <-l.closed:
			return nil, net.ErrClosed
		}
		// The next accept may wait for a client for long: if the process
		// has a descriptor to give a connection again, the socket is
		// accepting now, not only once a client comes.
		if l.canOpen() && l.fail.Swap(nil) != nil {
			l.log.Info("accepting connections again")
			l.changed()
		}
	}
}

// canOpen reports whether the process can open one more file descriptor
// (it duplicates the socket's and closes the copy): accept fails with
// EMFILE or ENFILE until it can. False when the socket has no descriptor.
func (l *guardedListener) canOpen() bool {
	sc, ok := l.Listener.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	can := false
	_ = rc.Control(func(fd uintptr) {
		if nfd, err := unix.Dup(int(fd)); err == nil {
			_ = unix.Close(nfd)
			can = true
		}
	})
	return can
}

// acquire takes a connection slot, waiting while the limit is reached.
func (l *guardedListener) acquire() error {
	if l.slots == nil {
		return nil
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	if now := time.Now().UnixNano(); now-l.fullLog.Load() > int64(time.Minute) {
		l.fullLog.Store(now)
		l.log.Warn("connection limit reached; new connections wait in the kernel backlog until one closes (raise it with --max-connections)",
			"maxConnections", cap(l.slots))
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-l.closed:
		return net.ErrClosed
	}
}

// release gives back the slot of a connection that was closed or left the
// engine.
func (l *guardedListener) release() {
	if l.slots != nil {
		<-l.slots
	}
}

// failure is the accept error the socket is retrying, "" while it accepts.
func (l *guardedListener) failure() string {
	if p := l.fail.Load(); p != nil {
		return *p
	}
	return ""
}

func (l *guardedListener) isClosed() bool {
	select {
	case <-l.closed:
		return true
	default:
		return false
	}
}

func (l *guardedListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}
