package h1

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// fallback serves c.req with the http.Handler: it builds an *http.Request
// (body streamed from the connection) and a ResponseWriter that writes
// HTTP/1.1 as net/http's server does. It reports whether the connection
// stays open, and whether the handler took it over (Hijack).
func (c *conn) fallback() (keep, hijacked bool) {
	hr, err := c.httpRequest()
	if err != nil {
		c.writeError(http.StatusBadRequest, err.Error())
		return false, false
	}
	_ = c.nc.SetReadDeadline(time.Time{})
	c.headSent = false
	w := &responseWriter{c: c, req: hr, minor: hr.ProtoMinor, isHead: hr.Method == "HEAD", contentLength: -1, closeAfter: hr.Close}
	if b, ok := hr.Body.(*body); ok {
		w.body = b
	}
	ctx, cancel := context.WithCancel(hr.Context())
	hr = hr.WithContext(ctx)
	// The context ends when the client goes away (the readiness hook),
	// as net/http's does: the upstream call is then cancelled.
	c.setCancel(cancel)
	aborted := c.runHandler(w, hr)
	c.setCancel(nil)
	cancel()
	if w.hijacked {
		return false, true
	}
	keep = !aborted && w.finish() == nil && !w.closeAfter && !c.srv.shutdown.Load()
	if w.body != nil {
		// A reader still running (an http.Transport writing the body) must
		// be done with the buffer before the next request uses it.
		if !keep {
			c.nc.Close()
		}
		w.body.Close()
	}
	return keep, false
}

// runHandler calls the handler, recovering a panic (the connection is then
// closed, as net/http does; http.ErrAbortHandler silently).
func (c *conn) runHandler(w *responseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if v := recover(); v != nil {
			aborted = true
			if v != http.ErrAbortHandler {
				c.srv.log.Error("panic serving request", "remote", c.remoteAddr, "url", r.URL.String(), "panic", v, "stack", string(debug.Stack()))
			}
		}
	}()
	c.srv.handler.ServeHTTP(w, r)
	return false
}

var errBadURI = errors.New("invalid request target")

// httpRequest builds the *http.Request of c.req, as net/http's server
// would, and consumes its head from the buffer (its body follows).
func (c *conn) httpRequest() (*http.Request, error) {
	req := &c.req
	// Every string of the request is a copy: the handler may hand the
	// request to goroutines that outlive it (mirrors), while c.req views
	// the connection buffer the next request overwrites.
	target := strings.Clone(req.target)
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, errBadURI
	}
	hr := &http.Request{
		Method:     strings.Clone(req.method),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: req.minor,
		Header:     make(http.Header, len(req.fields)),
		RequestURI: target,
		RemoteAddr: c.remoteAddr,
		TLS:        c.tls,
		Close:      req.close,
		Host:       u.Host,
	}
	if req.minor == 0 {
		hr.Proto = "HTTP/1.0"
	}
	for _, f := range req.fields {
		k := textproto.CanonicalMIMEHeaderKey(f.name)
		if k == "Host" {
			continue
		}
		vs, ok := hr.Header[k]
		if !ok {
			k = strings.Clone(k) // a name already canonical comes back as is
		}
		hr.Header[k] = append(vs, strings.Clone(f.value))
	}
	if hr.Host == "" {
		hr.Host = strings.Clone(req.host)
	}
	c.r += req.headLen
	switch {
	case req.chunked:
		hr.ContentLength = -1
		hr.TransferEncoding = []string{"chunked"}
		hr.Body = &body{c: c, chunked: true, expect: req.expect100 && req.minor == 1}
	case req.contentLength > 0:
		hr.ContentLength = req.contentLength
		hr.Body = &body{c: c, left: req.contentLength, expect: req.expect100 && req.minor == 1}
	default:
		hr.Body = http.NoBody
	}
	ctx := context.WithValue(c.srv.cfg.BaseContext, http.ServerContextKey, c.srv.base)
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, c.nc.LocalAddr())
	return hr.WithContext(ctx), nil
}

// maxPostHandlerRead is how much of a body the handler left unread is
// discarded to keep the connection (net/http's maxPostHandlerReadBytes).
const maxPostHandlerRead = 256 << 10

// body is a fallback request's body, read from the connection buffer.
// Reads may come from another goroutine (http.Transport's writer): the
// mutex keeps them off the buffer once the request is finished.
type body struct {
	c       *conn
	mu      sync.Mutex
	chunked bool
	dec     chunked
	left    int64 // Content-Length bytes left
	eof     bool
	closed  bool // by the handler, or finished
	err     error
	expect  bool // "100 Continue" is due before the first read
}

var continueLine = []byte("HTTP/1.1 100 Continue\r\n\r\n")

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.readLocked(p)
}

func (b *body) readLocked(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	c := b.c
	if b.expect {
		b.expect = false
		c.wmu.Lock()
		if !c.headSent {
			if _, err := c.nc.Write(continueLine); err != nil {
				c.wmu.Unlock()
				b.err = err
				return 0, err
			}
		}
		c.wmu.Unlock()
	}
	if !b.chunked {
		if c.r == c.w {
			if err := b.fill(); err != nil {
				return 0, err
			}
		}
		n := copy(p[:min(int64(len(p)), b.left)], c.buf[c.r:c.w])
		c.r += n
		b.left -= int64(n)
		if b.left == 0 {
			b.eof = true
			return n, io.EOF
		}
		return n, nil
	}
	for {
		kind, piece, n, err := b.dec.next(c.buf[c.r:c.w])
		if err != nil {
			b.err = err
			return 0, err
		}
		if kind == pData {
			k := copy(p, piece)
			c.r += n - (len(piece) - k)
			if k < len(piece) {
				// Give back what did not fit.
				b.dec.left += int64(len(piece) - k)
				b.dec.state = chData
			}
			return k, nil
		}
		c.r += n
		switch kind {
		case pDone:
			b.eof = true
			return 0, io.EOF
		case pMore:
			if err := b.fill(); err != nil {
				return 0, err
			}
		}
	}
}

// fill reads more of the body into the buffer, keeping a partial chunk
// line.
func (b *body) fill() error {
	c := b.c
	if c.r == c.w {
		c.r, c.w = 0, 0
	} else if c.r > 0 {
		n := copy(c.buf, c.buf[c.r:c.w])
		c.r, c.w = 0, n
	}
	if c.w == len(c.buf) {
		c.grow(2 * len(c.buf))
	}
	n, err := c.read()
	if n > 0 {
		return nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	b.err = err
	return err
}

func (b *body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// remains reports whether body bytes were left unread.
func (b *body) remains() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.eof
}

// discard reads and drops the rest of the body, up to limit bytes, and
// reports whether it reached its end; it then closes the body so that no
// late reader touches the buffer.
func (b *body) discard(limit int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer func() { b.closed = true }()
	if b.eof {
		return true
	}
	if b.expect || b.err != nil {
		return false // the client waits for 100 Continue: it never came
	}
	var scratch [4 << 10]byte
	for limit > 0 {
		n, err := b.readLocked(scratch[:min(int64(len(scratch)), limit)])
		limit -= int64(n)
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}
