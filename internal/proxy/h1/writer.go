package h1

import (
	"bufio"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// bufferBeforeChunking is how much body a handler may write before the
// head goes out: a response that ends within it gets a Content-Length
// (net/http's bufferBeforeChunkingSize).
const bufferBeforeChunking = 2048

// responseWriter is the fallback path's http.ResponseWriter: net/http's
// HTTP/1.x response semantics (Content-Length for small finished bodies,
// chunking otherwise, Date, Content-Type sniffing, 1xx, trailers, HEAD,
// Connection handling), Flusher, Hijacker and the ResponseController
// methods.
type responseWriter struct {
	c      *conn
	req    *http.Request
	minor  int
	isHead bool
	body   *body

	header      http.Header // the handler's
	snapshot    http.Header // taken at WriteHeader
	status      int
	wroteHeader bool
	committed   bool // the head is written (to c.out)
	chunking    bool
	noBody      bool // status or method has no body

	contentLength int64 // declared or computed; -1 unknown
	written       int64
	pending       []byte // body written before the head was committed
	closeAfter    bool
	hijacked      bool
	trailers      []string // declared in "Trailer"
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
	_ http.Hijacker       = (*responseWriter)(nil)
)

func (w *responseWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

func (w *responseWriter) WriteHeader(code int) {
	if w.hijacked {
		w.c.srv.log.Debug("response.WriteHeader on hijacked connection")
		return
	}
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		// Informational: out at once, the handler's header with it.
		if w.minor == 0 {
			return
		}
		c := w.c
		c.wmu.Lock()
		defer c.wmu.Unlock()
		b := appendStatusLine(c.out[:0], 1, code)
		b = appendHeader(b, w.header, excludeNoBody)
		c.out = append(b, "\r\n"...)
		_ = c.flush()
		if code == http.StatusContinue && w.body != nil {
			w.body.mu.Lock()
			w.body.expect = false
			w.body.mu.Unlock()
		}
		return
	}
	w.wroteHeader = true
	w.status = code
	w.snapshot = w.header.Clone()
	if w.snapshot == nil {
		w.snapshot = http.Header{}
	}
	if cl := w.snapshot.Get("Content-Length"); cl != "" {
		if v, err := strconv.ParseInt(cl, 10, 64); err == nil && v >= 0 {
			w.contentLength = v
		} else {
			w.snapshot.Del("Content-Length")
		}
	}
	w.noBody = w.isHead || !bodyAllowed(code)
}

func bodyAllowed(code int) bool {
	return !(code >= 100 && code <= 199 || code == 204 || code == 304)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.contentLength != -1 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	if !w.committed {
		if len(w.pending)+len(p) <= bufferBeforeChunking {
			w.pending = append(w.pending, p...)
			return len(p), nil
		}
		if err := w.commit(false); err != nil {
			return 0, err
		}
	}
	if err := w.bodyOut(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *responseWriter) WriteString(s string) (int, error) {
	return w.Write([]byte(s))
}

// bodyOut sends body bytes after the head, chunked if need be.
func (w *responseWriter) bodyOut(p []byte) error {
	if w.isHead || len(p) == 0 {
		return nil
	}
	c := w.c
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if w.chunking {
		c.out = appendChunkHeader(c.out, len(p))
	}
	if err := c.emit(p); err != nil {
		return err
	}
	if w.chunking {
		c.out = append(c.out, "\r\n"...)
	}
	if len(c.out) >= 4<<10 {
		return c.flush()
	}
	return nil
}

// commit writes the head (to the output buffer), deciding the framing as
// net/http's chunkWriter.writeHeader does. done says the handler returned,
// so a buffered body has its final length.
func (w *responseWriter) commit(done bool) error {
	w.committed = true
	h := w.snapshot
	excluded := map[string]bool{}
	trailers := false
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			excluded[k] = true
			trailers = true
		}
	}
	for _, v := range h["Trailer"] {
		trailers = true
		for _, t := range strings.Split(v, ",") {
			if t = http.CanonicalHeaderKey(strings.TrimSpace(t)); t != "" {
				switch t {
				case "Transfer-Encoding", "Trailer", "Content-Length":
				default:
					w.trailers = append(w.trailers, t)
				}
			}
		}
	}
	te := h.Get("Transfer-Encoding")
	hasTE := te != ""
	var extra []byte
	if done && !trailers && !hasTE && bodyAllowed(w.status) && h.Get("Content-Length") == "" && (!w.isHead || len(w.pending) > 0) {
		w.contentLength = int64(len(w.pending))
		extra = appendContentLength(extra, w.contentLength)
	}
	keepAlive10 := w.minor == 0 && !w.closeAfter
	hasCL := w.contentLength != -1
	if keepAlive10 && (w.isHead || hasCL || !bodyAllowed(w.status)) {
		if _, ok := h["Connection"]; !ok {
			extra = append(extra, "Connection: keep-alive\r\n"...)
		}
	} else if w.minor == 0 {
		w.closeAfter = true
	}
	if strings.EqualFold(h.Get("Connection"), "close") || w.c.srv.shutdown.Load() {
		w.closeAfter = true
	}
	// A body the handler did not read: discard a little, else close.
	if b := w.body; b != nil && !w.closeAfter && b.remains() {
		b.mu.Lock()
		closed := b.closed
		b.mu.Unlock()
		if closed || !b.discard(maxPostHandlerRead) {
			w.closeAfter = true
		}
	}
	if bodyAllowed(w.status) {
		_, haveType := h["Content-Type"]
		if !haveType && h.Get("Content-Encoding") == "" && !hasTE && len(w.pending) > 0 {
			extra = appendField(extra, "Content-Type", http.DetectContentType(w.pending))
		}
	} else {
		excluded["Content-Length"], excluded["Transfer-Encoding"] = true, true
		if w.status == 304 {
			excluded["Content-Type"] = true
		}
	}
	if _, ok := h["Date"]; !ok {
		extra = appendDate(extra)
	}
	if hasCL && hasTE && te != "identity" {
		excluded["Content-Length"] = true
		hasCL = false
	}
	switch {
	case w.isHead || !bodyAllowed(w.status):
		excluded["Transfer-Encoding"] = true
	case hasCL:
		excluded["Transfer-Encoding"] = true
	case w.minor == 1:
		if te == "identity" {
			w.closeAfter = true
		} else {
			w.chunking = true
			extra = append(extra, "Transfer-Encoding: chunked\r\n"...)
		}
		excluded["Transfer-Encoding"] = true
	default:
		w.closeAfter = true
		excluded["Transfer-Encoding"] = true
	}
	if w.chunking {
		excluded["Content-Length"] = true
	}
	if w.closeAfter && !(w.status == http.StatusSwitchingProtocols && h.Get("Upgrade") != "") {
		excluded["Connection"] = true
		if w.minor == 1 {
			extra = append(extra, "Connection: close\r\n"...)
		}
	}
	c := w.c
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := appendStatusLine(c.out[:0], w.minor, w.status)
	b = appendHeader(b, h, excluded)
	b = append(b, extra...)
	c.out = append(b, "\r\n"...)
	c.headSent = true
	pending := w.pending
	w.pending = nil
	if len(pending) > 0 && !w.isHead {
		if w.chunking {
			c.out = appendChunkHeader(c.out, len(pending))
		}
		c.out = append(c.out, pending...)
		if w.chunking {
			c.out = append(c.out, "\r\n"...)
		}
	}
	return nil
}

var excludeNoBody = map[string]bool{"Content-Length": true, "Transfer-Encoding": true}

// appendHeader writes h sorted by name, as http.Header.Write does: names
// that are not tokens are skipped, line breaks in values become spaces.
func appendHeader(b []byte, h http.Header, excluded map[string]bool) []byte {
	keys := make([]string, 0, len(h))
	for k := range h {
		if !excluded[k] && httpguts.ValidHeaderFieldName(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			v = strings.TrimSpace(strings.Map(func(r rune) rune {
				if r == '\r' || r == '\n' {
					return ' '
				}
				return r
			}, v))
			b = appendField(b, k, v)
		}
	}
	return b
}

// finish ends the response after the handler returned.
func (w *responseWriter) finish() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		if err := w.commit(true); err != nil {
			return err
		}
	}
	c := w.c
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if w.chunking {
		c.out = append(c.out, "0\r\n"...)
		for _, k := range w.trailers {
			for _, v := range w.header[k] {
				c.out = appendField(c.out, k, v)
			}
		}
		for k, vs := range w.header {
			if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok && httpguts.ValidHeaderFieldName(name) {
				for _, v := range vs {
					c.out = appendField(c.out, name, v)
				}
			}
		}
		c.out = append(c.out, "\r\n"...)
	}
	if !w.isHead && w.contentLength != -1 && bodyAllowed(w.status) && w.contentLength != w.written {
		w.closeAfter = true // the client would wait for the rest
	}
	if b := w.body; b != nil && !w.closeAfter && !b.discard(maxPostHandlerRead) {
		w.closeAfter = true
	}
	return c.flush()
}

// Flush sends what was written so far (the head with an unknown length
// commits to chunking).
func (w *responseWriter) Flush() { _ = w.FlushError() }

func (w *responseWriter) FlushError() error {
	if w.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		if err := w.commit(false); err != nil {
			return err
		}
	}
	w.c.wmu.Lock()
	defer w.c.wmu.Unlock()
	return w.c.flush()
}

// Hijack hands the connection to the handler. Bytes the server already
// read beyond the request come first on the returned connection.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	c := w.c
	if w.committed {
		c.wmu.Lock()
		err := c.flush()
		c.wmu.Unlock()
		if err != nil {
			return nil, nil, err
		}
	}
	if w.body != nil {
		w.body.Close()
	}
	w.hijacked = true
	c.srv.track(c, false)
	_ = c.nc.SetDeadline(time.Time{})
	nc := net.Conn(c.nc)
	if c.r < c.w {
		nc = &prefixConn{Conn: c.nc, prefix: append([]byte(nil), c.buf[c.r:c.w]...)}
	}
	return nc, bufio.NewReadWriter(bufio.NewReader(nc), bufio.NewWriter(nc)), nil
}

// The http.ResponseController methods.

func (w *responseWriter) SetReadDeadline(t time.Time) error  { return w.c.nc.SetReadDeadline(t) }
func (w *responseWriter) SetWriteDeadline(t time.Time) error { return w.c.nc.SetWriteDeadline(t) }
func (w *responseWriter) EnableFullDuplex() error            { return nil }
