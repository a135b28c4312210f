package h2

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"portico.dev/portico/internal/proxy/h1"
)

// stream is one request/response exchange.
type stream struct {
	c   *conn
	id  uint32
	req Request

	// Owned by the serve goroutine.
	declared, received int64 // Content-Length (-1: none) and DATA bytes

	remoteDone atomic.Bool // END_STREAM or RST_STREAM received, or the stream was reset
	reset      atomic.Bool // frames may no longer be sent
	recvWin    atomic.Int64
	creditAcc  int64 // under c.creditMu
	body       *pipe // request body (handler path), nil when none
	cancel     context.CancelFunc

	// Under c.w.mu.
	sendWindow int64
	localDone  bool // END_STREAM or RST_STREAM sent
	finalSent  bool // the final HEADERS went out (no 1xx after them)
	counted    bool // in c.nopen (under c.mu)

	// What run does: forward with rt, run the handler with hr, or answer
	// status.
	rt     *h1.Route
	hr     *http.Request
	status int

	x        *h1.Exchange // fast path only
	link     h1.Link      // cancels x's upstream leg when the stream ends early
	trailers []hpack.HeaderField
}

// Request is an HTTP/2 request as the fast path and routing see it. Its
// field names are lower case.
type Request struct {
	method, scheme, authority, target string
	path, query                       string
	fields                            []hpack.HeaderField
	fieldBuf                          [16]hpack.HeaderField // fields' storage unless there are more
	cookie                            string                // cookie fields joined with "; " (RFC 9113 section 8.2.3)
	cookies                           int
	teTrailers                        bool
	idempotencyKey                    bool
	sni                               string
	scratch                           []string
}

// Method, Host (:authority, or the Host field), Path (escaped, in normal
// form), RawQuery and SNI (the TLS server name, "" in cleartext) are what
// routing reads.
func (r *Request) Method() string   { return r.method }
func (r *Request) Host() string     { return r.authority }
func (r *Request) Path() string     { return r.path }
func (r *Request) RawQuery() string { return r.query }
func (r *Request) SNI() string      { return r.sni }

// HeaderValues returns the values of the fields named name (any case), in
// order, the cookie fields as one; the slice is reused by the next call.
func (r *Request) HeaderValues(name string) []string {
	r.scratch = r.scratch[:0]
	if r.cookies > 0 && equalFold(name, "cookie") {
		return append(r.scratch, r.cookie)
	}
	for i := range r.fields {
		if equalFold(r.fields[i].Name, name) {
			r.scratch = append(r.scratch, r.fields[i].Value)
		}
	}
	return r.scratch
}

// onHeaders opens a stream, or takes the trailers of an open one.
func (c *conn) onHeaders(f *headerBlock) error {
	id := f.StreamID
	if id%2 == 0 {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	if s := c.stream(id); s != nil {
		return c.onTrailers(s, f)
	}
	if id <= c.lastStreamID {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	c.setLast(id)
	if f.HasPriority() && f.Priority.StreamDep == id {
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol}
	}
	c.mu.Lock()
	refused := c.closing || c.nopen >= int(c.srv.cfg.MaxConcurrentStreams)
	c.mu.Unlock()
	if refused {
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeRefusedStream}
	}
	s := c.newStream(id)
	if f.truncated {
		// Over the header list limit: answer 431 as the HTTP/1.1 engine
		// does, without reading further.
		if err := c.open(s, f.StreamEnded()); err != nil {
			return err
		}
		s.status = 431
		return c.start(s)
	}
	if err := s.parse(f); err != nil {
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol, Cause: err}
	}
	if c.tls != nil {
		s.req.sni = c.tls.ServerName
	}
	ended := f.StreamEnded()
	if ended && c.srv.router != nil && s.req.fastEligible() {
		if rt := c.srv.router.RouteH2(&s.req); rt != nil {
			if err := c.open(s, ended); err != nil {
				return err
			}
			s.rt = rt
			return c.start(s)
		}
	}
	if !ended {
		s.body = newPipe(s)
	}
	hr, err := s.handlerRequest()
	if err != nil {
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol, Cause: err}
	}
	if err := c.open(s, ended); err != nil {
		s.cancel()
		return err
	}
	s.hr = hr
	return c.start(s)
}

// maxQueued bounds the streams waiting for a goroutine, in multiples of
// MaxConcurrentStreams: beyond it the client is opening and resetting
// streams faster than they can be served (CVE-2023-44487, "rapid reset").
const maxQueued = 4

// start runs s in a goroutine of its own, or queues it while
// MaxConcurrentStreams goroutines already run: streams the client reset
// no longer count toward its limit (RFC 9113 section 5.1.2), but their
// work does until it stops.
func (c *conn) start(s *stream) error {
	limit := int(c.srv.cfg.MaxConcurrentStreams)
	c.mu.Lock()
	if c.running < limit {
		c.running++
		c.mu.Unlock()
		go s.run()
		return nil
	}
	if len(c.queued) >= maxQueued*limit {
		c.mu.Unlock()
		return http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)
	}
	c.queued = append(c.queued, s)
	c.mu.Unlock()
	return nil
}

// run serves s: the fast path, the handler, or a status answer.
func (s *stream) run() {
	switch {
	case s.reset.Load():
		s.c.finish(s) // reset while queued
	case s.rt != nil:
		s.serveFast(s.rt)
	case s.hr != nil:
		s.serveHandler(s.hr)
	default:
		s.serveStatus(s.status, "Request Header Fields Too Large: header list too large\n")
	}
}

// open registers s with its initial windows, or refuses it once a
// graceful GOAWAY is out.
func (c *conn) open(s *stream, ended bool) error {
	s.recvWin.Store(recvWindow)
	s.remoteDone.Store(ended)
	c.w.mu.Lock()
	s.sendWindow = c.w.initWindow
	c.w.mu.Unlock()
	c.mu.Lock()
	if c.closing { // checked again with the insertion: see goAwayGraceful
		c.mu.Unlock()
		return http2.StreamError{StreamID: s.id, Code: http2.ErrCodeRefusedStream}
	}
	c.streams[s.id] = s
	c.nopen++
	s.counted = true
	c.mu.Unlock()
	return nil
}

// uncount takes s out of the open streams, once.
func (c *conn) uncount(s *stream) {
	c.mu.Lock()
	if s.counted {
		s.counted = false
		c.nopen--
	}
	c.mu.Unlock()
}

// onTrailers handles a HEADERS frame on an open stream: the request's
// trailers, which must end it.
func (c *conn) onTrailers(s *stream, f *headerBlock) error {
	if s.remoteDone.Load() {
		c.w.mu.Lock()
		closed := s.localDone
		c.w.mu.Unlock()
		if closed {
			// Closed for the client, though the stream's goroutine has yet
			// to finish: frames after END_STREAM both ways.
			return http2.ConnectionError(http2.ErrCodeStreamClosed)
		}
		return http2.StreamError{StreamID: s.id, Code: http2.ErrCodeStreamClosed}
	}
	if !f.StreamEnded() || f.npseudo > 0 {
		return http2.StreamError{StreamID: s.id, Code: http2.ErrCodeProtocol}
	}
	if s.declared >= 0 && s.received != s.declared {
		return http2.StreamError{StreamID: s.id, Code: http2.ErrCodeProtocol}
	}
	s.remoteDone.Store(true)
	if s.body != nil {
		s.body.closeWithTrailers(append([]hpack.HeaderField(nil), f.regular()...))
	}
	return nil
}

// finish ends s once its goroutine is done: a stream whose answer was not
// completed is reset, and so is one whose request body is still coming
// (NO_ERROR: the answer is complete, the client may stop sending).
func (c *conn) finish(s *stream) {
	if s.cancel != nil {
		s.cancel()
	}
	// localDone is only set by this goroutine: no lock to read it. A
	// stream the client (or a stream error) reset gets no frame more.
	if !s.reset.Load() && (!s.localDone || !s.remoteDone.Load()) {
		w := &c.w
		w.lock()
		if !s.localDone && !s.reset.Load() {
			w.rstLocked(s, http2.ErrCodeInternal)
		} else if !s.remoteDone.Load() && !s.reset.Load() && w.err == nil {
			w.check(c.fr.WriteRSTStream(s.id, http2.ErrCodeNo))
		}
		w.unlock()
	}
	s.reset.Store(true)
	if s.body != nil {
		if n := s.body.closeWithError(errStreamReset); n > 0 {
			c.credit(nil, int64(n))
		}
	}
	c.uncount(s)
	c.mu.Lock()
	delete(c.streams, s.id)
	empty := len(c.streams) == 0
	if empty {
		c.idleAt = time.Now()
	}
	closing := c.closing && empty
	if s.rt != nil && len(c.free) < maxFreeStreams { // fast path only
		c.free = append(c.free, s) // nothing touches s after this: see newStream
	}
	var next *stream
	if len(c.queued) > 0 {
		next = c.queued[0]
		c.queued[0] = nil
		c.queued = c.queued[1:]
	} else {
		c.running--
	}
	c.mu.Unlock()
	if next != nil {
		go next.run() // the goroutine slot passes on
	}
	if closing {
		c.closeWhenAcked()
	}
}

// maxFreeStreams bounds the finished streams a connection keeps.
const maxFreeStreams = 16

// newStream returns a stream for id, reusing one the fast path finished.
// A stream is about 1 KB (its request's field storage): on the fast path
// it was the only sizeable allocation per request, and at 50k requests/s
// it made the collector run every 100 ms. Reuse is safe because only
// this connection's reader takes streams, between frames: a finished
// stream still referenced is referenced by the reader itself, from a
// frame it has handled by then. The handler path's streams are not
// reused: its request and ResponseWriter may be kept past the handler.
func (c *conn) newStream(id uint32) *stream {
	c.mu.Lock()
	var s *stream
	if n := len(c.free); n > 0 {
		s, c.free[n-1], c.free = c.free[n-1], nil, c.free[:n-1]
	}
	c.mu.Unlock()
	if s == nil {
		return &stream{c: c, id: id, declared: -1}
	}
	*s = stream{c: c, id: id, declared: -1}
	return s
}

// abort ends s from the connection's side: the client reset it, a stream
// error reset it, or the connection ended.
func (s *stream) abort(err error) {
	s.reset.Store(true)
	s.remoteDone.Store(true)
	s.c.uncount(s)
	if s.body != nil {
		if n := s.body.closeWithError(err); n > 0 {
			s.c.credit(nil, int64(n))
		}
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.link.Cancel()
	w := &s.c.w
	w.mu.Lock()
	w.cond.Broadcast()
	w.mu.Unlock()
}

// parse fills s.req from the header block, rejecting what RFC 9113
// section 8 calls malformed.
func (s *stream) parse(f *headerBlock) error {
	r := &s.req
	for i, hf := range f.pseudo() {
		for _, prev := range f.fields[:i] {
			if hf.Name == prev.Name {
				return errMalformed("duplicate pseudo-header " + hf.Name)
			}
		}
		switch hf.Name {
		case ":method":
			r.method = hf.Value
		case ":scheme":
			r.scheme = hf.Value
		case ":authority":
			r.authority = hf.Value
		case ":path":
			r.target = hf.Value
		default: // :protocol (extended CONNECT is not offered), :status
			return errMalformed("pseudo-header " + hf.Name + " not allowed in a request")
		}
	}
	if !validToken(r.method) {
		return errMalformed("invalid :method")
	}
	if r.method == "CONNECT" {
		if r.target != "" || r.scheme != "" || r.authority == "" {
			return errMalformed("CONNECT needs :authority only")
		}
	} else if r.target == "" || r.scheme != "http" && r.scheme != "https" {
		return errMalformed("missing or invalid :path or :scheme")
	}
	r.path = r.target
	if i := strings.IndexByte(r.target, '?'); i >= 0 {
		r.path, r.query = r.target[:i], r.target[i+1:]
	}
	r.fields = append(r.fieldBuf[:0], f.regular()...)
	host := ""
	for _, hf := range r.fields {
		switch hf.Name {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			return errMalformed("connection-specific field " + hf.Name)
		case "te":
			if hf.Value != "trailers" {
				return errMalformed(`te other than "trailers"`)
			}
			r.teTrailers = true
		case "content-length":
			n, err := strconv.ParseUint(hf.Value, 10, 63)
			if err != nil || s.declared >= 0 && int64(n) != s.declared {
				return errMalformed("invalid content-length")
			}
			s.declared = int64(n)
		case "cookie":
			if r.cookies++; r.cookies == 1 {
				r.cookie = hf.Value
			} else {
				r.cookie += "; " + hf.Value
			}
		case "host":
			host = hf.Value
		case "idempotency-key", "x-idempotency-key":
			r.idempotencyKey = true
		}
	}
	if r.authority == "" {
		r.authority = host
	}
	if f.StreamEnded() && s.declared > 0 {
		return errMalformed("content-length without a body")
	}
	return nil
}

type errMalformed string

func (e errMalformed) Error() string { return "malformed request: " + string(e) }

// fastEligible reports whether the fast path may forward r as it is: a
// target net/url and httputil.ReverseProxy pass on unchanged, a valid
// authority, no CONNECT. (Bodies are checked by the caller.) It
// normalises the path (h1.NormalizeTarget): a refused one is left to the
// handler path, which answers 400.
func (r *Request) fastEligible() bool {
	if r.method == "CONNECT" || r.authority == "" || !h1.ValidHost(r.authority) || !h1.ValidTarget(r.path, r.query) {
		return false
	}
	var ok bool
	r.path, r.target, ok = h1.NormalizeTarget(r.path, r.target)
	return ok
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tchar[s[i]] {
			return false
		}
	}
	return true
}

var tchar = func() (t [256]bool) {
	for _, c := range "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" {
		t[c] = true
	}
	return t
}()

// equalFold compares ASCII strings case-insensitively.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
