package h1

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// Guard is a net.Conn for another HTTP/1.1 server (net/http): it lets
// through only what this package's server accepts. Each request head is
// checked by the same parser before any of its bytes reach the reader,
// and its body framing (Content-Length, chunked) is followed to find the
// next head, so the reader never sees a request this server refuses nor
// disagrees with it on where a request ends. A refused head is answered
// here, exactly as this server answers it (status, Connection: close),
// and the reader then sees the connection end; malformed chunked framing
// is a read error under the body. After the HTTP/2 connection preface,
// or once the answer to an Upgrade request is a 101 (seen by Write), the
// bytes pass unchecked. Leading empty lines are dropped, as served here.
//
// Reads come from one goroutine at a time (net/http's background read
// included); Write and the deadline setters may come from others.
type Guard struct {
	net.Conn

	buf     []byte // buf[r:v] checked, not yet read; buf[v:w] unchecked
	r, v, w int
	state   uint8
	scan    int   // stHead: where headEnd stopped
	crlf    int   // stHead: empty lines dropped
	left    int64 // stLength: body bytes left
	ch      chunked
	req     Request
	first   bool
	upgrade bool      // the request being read asked for an upgrade
	err     error     // what reads return once the checked bytes are out
	held    *reqError // a refusal not answered yet (see answerHeld)

	mu       sync.Mutex    // the upgrade decision and the read deadline
	decided  chan struct{} // closed by Write with the decision
	done     bool          // decided is closed
	pass     bool          // the decision: 101 (pass) or an ordinary answer
	deadline time.Time     // the last read deadline set
	kick     chan struct{}
}

// Guard states.
const (
	stHead uint8 = iota
	stLength
	stChunked
	stPending // an Upgrade request was read: its answer decides
	stPass
	stFailed
)

// guardBufMax bounds the buffer: a head (maxHead) or a chunk line or
// trailer section, plus a read.
const guardBufMax = maxHead + 16<<10

// NewGuard wraps nc.
func NewGuard(nc net.Conn) *Guard {
	return &Guard{Conn: nc, buf: make([]byte, 4<<10), first: true, kick: make(chan struct{}, 1)}
}

// TLS returns the state of the TLS connection under g, if any (its
// handshake done), for the Request.TLS a server over g cannot set.
func (g *Guard) TLS() *tls.ConnectionState {
	if tc, ok := g.Conn.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		if cs.HandshakeComplete {
			return &cs
		}
	}
	return nil
}

func (g *Guard) Read(p []byte) (int, error) {
	for {
		if g.r < g.v {
			n := copy(p, g.buf[g.r:g.v])
			g.r += n
			return n, nil
		}
		if g.held != nil {
			return 0, g.answerHeld()
		}
		if err := g.err; err != nil {
			// The body's error once (the reader answers it), then the
			// end, so that the connection closes after that answer.
			g.err = io.EOF
			return 0, err
		}
		switch g.state {
		case stPass:
			if g.v < g.w {
				g.v = g.w
				continue
			}
			return g.Conn.Read(p)
		case stHead:
			if done := g.checkHead(); done {
				continue
			}
		case stLength:
			if g.v < g.w {
				k := min(int64(g.w-g.v), g.left)
				g.v += int(k)
				if g.left -= k; g.left == 0 {
					g.bodyDone()
				}
				continue
			}
		case stChunked:
			kind, _, n, err := g.ch.next(g.buf[g.v:g.w])
			g.v += n
			if err != nil {
				g.fail(err)
				continue
			}
			if kind == pDone {
				g.bodyDone()
			}
			if kind != pMore {
				continue
			}
		case stPending:
			if g.v < g.w {
				if err := g.waitDecision(); err != nil {
					return 0, err
				}
				continue
			}
		}
		if g.err != nil {
			continue
		}
		if err := g.fill(); err != nil {
			return 0, err
		}
	}
}

// checkHead checks the head starting at v, and reports whether it made
// progress (else more input is needed).
func (g *Guard) checkHead() bool {
	data := g.buf[g.v:g.w]
	if g.first && g.alpnH2() {
		return g.checkPreface(data)
	}
	if g.scan == 0 && len(data) > 0 && (data[0] == '\r' || data[0] == '\n') {
		switch {
		case data[0] == '\n' || len(data) > 1 && data[1] != '\n':
			g.refuse(errBareLF)
		case len(data) < 2:
			return false
		case g.crlf == maxLeadingCRLF:
			g.refuse(errBadRequest)
		default:
			// Dropped: this server skips them.
			copy(g.buf[g.v:], g.buf[g.v+2:g.w])
			g.w -= 2
			g.crlf++
		}
		return true
	}
	end, next := headEnd(data, g.scan)
	switch {
	case end > maxHead || end == 0 && len(data) > maxHead:
		g.refuse(errTooLarge)
		return true
	case end == 0:
		g.scan = next
		return false
	}
	first := g.first
	g.first, g.scan, g.crlf = false, 0, 0
	if err := parseRequest(data[:end], &g.req); err != nil {
		if err == errH2Preface && first {
			g.state = stPass
			return true
		}
		g.refuse(err)
		return true
	}
	g.v += end
	g.upgrade = g.req.upgrade
	switch {
	case g.req.chunked:
		g.state, g.ch = stChunked, chunked{}
	case g.req.contentLength > 0:
		g.state, g.left = stLength, g.req.contentLength
	default:
		g.bodyDone()
	}
	return true
}

// alpnH2 reports whether g is over TLS and the handshake chose h2: the
// client must then start with the HTTP/2 connection preface.
func (g *Guard) alpnH2() bool {
	tc, ok := g.Conn.(*tls.Conn)
	return ok && tc.ConnectionState().NegotiatedProtocol == "h2"
}

// checkPreface lets an h2 connection through once its preface arrived, and
// ends one that starts with anything else without an answer (RFC 9113
// 3.4: a connection error; an HTTP/1.1 answer would be a protocol the
// client did not choose).
func (g *Guard) checkPreface(data []byte) bool {
	n := min(len(data), len(http2.ClientPreface))
	switch {
	case string(data[:n]) != http2.ClientPreface[:n]:
		g.first = false
		g.fail(io.EOF)
	case n < len(http2.ClientPreface):
		return false
	default:
		g.first, g.state = false, stPass
	}
	return true
}

// bodyDone: the request ended; the next is a head, unless it asked for
// an upgrade, whose answer decides.
func (g *Guard) bodyDone() {
	g.state = stHead
	if g.upgrade {
		g.mu.Lock()
		g.state, g.decided, g.done, g.pass = stPending, make(chan struct{}), false, false
		g.mu.Unlock()
	}
}

// waitDecision waits, with bytes after an Upgrade request in hand, for
// its answer; a read deadline set meanwhile (net/http's way to stop a
// background read before a Hijack) ends the wait with a timeout.
func (g *Guard) waitDecision() error {
	g.mu.Lock()
	decided := g.decided
	g.mu.Unlock()
	for {
		g.mu.Lock()
		d := g.deadline
		g.mu.Unlock()
		var expire <-chan time.Time
		var t *time.Timer
		if !d.IsZero() {
			if !time.Now().Before(d) {
				return os.ErrDeadlineExceeded
			}
			t = time.NewTimer(time.Until(d))
			expire = t.C
		}
		stop := func() {
			if t != nil {
				t.Stop()
			}
		}
		select {
		case <-expire:
			return os.ErrDeadlineExceeded
		case <-decided:
			stop()
			g.mu.Lock()
			g.state = stHead
			if g.pass {
				g.state = stPass
			}
			g.mu.Unlock()
			return nil
		case <-g.kick: // the deadline changed
			stop()
		}
	}
}

// fill reads more input after buf[v:], compacting or growing the buffer.
func (g *Guard) fill() error {
	if g.r == g.w {
		g.r, g.v, g.w = 0, 0, 0
	} else if g.r > 0 {
		n := copy(g.buf, g.buf[g.r:g.w])
		g.v -= g.r
		g.w, g.r = n, 0
	}
	if g.w == len(g.buf) {
		if len(g.buf) >= guardBufMax {
			g.fail(errChunk) // a chunk line or trailers beyond any limit
			return g.err
		}
		nb := make([]byte, min(2*len(g.buf), guardBufMax))
		copy(nb, g.buf[:g.w])
		g.buf = nb
	}
	n, err := g.Conn.Read(g.buf[g.w:])
	g.w += n
	if n > 0 {
		return nil
	}
	if err == io.EOF && g.state != stHead {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// fail makes every later read fail with err (a malformed body: the
// reader's server answers it).
func (g *Guard) fail(err error) {
	g.state, g.err = stFailed, err
}

// refuse ends the connection for the reader at a refused head, which is
// answered as this package's server answers it (answerHeld).
func (g *Guard) refuse(e *reqError) {
	g.fail(io.EOF)
	g.held = e
}

// answerHeld answers the refused head once the reader reads for a head
// of its own: net/http sets a read deadline for that (ReadHeaderTimeout).
// Without a deadline the read is net/http's read-ahead while a handler
// still answers the previous request: the refusal waits, else it would
// go out in the middle of that answer, until net/http ends the read-ahead
// with a past deadline (the timeout it expects).
func (g *Guard) answerHeld() error {
	for {
		g.mu.Lock()
		d := g.deadline
		g.mu.Unlock()
		switch {
		case d.IsZero():
			<-g.kick
			continue
		case !time.Now().Before(d):
			return os.ErrDeadlineExceeded
		}
		e := g.held
		g.held = nil
		_ = g.Conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = g.Conn.Write(errorResponse(nil, e.status, e.msg))
		lingerClose(g.Conn)
		return g.err
	}
}

// Write passes p on; while an Upgrade request waits for its answer, the
// status line decides whether the bytes that follow are checked.
func (g *Guard) Write(p []byte) (int, error) {
	g.mu.Lock()
	if g.decided != nil && !g.done && len(p) >= 12 && bytes.HasPrefix(p, []byte("HTTP/1.")) {
		switch {
		case string(p[9:12]) == "101":
			g.pass, g.done = true, true
			close(g.decided)
		case p[9] != '1': // a final answer: the upgrade was refused
			g.done = true
			close(g.decided)
		}
	}
	g.mu.Unlock()
	return g.Conn.Write(p)
}

func (g *Guard) SetReadDeadline(t time.Time) error {
	g.setDeadline(t)
	return g.Conn.SetReadDeadline(t)
}

func (g *Guard) SetDeadline(t time.Time) error {
	g.setDeadline(t)
	return g.Conn.SetDeadline(t)
}

func (g *Guard) setDeadline(t time.Time) {
	g.mu.Lock()
	g.deadline = t
	g.mu.Unlock()
	select {
	case g.kick <- struct{}{}:
	default:
	}
}
