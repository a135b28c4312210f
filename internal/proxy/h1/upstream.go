package h1

import (
	"context"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"portico.dev/portico/internal/proxy/health"
	"portico.dev/portico/internal/proxy/readiness"
)

// Upstream connection tuning, as backend.Pool's http.Transports have it.
const (
	dialTimeout      = 5 * time.Second
	tcpKeepAlive     = 30 * time.Second
	upstreamIdle     = 90 * time.Second
	maxIdlePerTarget = 1024
	upstreamBufSize  = 16 << 10
)

// Pool holds the keep-alive connections of the fast path, one Endpoint per
// upstream address. Endpoints outlive configuration generations: Retain
// drops the ones no longer used. It is safe for concurrent use.
type Pool struct {
	dialer      *net.Dialer
	noReadiness bool
	mu          sync.Mutex
	eps         map[string]*Endpoint
}

// PoolOptions configure a Pool. The zero value is the default.
type PoolOptions struct {
	// DisableReadiness keeps upstream connections off package readiness:
	// reads wait in Go's poller and the default upstream timeout is a
	// read deadline.
	DisableReadiness bool
}

// NewPool returns an empty pool.
func NewPool(opts PoolOptions) *Pool {
	return &Pool{dialer: &net.Dialer{Timeout: dialTimeout, KeepAlive: tcpKeepAlive}, noReadiness: opts.DisableReadiness,
		eps: map[string]*Endpoint{}}
}

// Endpoint returns the endpoint of addr ("host:port"), creating it.
func (p *Pool) Endpoint(addr string) *Endpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.eps[addr]; ok {
		return e
	}
	e := &Endpoint{addr: addr, dialer: p.dialer, noReadiness: p.noReadiness}
	p.eps[addr] = e
	return e
}

// Retain closes the endpoints whose address is not in keep, and their idle
// connections; connections in use are closed when they are done.
func (p *Pool) Retain(keep map[string]struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, e := range p.eps {
		if _, ok := keep[addr]; !ok {
			delete(p.eps, addr)
			e.close()
		}
	}
}

// Close closes every endpoint.
func (p *Pool) Close() { p.Retain(nil) }

// Len is the number of endpoints held.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.eps)
}

// Endpoint is one upstream address and its idle keep-alive connections.
type Endpoint struct {
	addr        string
	dialer      *net.Dialer
	noReadiness bool         // PoolOptions.DisableReadiness
	health      health.State // of its connects, shared by every Route using it
	mu          sync.Mutex
	idle        []*upConn // most recently used last
	closed      bool
}

// upConn is one upstream connection with its read buffer. It is used by
// one client connection at a time, in that connection's goroutine.
type upConn struct {
	nc     net.Conn
	ep     *Endpoint
	buf    []byte
	r, w   int
	since  time.Time // idle since
	reused bool
	broken bool // the request write failed: never reuse

	// wait says when the upstream's answer arrives (see package
	// readiness); it is asked only after a read drained the socket:
	// after a full read more may be waiting that no new arrival will
	// announce.
	wait     *readiness.Waiter
	drained  bool
	deadline time.Time // the deadline set on nc (zero: none), for wait

	aborted atomic.Int32 // why abort stopped it (abortNone: it did not)
}

// close closes the connection.
func (uc *upConn) close() {
	uc.wait.Close()
	uc.nc.Close()
}

// checkIdle: a connection idle longer than this is checked for a close by
// the upstream before it carries a request that cannot be retried.
const checkIdle = 500 * time.Millisecond

// get returns an idle connection (most recently used first, stale ones
// closed) or dials a new one before deadline (zero: dialTimeout). When the
// request cannot be retried (retryable false), a connection idle for a
// while is first checked for a close by the upstream. fresh asks for a new
// connection: after a reused one failed, the others idle since as long
// are likely closed too (an upstream that went away closes them all).
func (e *Endpoint) get(deadline time.Time, retryable, fresh bool) (*upConn, error) {
	for !fresh {
		e.mu.Lock()
		n := len(e.idle)
		if n == 0 {
			e.mu.Unlock()
			break
		}
		uc := e.idle[n-1]
		e.idle[n-1] = nil
		e.idle = e.idle[:n-1]
		e.mu.Unlock()
		idle := time.Since(uc.since)
		if idle < upstreamIdle && (retryable || idle < checkIdle || alive(uc.nc)) {
			uc.reused = true
			return uc, nil
		}
		uc.close()
	}
	ctx := context.Background()
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	nc, err := e.dialer.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return nil, err
	}
	e.health.Succeeded()
	uc := &upConn{nc: nc, ep: e, buf: make([]byte, upstreamBufSize)}
	if !e.noReadiness {
		uc.wait = readiness.RegisterHooks(nc, readiness.Hooks{OnExpire: uc.expire}, true)
	}
	return uc, nil
}

// get returns a connection to p's endpoint (see Endpoint.get for
// retryable and fresh). When its connect fails
// (nothing of the request was sent), the endpoint is marked failing and
// the backend's other endpoints that are not failing are tried in turn,
// each once: p.ep is then the endpoint that answered, or the last tried.
// A connect cut short by deadline is neither marked nor retried.
func (p *Pick) get(deadline time.Time, retryable, fresh bool, log *slog.Logger) (*upConn, error) {
	for {
		uc, err := p.ep.get(deadline, retryable, fresh)
		if err == nil {
			return uc, nil
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return nil, err
		}
		if !p.failOver(err, log) {
			return nil, err
		}
	}
}

// failOver marks p's endpoint failing and moves p to the backend's next
// endpoint that is not failing, each tried once; false when none is left.
func (p *Pick) failOver(err error, log *slog.Logger) bool {
	p.ep.health.Failed()
	i, ok := p.cur.Next(p.be.skip)
	if !ok {
		return false
	}
	log.Debug("upstream failed before answering, trying another endpoint", "endpoint", p.ep.addr, "next", p.be.endpoints[i].addr, "err", err)
	p.ep = p.be.endpoints[i]
	return true
}

// put returns uc to the idle list, or closes it.
func (e *Endpoint) put(uc *upConn) {
	if uc.r != uc.w { // bytes past the response: the peer is confused
		uc.close()
		return
	}
	if !uc.deadline.IsZero() {
		_ = uc.nc.SetDeadline(time.Time{})
		uc.deadline = time.Time{}
	}
	uc.r, uc.w = 0, 0
	uc.since = time.Now()
	e.mu.Lock()
	if e.closed || len(e.idle) >= maxIdlePerTarget {
		e.mu.Unlock()
		uc.close()
		return
	}
	e.idle = append(e.idle, uc)
	e.mu.Unlock()
}

func (e *Endpoint) close() {
	e.mu.Lock()
	idle := e.idle
	e.idle, e.closed = nil, true
	e.mu.Unlock()
	for _, uc := range idle {
		uc.close()
	}
}

// fill reads more of the upstream's answer into buf, compacting it first
// (callers hold no views into buf across fill, except during a head read,
// which never compacts: see readHead).
func (uc *upConn) fill(compact bool) error {
	if compact && uc.r > 0 {
		copy(uc.buf, uc.buf[uc.r:uc.w])
		uc.w -= uc.r
		uc.r = 0
	}
	if uc.w == len(uc.buf) {
		if len(uc.buf) >= maxHead+upstreamBufSize {
			return errResponseTooLarge
		}
		nb := make([]byte, 2*len(uc.buf))
		copy(nb, uc.buf[:uc.w])
		uc.buf = nb
	}
	if uc.drained {
		if err := uc.wait.Wait(uc.deadline); err != nil {
			return uc.abortErr(os.ErrDeadlineExceeded) // aborted, or the deadline
		}
	}
	p := uc.buf[uc.w:]
	n, err := uc.nc.Read(p)
	uc.drained = n > 0 && n < len(p)
	uc.w += n
	if n > 0 {
		return nil
	}
	return uc.abortErr(err)
}

// alive reports whether nc has neither been closed by its peer nor holds
// unexpected bytes, without blocking (one recv with MSG_PEEK).
func alive(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	ok = true
	var b [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = n <= 0 && err == syscall.EAGAIN
		return true
	})
	return ok
}
