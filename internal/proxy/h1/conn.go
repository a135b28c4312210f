package h1

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"portico.dev/portico/internal/proxy/readiness"
)

// Connection states, for Shutdown: an idle connection (waiting for the
// first byte of a request) may be closed at once.
const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

const (
	clientBufSize = 8 << 10
	// maxFastBody is the largest request body (with a Content-Length) the
	// fast path buffers whole before forwarding it; larger and chunked
	// bodies stream through the fallback path.
	maxFastBody = 64 << 10
	// maxDirectAppend: bodies up to this size are copied next to their
	// head so both go out in one write; larger ones use writev.
	maxDirectAppend = 16 << 10
)

// conn is one client connection, served by one goroutine.
type conn struct {
	srv   *Server
	nc    net.Conn
	tls   *tls.ConnectionState
	state atomic.Int32
	proto string // "http" or "https", for X-Forwarded-Proto

	remoteAddr, clientIP string

	buf  []byte // client read buffer: buf[r:w] is unread
	r, w int
	out  []byte // client write buffer
	up   []byte // upstream request head

	req  Request
	resp response
	ch   chunked

	// Fallback requests only: wmu orders the handler's writes with the
	// "100 Continue" a body reader on another goroutine may send;
	// headSent says the final head went out (no 100 after it).
	wmu      sync.Mutex
	headSent bool

	// wait says when the next request arrives on a cleartext connection
	// (see package readiness); it is asked only after a read drained the
	// socket: after a full read more may be waiting that no new arrival
	// will announce. Set before the connection is served.
	wait    *readiness.Waiter
	drained bool

	// link aborts the upstream exchange in progress when the client goes
	// away; cancelReq (under cancelMu), when set, cancels the fallback
	// request's context. hangup (both) runs on the readiness poller when
	// the peer hangs up, seen by wait (cleartext) or by watch (TLS:
	// hang-ups only).
	link      Link
	cancelMu  sync.Mutex
	cancelReq context.CancelFunc
	watch     *readiness.Waiter
}

// hangup is the readiness hook of the client socket: the client closed
// (or half-closed) or reset its connection, so nobody will read the answer
// in progress.
func (c *conn) hangup() {
	c.link.Cancel()
	c.cancelMu.Lock()
	if c.cancelReq != nil {
		c.cancelReq()
	}
	c.cancelMu.Unlock()
}

// setCancel sets (nil: clears) the fallback request's cancel function;
// when the client is gone already, it is called at once.
func (c *conn) setCancel(f context.CancelFunc) {
	c.cancelMu.Lock()
	c.cancelReq = f
	c.cancelMu.Unlock()
	if f != nil && c.link.Gone() {
		f()
	}
}

// bufs recycles the buffers of finished connections.
var bufs = sync.Pool{New: func() any { return new(connBufs) }}

type connBufs struct{ buf, out, up []byte }

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, proto: "http", remoteAddr: nc.RemoteAddr().String()}
	if s.cfg.TLS == nil && !s.cfg.DisableReadiness { // TLS buffers records: socket readiness would mislead
		c.wait = readiness.RegisterHooks(nc, readiness.Hooks{OnHangup: c.hangup}, true)
	}
	if host, _, err := net.SplitHostPort(c.remoteAddr); err == nil {
		c.clientIP = host
	}
	return c
}

func (c *conn) serve() {
	defer c.srv.track(c, false)
	if c.srv.cfg.TLS != nil {
		tc := tls.Server(c.nc, c.srv.cfg.TLS)
		c.nc = tc
		_ = tc.SetDeadline(time.Now().Add(c.srv.cfg.ReadHeaderTimeout))
		if err := tc.Handshake(); err != nil {
			c.srv.log.Debug("TLS handshake failed", "remote", c.remoteAddr, "err", err)
			tc.Close()
			return
		}
		_ = tc.SetDeadline(time.Time{})
		cs := tc.ConnectionState()
		if cs.NegotiatedProtocol == "h2" {
			c.srv.track(c, false)
			c.srv.serveHTTP2(tc, &cs)
			return
		}
		c.tls, c.proto = &cs, "https"
		c.req.sni = cs.ServerName
		if raw := tc.NetConn(); raw != nil && !c.srv.cfg.DisableReadiness {
			c.watch = readiness.RegisterHooks(raw, readiness.Hooks{OnHangup: c.hangup}, false)
		}
	}
	b := bufs.Get().(*connBufs)
	if b.buf == nil {
		b.buf, b.out, b.up = make([]byte, clientBufSize), make([]byte, 0, clientBufSize), make([]byte, 0, 2<<10)
	}
	c.buf, c.out, c.up = b.buf, b.out, b.up
	handedOff := false
	defer func() {
		if v := recover(); v != nil {
			c.srv.log.Error("panic serving connection", "remote", c.remoteAddr, "panic", v, "stack", string(debug.Stack()))
		}
		c.wait.Close()
		c.watch.Close()
		if handedOff {
			return
		}
		c.nc.Close()
		// Only buffers of the original sizes go back: grown ones may
		// still be referenced by a panicking request's views.
		if len(c.buf) == clientBufSize {
			b.buf, b.out, b.up = c.buf, c.out[:0], c.up[:0]
			bufs.Put(b)
		}
	}()
	for first := true; ; first = false {
		err := c.readRequest()
		if err != nil {
			if err == errH2Preface && first && c.tls == nil {
				// Cleartext HTTP/2 with prior knowledge: the HTTP/2 server
				// takes the connection, preface included.
				c.srv.track(c, false)
				handedOff = true
				pc := &prefixConn{Conn: c.nc, prefix: append([]byte(nil), c.buf[c.r:c.w]...)}
				c.srv.serveHTTP2(pc, nil)
				return
			}
			if err.status != 0 {
				c.writeError(err.status, err.msg)
			}
			return
		}
		var keep bool
		keep, handedOff = c.handle()
		if !keep || c.srv.shutdown.Load() {
			return
		}
	}
}

// readRequest reads the next request head into c.req. The unread bytes
// of the connection start at c.r; the head is c.buf[c.r:c.r+headLen].
func (c *conn) readRequest() *reqError {
	if c.r == c.w {
		c.r, c.w = 0, 0
		c.state.Store(stateIdle)
		if c.srv.shutdown.Load() && c.state.CompareAndSwap(stateIdle, stateClosed) {
			return errClientGone
		}
		idleUntil := time.Now().Add(c.srv.cfg.IdleTimeout)
		_ = c.nc.SetReadDeadline(idleUntil)
		if c.drained {
			if err := c.wait.WaitIdle(idleUntil); err != nil {
				return errClientGone // idle too long, or Shutdown
			}
		}
	} else if c.r > 0 && len(c.buf)-c.w < 1024 {
		n := copy(c.buf, c.buf[c.r:c.w])
		c.r, c.w = 0, n
	}
	scan, crlf := 0, 0
	var headDeadline bool
	for {
		for c.w > c.r {
			data := c.buf[c.r:c.w]
			if scan == 0 && (data[0] == '\r' || data[0] == '\n') {
				// Empty lines before the request line.
				if data[0] == '\n' {
					return errBareLF
				}
				if len(data) < 2 {
					break
				}
				if data[1] != '\n' {
					return errBareLF
				}
				if crlf++; crlf > maxLeadingCRLF {
					return errBadRequest
				}
				c.r += 2
				continue
			}
			end, next := headEnd(data, scan)
			if end > maxHead {
				// However it arrived: in one read the buffer may have
				// grown past the limit before the end was seen.
				return errTooLarge
			}
			if end > 0 {
				return parseRequest(data[:end], &c.req)
			}
			scan = next
			if len(data) > maxHead {
				return errTooLarge
			}
			break
		}
		if c.w > c.r && !headDeadline {
			headDeadline = true
			_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.ReadHeaderTimeout))
		}
		if c.w == len(c.buf) {
			if c.r > 0 {
				n := copy(c.buf, c.buf[c.r:c.w])
				c.r, c.w = 0, n
			} else {
				c.grow(2 * len(c.buf))
			}
		}
		n, err := c.read()
		if n > 0 && c.state.Load() != stateActive && !c.state.CompareAndSwap(stateIdle, stateActive) {
			return errClientGone // Shutdown closed it while idle
		}
		if err != nil && n == 0 {
			if errors.Is(err, os.ErrDeadlineExceeded) && c.w > c.r {
				return errHeadTimeout
			}
			return errClientGone
		}
	}
}

// read reads from the client into c.buf[c.w:], noting whether the socket
// was drained (a short read).
func (c *conn) read() (int, error) {
	p := c.buf[c.w:]
	n, err := c.nc.Read(p)
	c.drained = n > 0 && n < len(p)
	c.w += n
	return n, err
}

// grow replaces the read buffer by a larger copy. The old buffer is left
// to the garbage collector: views of the current request may point into
// it.
func (c *conn) grow(size int) {
	nb := make([]byte, size)
	copy(nb, c.buf[:c.w])
	c.buf = nb
}

// handle serves the request in c.req and reports whether the connection
// stays open for another one, and whether it was handed over (hijacked).
func (c *conn) handle() (keep, handedOff bool) {
	req := &c.req
	if req.expectOther {
		c.writeError(417, "unsupported Expect")
		return false, false
	}
	if c.srv.router != nil && req.fast() && !req.chunked && req.contentLength <= maxFastBody {
		if rt := c.srv.router.RouteH1(req); rt != nil {
			return c.forward(rt), false
		}
	}
	return c.fallback()
}

// writeError answers a request the server refuses, then the connection is
// closed.
func (c *conn) writeError(status int, msg string) {
	c.out = errorResponse(c.out[:0], status, msg)
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.nc.Write(c.out)
	c.out = c.out[:0]
	lingerClose(c.nc)
}

// errorResponse appends the answer to a refused request to b.
func errorResponse(b []byte, status int, msg string) []byte {
	b = appendStatusLine(b, 1, status)
	b = append(b, "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"...)
	body := statusText(status) + ": " + msg + "\n"
	b = appendContentLength(b, int64(len(body)))
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// lingerClose lets the client read the answer just written before the
// close resets the connection over unread input: it shuts the sending
// side and reads (for a second, 256 KiB at most) what the client sends.
func lingerClose(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = nc.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = io.CopyN(io.Discard, nc, 256<<10)
	}
}

// flush writes the client write buffer.
func (c *conn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.out)
	c.out = c.out[:0]
	return err
}

// emit appends p to the client output, writing out when it is full.
func (c *conn) emit(p []byte) error {
	if len(c.out)+len(p) <= cap(c.out) {
		c.out = append(c.out, p...)
		return nil
	}
	if len(c.out) == 0 {
		_, err := c.nc.Write(p)
		return err
	}
	if len(p) < cap(c.out) {
		if err := c.flush(); err != nil {
			return err
		}
		c.out = append(c.out, p...)
		return nil
	}
	v := net.Buffers{c.out, p}
	_, err := v.WriteTo(c.nc)
	c.out = c.out[:0]
	return err
}

// prefixConn is a connection whose first bytes were already read.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}
