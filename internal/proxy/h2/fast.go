package h2

import (
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"portico.dev/portico/internal/proxy/h1"
)

// headBufs recycles upstream request heads, exchanges the upstream
// exchanges (their parsed response heads keep their capacity).
var (
	headBufs  = sync.Pool{New: func() any { b := make([]byte, 0, 2<<10); return &b }}
	exchanges = sync.Pool{New: func() any { return new(h1.Exchange) }}
)

// serveFast forwards a bodyless request with the HTTP/1.1 engine's
// upstream client and relays the answer as HEADERS and DATA frames.
func (s *stream) serveFast(rt *h1.Route) {
	c := s.c
	defer c.finish(s)
	p := rt.Pick()
	attempt, request := rt.Deadlines()
	hb := headBufs.Get().(*[]byte)
	head := s.upstreamHead((*hb)[:0], p)
	retry := h1.Idempotent(s.req.method) || s.req.idempotencyKey
	s.x = exchanges.Get().(*h1.Exchange)
	defer func() {
		s.x.Release()
		exchanges.Put(s.x)
		s.x = nil
	}()
	fail := s.x.Do(p, s.req.method, head, nil, attempt, request, retry, &s.link, c.srv.log)
	*hb = head
	headBufs.Put(hb)
	if fail != nil {
		if fail.Status != 0 { // 0: the stream or its connection ended
			s.answer(p.ResponseEdits(), fail.Status, fail.Body)
		}
		return
	}
	s.relay(p.ResponseEdits())
}

// relay sends the upstream's answer. The lock is held across pieces that
// are already buffered, so a small answer leaves as HEADERS and DATA in
// one write. The upstream connection goes back to its pool once its last
// byte is copied out, before the unlock sends the end of the stream: the
// client's next request, on another stream, then finds it idle rather
// than dialing a second one.
func (s *stream) relay(edits *h1.Edits) {
	c, x, w := s.c, s.x, &s.c.w
	w.lock()
	s.responseHeaders(edits)
	done := x.Done()
	if done {
		x.Release() // see below
	}
	if err := w.headersLocked(s, done); err != nil || done {
		w.unlock()
		return
	}
	locked := true
	for {
		if locked && !x.Buffered() {
			w.unlock()
			locked = false
		}
		data, name, value, err := x.Next()
		if !locked {
			w.lock()
			locked = true
		}
		switch {
		case err == io.EOF:
			x.Release()
			if len(s.trailers) > 0 {
				w.beginHeaders(0)
				for _, f := range s.trailers {
					w.field(f.Name, f.Value)
				}
				_ = w.headersLocked(s, true)
			} else {
				_ = w.dataLocked(s, nil, true)
			}
			w.unlock()
			return
		case err != nil:
			c.srv.log.Debug("relaying response body failed", "err", err)
			w.rstLocked(s, http2.ErrCodeInternal)
			w.unlock()
			return
		case name != "":
			s.trailers = append(s.trailers, hpack.HeaderField{Name: strings.Clone(name), Value: strings.Clone(value)})
		default:
			end := x.Done() && !x.Chunked()
			err := w.dataLocked(s, data, end) // data is copied or written out
			if end {
				x.Release()
			}
			if err != nil || end {
				w.unlock()
				return
			}
		}
	}
}

// responseHeaders encodes the upstream's response head (hop-by-hop fields
// dropped, the backend's edits applied) into the writer's header block.
func (s *stream) responseHeaders(edits *h1.Edits) {
	x, w := s.x, &s.c.w
	status := x.Status()
	w.beginHeaders(status)
	hasDate := false
	for i, n := 0, x.NumFields(); i < n; i++ {
		name, value, hop := x.Field(i)
		if hop && !(x.Chunked() && equalFold(name, "trailer")) {
			continue
		}
		switch len(name) {
		case 4:
			hasDate = hasDate || equalFold(name, "date")
		case 12:
			if status == 304 && equalFold(name, "content-type") {
				continue
			}
		case 14:
			if (status == 304 || status == 204) && equalFold(name, "content-length") {
				continue
			}
		}
		if edits.Drops(name) {
			continue
		}
		w.field(name, value)
	}
	for i, n := 0, edits.Len(); i < n; i++ {
		w.field(edits.At(i))
	}
	if !hasDate {
		w.field("date", httpDate())
	}
}

// answer sends one of the fast path's own answers (502, 504) with the
// backend's response header edits, as the filter would apply them.
func (s *stream) answer(edits *h1.Edits, status int, body string) {
	w := &s.c.w
	w.lock()
	defer w.unlock()
	w.beginHeaders(status)
	if !edits.Drops("content-type") {
		w.field("content-type", "text/plain; charset=utf-8")
	}
	for i, n := 0, edits.Len(); i < n; i++ {
		w.field(edits.At(i))
	}
	w.field("date", httpDate())
	w.field("content-length", strconv.Itoa(len(body)))
	if s.req.method == "HEAD" {
		_ = w.headersLocked(s, true)
		return
	}
	if w.headersLocked(s, false) == nil {
		_ = w.dataLocked(s, unsafe.Slice(unsafe.StringData(body), len(body)), true)
	}
}

// serveStatus answers status with a plain-text body (431 for a header
// list over the limit).
func (s *stream) serveStatus(status int, body string) {
	defer s.c.finish(s)
	s.answer(nil, status, body)
}

// upstreamHead builds the HTTP/1.1 request head for the upstream, as
// httputil.ReverseProxy with Portico's Rewrite would: Host from
// :authority, cookies joined, X-Forwarded-* set (For appended to the
// client's), the backend's header edits applied.
func (s *stream) upstreamHead(b []byte, p h1.Pick) []byte {
	r := &s.req
	edits := p.RequestEdits()
	b = append(b, r.method...)
	b = append(b, ' ')
	b = append(b, r.target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, r.authority...)
	b = append(b, "\r\n"...)
	xff := 0
	for i := range r.fields {
		f := &r.fields[i]
		if f.Name == "cookie" || h1.SkipRequestField(f.Name) || edits.Drops(f.Name) {
			if f.Name == "x-forwarded-for" {
				xff++
			}
			continue
		}
		b = appendField(b, f.Name, f.Value)
	}
	if r.cookies > 0 && !edits.Drops("cookie") {
		b = appendField(b, "cookie", r.cookie)
	}
	for i, n := 0, edits.Len(); i < n; i++ {
		name, value := edits.At(i)
		b = appendField(b, name, value)
	}
	if r.teTrailers {
		b = append(b, "Te: trailers\r\n"...)
	}
	if ip := s.c.clientIP; ip != "" {
		b = append(b, "X-Forwarded-For: "...)
		if xff > 0 {
			for i := range r.fields {
				if r.fields[i].Name == "x-forwarded-for" {
					b = append(b, r.fields[i].Value...)
					b = append(b, ", "...)
				}
			}
		}
		b = append(b, ip...)
		b = append(b, "\r\n"...)
	}
	b = appendField(b, "X-Forwarded-Host", r.authority)
	b = appendField(b, "X-Forwarded-Proto", s.c.proto)
	switch r.method {
	case "POST", "PUT", "PATCH":
		b = append(b, "Content-Length: 0\r\n"...)
	}
	return append(b, "\r\n"...)
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// httpDate is the Date value for the current second, cached.
func httpDate() string {
	now := time.Now()
	d := dateCache.Load()
	if d == nil || d.unix != now.Unix() {
		d = &cachedDate{unix: now.Unix(), s: now.UTC().Format(http1TimeFormat)}
		dateCache.Store(d)
	}
	return d.s
}

const http1TimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

type cachedDate struct {
	unix int64
	s    string
}

var dateCache atomic.Pointer[cachedDate]

// statusString is the decimal form of a status code, without allocating
// for the usual ones.
func statusString(code int) string {
	if code >= 100 && code < 600 {
		return statusStrings[code]
	}
	return strconv.Itoa(code)
}

var statusStrings = func() (t [600]string) {
	for i := 100; i < 600; i++ {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// b2s views b as a string without copying; the string is only valid until
// b is overwritten.
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
