package h2

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// Windows and sizes this server advertises and uses.
const (
	// recvWindow is the flow-control window of the connection and of each
	// stream for request bodies: what a client may send ahead of the
	// handler reading it.
	recvWindow = 1 << 20
	// maxHeaderList bounds the decoded request header list, as the
	// HTTP/1.1 engine bounds a request head (431 beyond it).
	maxHeaderList = 64 << 10
	readBufSize   = 16 << 10
	writeBufSize  = 32 << 10
	// defaultWindow and defaultMaxFrame are the protocol's initial values.
	defaultWindow   = 65535
	defaultMaxFrame = 16384
	maxWindow       = 1<<31 - 1
)

const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

var (
	errStreamReset = errors.New("http2: stream reset")
	errConnClosed  = errors.New("http2: connection closed")
)

// conn is one client connection. One goroutine (serve) reads and
// dispatches frames; each stream runs in a goroutine of its own; every
// write goes through wmu (see write.go).
type conn struct {
	srv   *Server
	nc    net.Conn
	tls   *tls.ConnectionState
	proto string // "https" or "http", for X-Forwarded-Proto

	remoteAddr, clientIP string

	br     *bufio.Reader
	fr     *http2.Framer // reads br (serve goroutine); writes bw (under wmu)
	blocks blockReader   // decodes header blocks (serve goroutine)

	// Reader state, owned by the serve goroutine.
	lastStreamID uint32        // highest client stream ID seen
	lastSeen     atomic.Uint32 // lastStreamID, for other goroutines
	settingsSeen bool
	ctx          context.Context // parent of request contexts, see baseContext

	mu      sync.Mutex
	streams map[uint32]*stream
	nopen   int       // streams neither finished nor reset: what MAX_CONCURRENT_STREAMS bounds
	running int       // stream goroutines (at most MaxConcurrentStreams)
	queued  []*stream // streams waiting for one
	free    []*stream // finished fast-path streams, for newStream
	idleAt  time.Time // when streams became empty
	closing bool      // graceful GOAWAY sent: refuse streams, close when they are done

	// lingering: the last streams are done after a graceful GOAWAY, the
	// closing PING is out (see closeWhenAcked).
	lingering atomic.Bool

	// recvConn is the connection's receive window left; credit collects
	// consumed bytes until they are worth a WINDOW_UPDATE.
	recvConn  atomic.Int64
	creditMu  sync.Mutex
	creditAcc int64

	w writer
}

func newConn(s *Server, nc net.Conn, tlsState *tls.ConnectionState) *conn {
	c := &conn{srv: s, nc: nc, tls: tlsState, proto: "http", remoteAddr: nc.RemoteAddr().String(), streams: map[uint32]*stream{}}
	if tlsState != nil {
		c.proto = "https"
	}
	if host, _, err := net.SplitHostPort(c.remoteAddr); err == nil {
		c.clientIP = host
	}
	c.br = bufio.NewReaderSize(nc, readBufSize)
	c.w.init(c)
	c.fr = http2.NewFramer(c.w.bw, c.br)
	c.blocks.init()
	c.fr.SetMaxReadFrameSize(defaultMaxFrame) // what we advertise (the default)
	c.fr.SetReuseFrames()
	c.recvConn.Store(recvWindow)
	return c
}

func (c *conn) serve() {
	defer func() {
		if v := recover(); v != nil {
			c.srv.log.Error("panic serving HTTP/2 connection", "remote", c.remoteAddr, "panic", v, "stack", string(debug.Stack()))
		}
		c.shut(errConnClosed)
	}()
	_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.PrefaceTimeout))
	var pre [len(clientPreface)]byte
	if _, err := io.ReadFull(c.br, pre[:]); err != nil || string(pre[:]) != clientPreface {
		c.srv.log.Debug("bad HTTP/2 preface", "remote", c.remoteAddr, "err", err)
		c.w.goAway(0, http2.ErrCodeProtocol)
		return
	}
	_ = c.nc.SetReadDeadline(time.Time{})
	c.w.preface(c.srv.cfg.MaxConcurrentStreams)
	c.markIdle()
	stopIdle := c.watchIdle()
	defer stopIdle()

	for {
		f, err := c.fr.ReadFrame()
		if err == nil {
			if !c.settingsSeen {
				if sf, ok := f.(*http2.SettingsFrame); !ok || sf.IsAck() {
					c.connError(http2.ErrCodeProtocol, "first frame is not SETTINGS")
					return
				}
				c.settingsSeen = true
			}
			err = c.process(f)
		}
		if err == nil {
			continue
		}
		var se http2.StreamError
		var ce http2.ConnectionError
		switch {
		case errors.As(err, &se):
			if se.StreamID > c.lastStreamID && se.StreamID%2 == 1 {
				c.setLast(se.StreamID)
			}
			c.resetStream(se.StreamID, se.Code)
			continue
		case errors.As(err, &ce):
			c.connError(http2.ErrCode(ce), "")
		case errors.Is(err, http2.ErrFrameTooLarge):
			c.connError(http2.ErrCodeFrameSize, "")
		default:
			c.srv.log.Debug("HTTP/2 connection ended", "remote", c.remoteAddr, "err", err)
		}
		return
	}
}

// process handles one frame from the client.
func (c *conn) process(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.HeadersFrame:
		b, err := c.blocks.read(c.fr, f)
		if err != nil {
			return err
		}
		return c.onHeaders(b)
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.PingFrame:
		if f.StreamID != 0 {
			return http2.ConnectionError(http2.ErrCodeProtocol)
		}
		if !f.IsAck() {
			c.w.ping(f.Data)
		} else if f.Data == closingPing && c.lingering.Load() {
			return io.EOF // see closeWhenAcked
		}
	case *http2.RSTStreamFrame:
		if c.idle(f.StreamID) {
			return http2.ConnectionError(http2.ErrCodeProtocol)
		}
		if s := c.stream(f.StreamID); s != nil {
			s.abort(errStreamReset)
		}
	case *http2.PriorityFrame:
		if f.StreamID == f.StreamDep {
			return http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeProtocol}
		}
	case *http2.GoAwayFrame:
		// The client will open no more streams: finish those in flight.
		c.mu.Lock()
		c.closing = true
		empty := len(c.streams) == 0
		c.mu.Unlock()
		if empty {
			return io.EOF
		}
	case *http2.PushPromiseFrame:
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	// Unknown frame types are ignored (RFC 9113 section 5.5).
	return nil
}

// idle reports whether id names a stream the client never opened.
func (c *conn) idle(id uint32) bool { return id > c.lastStreamID }

func (c *conn) stream(id uint32) *stream {
	c.mu.Lock()
	s := c.streams[id]
	c.mu.Unlock()
	return s
}

func (c *conn) onSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	if err := f.ForeachSetting(func(st http2.Setting) error { return st.Valid() }); err != nil {
		return err
	}
	if err := c.w.applySettings(f); err != nil {
		return err
	}
	c.w.settingsAck()
	return nil
}

func (c *conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	if f.StreamID == 0 {
		if !c.w.addConnWindow(int64(f.Increment)) {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		return nil
	}
	if c.idle(f.StreamID) {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	if s := c.stream(f.StreamID); s != nil && !c.w.addStreamWindow(s, int64(f.Increment)) {
		return http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeFlowControl}
	}
	return nil
}

// onData delivers a DATA frame to its stream's body, enforcing flow
// control and the declared Content-Length.
func (c *conn) onData(f *http2.DataFrame) error {
	id := f.StreamID
	if c.idle(id) {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	size := int64(f.Length)
	if c.recvConn.Add(-size) < 0 {
		return http2.ConnectionError(http2.ErrCodeFlowControl)
	}
	s := c.stream(id)
	if s == nil || s.remoteDone.Load() {
		// Closed: give the window back, tell the client.
		c.credit(nil, size)
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeStreamClosed}
	}
	if s.recvWin.Add(-size) < 0 {
		c.credit(nil, size)
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeFlowControl}
	}
	data := f.Data()
	if pad := size - int64(len(data)); pad > 0 {
		c.credit(s, pad)
	}
	s.received += int64(len(data))
	if s.declared >= 0 && (s.received > s.declared || f.StreamEnded() && s.received != s.declared) {
		c.credit(nil, int64(len(data)))
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol}
	}
	if s.body == nil {
		c.credit(s, int64(len(data)))
	} else if len(data) > 0 && !s.body.write(data) {
		c.credit(s, int64(len(data))) // the handler closed the body
	}
	if f.StreamEnded() {
		s.remoteDone.Store(true)
		if s.body != nil {
			s.body.closeWithError(io.EOF)
		}
	}
	return nil
}

// credit gives n consumed bytes back to the client's send windows (the
// connection's, and s's when s is not nil), sending WINDOW_UPDATE once a
// quarter of a window has been consumed.
func (c *conn) credit(s *stream, n int64) {
	if n <= 0 {
		return
	}
	c.recvConn.Add(n)
	c.creditMu.Lock()
	c.creditAcc += n
	connInc := int64(0)
	if c.creditAcc >= recvWindow/4 {
		connInc, c.creditAcc = c.creditAcc, 0
	}
	streamInc := int64(0)
	if s != nil && !s.remoteDone.Load() {
		s.recvWin.Add(n)
		s.creditAcc += n
		if s.creditAcc >= recvWindow/4 {
			streamInc, s.creditAcc = s.creditAcc, 0
		}
	}
	c.creditMu.Unlock()
	if connInc > 0 || streamInc > 0 {
		c.w.windowUpdates(s, connInc, streamInc)
	}
}

// resetStream sends RST_STREAM for id and ends the stream, if open.
func (c *conn) resetStream(id uint32, code http2.ErrCode) {
	if s := c.stream(id); s != nil {
		s.abort(errStreamReset)
	}
	c.w.rst(id, code)
}

// connError ends the connection with GOAWAY(code).
func (c *conn) connError(code http2.ErrCode, why string) {
	if why != "" {
		c.srv.log.Debug("HTTP/2 connection error", "remote", c.remoteAddr, "code", code, "why", why)
	}
	c.w.goAway(c.lastStreamID, code)
}

// goAwayGraceful announces that no stream above the last one seen will be
// served; the connection closes once its streams are done.
//
// The GOAWAY is buffered under the writer's lock before closing is set:
// a stream that finishes meanwhile and sees closing closes the connection
// (flushing first), and must not close it ahead of the GOAWAY.
func (c *conn) goAwayGraceful() {
	w := &c.w
	w.lock()
	c.mu.Lock() // after w.mu, as everywhere
	first := !c.closing
	c.closing = true
	empty := len(c.streams) == 0
	c.mu.Unlock()
	if first && w.err == nil {
		w.check(c.fr.WriteGoAway(c.lastSeen.Load(), http2.ErrCodeNo, nil))
	}
	w.unlock()
	if empty {
		c.closeWhenAcked()
	}
}

// closingPing is the payload of the PING that closeWhenAcked sends.
var closingPing = [8]byte{'g', 'o', 'a', 'w', 'a', 'y', 'o', 'k'}

// goAwayLinger bounds the wait for closingPing's ack.
const goAwayLinger = time.Second

// closeWhenAcked closes a connection whose graceful GOAWAY is out and
// whose streams are done, once the client has acknowledged a PING sent
// after the GOAWAY, or after goAwayLinger. Closing at once would lose
// requests that crossed the GOAWAY: the socket, closed with their bytes
// unread, answers with a TCP reset that can also discard the GOAWAY at
// the client. Streams opened meanwhile are refused (REFUSED_STREAM: the
// client retries them elsewhere), and the ack comes after everything the
// client sent before it read the GOAWAY, so nothing is left unanswered.
func (c *conn) closeWhenAcked() {
	if !c.lingering.CompareAndSwap(false, true) {
		return
	}
	w := &c.w
	w.lock()
	if w.err == nil {
		w.check(c.fr.WritePing(false, closingPing))
	}
	w.unlock()
	time.AfterFunc(goAwayLinger, w.closeFlushed) // harmless once closed
}

// shut ends every stream and closes the connection, once what is
// buffered is written.
func (c *conn) shut(err error) {
	c.w.closeFlushed()
	c.mu.Lock()
	streams := make([]*stream, 0, len(c.streams))
	for _, s := range c.streams {
		streams = append(streams, s)
	}
	c.mu.Unlock()
	for _, s := range streams {
		s.abort(err)
	}
	c.nc.Close()
}

// markIdle records that the connection has no stream since now.
func (c *conn) markIdle() {
	c.mu.Lock()
	c.idleAt = time.Now()
	c.mu.Unlock()
}

// watchIdle closes the connection once it has had no stream for
// IdleTimeout: one timer, checked when it fires rather than reset on every
// stream.
func (c *conn) watchIdle() (stop func()) {
	d := c.srv.cfg.IdleTimeout
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		c.mu.Lock()
		idle := len(c.streams) == 0
		since := time.Since(c.idleAt)
		c.mu.Unlock()
		if idle && since >= d {
			// A stream opened since is served: goAwayGraceful decides
			// under the lock that opening one takes.
			c.goAwayGraceful()
			return
		}
		if idle {
			t.Reset(d - since)
		} else {
			t.Reset(d)
		}
	})
	return func() { t.Stop() }
}

func (c *conn) setLast(id uint32) {
	c.lastStreamID = id
	c.lastSeen.Store(id)
}
