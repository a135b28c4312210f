package h2

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// bufferBeforeCommit is how much body a handler may write before the
// HEADERS go out: a response that ends within it gets a Content-Length and
// leaves in one write (net/http's HTTP/2 server buffers 4 KiB too).
const bufferBeforeCommit = 4 << 10

// responseWriter is the handler path's http.ResponseWriter, with net/http's
// HTTP/2 response semantics: Content-Length for small finished bodies,
// Date, Content-Type sniffing, 1xx, trailers (declared or with
// http.TrailerPrefix), HEAD; http.Flusher and the ResponseController
// methods (deadlines are per connection in HTTP/2: not supported).
type responseWriter struct {
	s      *stream
	req    *http.Request
	isHead bool

	header      http.Header // the handler's
	snapshot    http.Header // taken at WriteHeader
	status      int
	wroteHeader bool
	committed   bool
	ended       bool // END_STREAM sent

	contentLength int64 // declared; -1 none
	written       int64
	pending       []byte
	trailers      []string // declared in "Trailer"
	err           error
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
)

func (w *responseWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 200 {
		if code == http.StatusContinue && w.s.body != nil {
			w.s.body.noExpect()
		}
		if code != http.StatusSwitchingProtocols { // no upgrades in HTTP/2
			w.s.informational(code, w.header)
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
}

func bodyAllowed(code int) bool {
	return !(code >= 100 && code <= 199 || code == 204 || code == 304)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
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
	if !w.committed && len(w.pending)+len(p) <= bufferBeforeCommit {
		w.pending = append(w.pending, p...)
		return len(p), nil
	}
	if !w.committed {
		if err := w.commit(false, p); err != nil {
			return 0, err
		}
	}
	if w.isHead {
		return len(p), nil
	}
	c := &w.s.c.w
	c.lock()
	err := c.dataLocked(w.s, p, false)
	c.unlock()
	if err != nil {
		w.err = err
		return 0, err
	}
	return len(p), nil
}

func (w *responseWriter) WriteString(s string) (int, error) {
	return w.Write([]byte(s))
}

// hasTrailers reports whether the handler declared or set trailers.
func (w *responseWriter) hasTrailers() bool {
	if len(w.trailers) > 0 {
		return true
	}
	for k := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return true
		}
	}
	return false
}

// commit sends the HEADERS and the buffered body. done says the handler
// returned: a buffered body then has its final length. next is the write
// that did not fit the buffer (sniffed when nothing was buffered).
func (w *responseWriter) commit(done bool, next []byte) error {
	w.committed = true
	h := w.snapshot
	for _, v := range h["Trailer"] {
		for _, t := range strings.Split(v, ",") {
			switch t = http.CanonicalHeaderKey(strings.TrimSpace(t)); t {
			case "", "Transfer-Encoding", "Trailer", "Content-Length":
			default:
				w.trailers = append(w.trailers, t)
			}
		}
	}
	trailers := w.hasTrailers()
	allowed := bodyAllowed(w.status)
	var clen, ctype string
	if done && !trailers && allowed && h.Get("Content-Length") == "" && (!w.isHead || len(w.pending) > 0) {
		clen = strconv.Itoa(len(w.pending))
	}
	if sniff := w.pending; len(sniff) > 0 || len(next) > 0 {
		if len(sniff) == 0 {
			sniff = next
		}
		if _, ok := h["Content-Type"]; !ok && allowed && h.Get("Content-Encoding") == "" {
			ctype = http.DetectContentType(sniff)
		}
	}
	if w.s.body != nil {
		w.s.body.noExpect()
	}
	end := done && !trailers && (len(w.pending) == 0 || w.isHead)
	c := &w.s.c.w
	c.lock()
	defer c.unlock()
	c.beginHeaders(w.status)
	for k, vs := range h {
		if !responseField(k, allowed, w.status) {
			continue
		}
		for _, v := range vs {
			if httpguts.ValidHeaderFieldValue(v) {
				c.field(k, v)
			}
		}
	}
	if clen != "" {
		c.field("content-length", clen)
	}
	if ctype != "" {
		c.field("content-type", ctype)
	}
	if _, ok := h["Date"]; !ok {
		c.field("date", httpDate())
	}
	w.s.finalSent = true
	err := c.headersLocked(w.s, end)
	if err == nil && len(w.pending) > 0 && !w.isHead {
		err = c.dataLocked(w.s, w.pending, done && !trailers)
	}
	w.pending = nil
	w.ended = err == nil && done && !trailers
	if err != nil {
		w.err = err
	}
	return err
}

// responseField reports whether a handler's header field goes into the
// HTTP/2 response: not connection-specific, not a trailer, a valid name,
// no length on a response without body, no type on a 304.
func responseField(k string, bodyAllowed bool, status int) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade":
		return false
	case "Content-Length":
		return bodyAllowed
	case "Content-Type":
		return status != 304
	}
	return !strings.HasPrefix(k, http.TrailerPrefix) && httpguts.ValidHeaderFieldName(k)
}

// finish ends the response after the handler returned: HEADERS if still
// due, then END_STREAM on an empty DATA frame or on the trailers.
func (w *responseWriter) finish() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		if w.commit(true, nil) != nil {
			return
		}
	}
	if w.ended || w.err != nil {
		return
	}
	c := &w.s.c.w
	c.lock()
	defer c.unlock()
	if !w.hasTrailers() {
		_ = c.dataLocked(w.s, nil, true)
		return
	}
	c.beginHeaders(0)
	for _, k := range w.trailers {
		for _, v := range w.header[k] {
			if httpguts.ValidHeaderFieldValue(v) {
				c.field(k, v)
			}
		}
	}
	for k, vs := range w.header {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok && httpguts.ValidHeaderFieldName(name) {
			for _, v := range vs {
				if httpguts.ValidHeaderFieldValue(v) {
					c.field(name, v)
				}
			}
		}
	}
	_ = c.headersLocked(w.s, true)
}

// Flush sends what was written so far.
func (w *responseWriter) Flush() { _ = w.FlushError() }

func (w *responseWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		if err := w.commit(false, nil); err != nil {
			return err
		}
	}
	c := &w.s.c.w
	c.lock()
	c.unlock()
	return w.err
}

// The http.ResponseController methods: deadlines belong to the
// connection, shared by every stream.
func (w *responseWriter) SetReadDeadline(time.Time) error  { return http.ErrNotSupported }
func (w *responseWriter) SetWriteDeadline(time.Time) error { return http.ErrNotSupported }
func (w *responseWriter) EnableFullDuplex() error          { return nil }

// informational sends a 1xx answer with the handler's header fields.
func (s *stream) informational(code int, h http.Header) {
	w := &s.c.w
	w.lock()
	defer w.unlock()
	if s.finalSent {
		return
	}
	w.beginHeaders(code)
	for k, vs := range h {
		if !responseField(k, false, code) {
			continue
		}
		for _, v := range vs {
			if httpguts.ValidHeaderFieldValue(v) {
				w.field(k, v)
			}
		}
	}
	_ = w.headersLocked(s, false)
}
