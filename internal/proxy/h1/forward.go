package h1

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"time"
)

// The answers the fast path generates itself, as package backend words
// them.
const (
	bodyConnect   = "upstream connect error\n"
	bodyUpstream  = "upstream request timeout\n"
	bodyRequestTO = "request timeout\n"
)

// forward serves c.req on the fast path: rt's backend is sent the request
// (head and body in one write) on a pooled keep-alive connection, and its
// answer is relayed in this goroutine. It reports whether the client
// connection stays open.
func (c *conn) forward(rt *Route) bool {
	req := &c.req
	headLen := req.headLen
	var body []byte
	if n := req.contentLength; n > 0 {
		var ok bool
		if body, ok = c.readBody(int(n)); !ok {
			return false
		}
	}
	p := rt.pick()
	be := p.be
	deadline, reqDeadline := rt.Deadlines()
	c.up = c.upstreamHead(c.up[:0], be, len(body))
	uc, fail := roundTrip(p, c.up, body, deadline, reqDeadline, idempotent(req), &c.resp, c, &c.link, c.srv.log)
	if fail != nil {
		if fail.status == 0 {
			return false
		}
		return c.answer(be, *fail)
	}
	keep, upOK := c.relay(uc, be)
	if c.link.detach() && upOK && !uc.broken && !c.resp.close {
		uc.ep.put(uc)
	} else {
		uc.close()
	}
	c.r += headLen + len(body)
	return keep && !req.close
}

// readBody returns the n-byte body following the head, reading what is
// missing. Views of the head stay valid: the buffer is never compacted,
// only replaced by a larger copy.
func (c *conn) readBody(n int) ([]byte, bool) {
	start := c.r + c.req.headLen
	if c.w-start < n {
		if c.req.expect100 && c.req.minor == 1 {
			if _, err := c.nc.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n")); err != nil {
				return nil, false
			}
		}
		if len(c.buf) < start+n {
			c.grow(start + n)
		}
		_ = c.nc.SetReadDeadline(time.Time{})
		for c.w-start < n {
			k, err := c.read()
			if err != nil && k == 0 {
				return nil, false
			}
		}
	}
	return c.buf[start : start+n], true
}

// idempotent reports whether a request may be sent again after a reused
// connection failed without an answer (http.Transport's rule).
func idempotent(r *Request) bool {
	switch r.method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	for i := range r.fields {
		if asciiEqualFold(r.fields[i].name, "idempotency-key") || asciiEqualFold(r.fields[i].name, "x-idempotency-key") {
			return true
		}
	}
	return false
}

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// failure picks the answer to a failed exchange: 504 when a timeout
// expired (which one says the body), else 502.
type failureAnswer struct {
	status int
	body   string
}

var (
	badGateway   = failureAnswer{502, bodyConnect}
	upstreamTO   = failureAnswer{504, bodyUpstream}
	requestTO    = failureAnswer{504, bodyRequestTO}
	clientGone   = failureAnswer{} // no answer: nobody to give it to
	errUpstream1 = errors.New("unexpected informational response from upstream")
)

func failure(err error, reqDeadline time.Time) failureAnswer {
	var ne net.Error
	if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		if !reqDeadline.IsZero() && !time.Now().Before(reqDeadline) {
			return requestTO
		}
		return upstreamTO
	}
	return badGateway
}

// upstreamHead builds the request head for the upstream, as
// httputil.ReverseProxy with Portico's Rewrite would: HTTP/1.1, hop-by-hop
// fields removed (those listed in Connection too), X-Forwarded-* set
// (For appended to the client's), header modifiers applied.
func (c *conn) upstreamHead(b []byte, be *routeBackend, bodyLen int) []byte {
	req := &c.req
	b = append(b, req.method...)
	b = append(b, ' ')
	b = append(b, req.target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, req.host...)
	b = append(b, "\r\n"...)
	for i := range req.fields {
		f := &req.fields[i]
		if skipRequestField(f.name) {
			continue
		}
		if len(req.connection) > 0 && connectionListed(req.connection, f.name) {
			continue
		}
		if be.req.drops(f.name) {
			continue
		}
		b = appendField(b, f.name, f.value)
	}
	if be.req != nil {
		for _, f := range be.req.append {
			b = appendField(b, f.name, f.value)
		}
	}
	if req.teTrailers {
		b = append(b, "Te: trailers\r\n"...)
	}
	if c.clientIP != "" {
		b = append(b, "X-Forwarded-For: "...)
		if req.xffCount > 0 {
			for i := range req.fields {
				if len(req.fields[i].name) == 15 && equalFold(req.fields[i].name, "x-forwarded-for") {
					b = append(b, req.fields[i].value...)
					b = append(b, ", "...)
				}
			}
		}
		b = append(b, c.clientIP...)
		b = append(b, "\r\n"...)
	}
	b = appendField(b, "X-Forwarded-Host", req.host)
	b = appendField(b, "X-Forwarded-Proto", c.proto)
	switch {
	case bodyLen > 0:
		b = appendContentLength(b, int64(bodyLen))
	case req.method == "POST" || req.method == "PUT" || req.method == "PATCH":
		b = append(b, "Content-Length: 0\r\n"...)
	}
	return append(b, "\r\n"...)
}

// skipRequestField reports whether the fast path drops a client field:
// Host (written first), framing (rewritten), hop-by-hop fields, Expect
// (answered here) and the forwarding fields it sets itself.
func skipRequestField(name string) bool {
	switch len(name) {
	case 2:
		return equalFold(name, "te")
	case 4:
		return equalFold(name, "host")
	case 6:
		return equalFold(name, "expect")
	case 7:
		return equalFold(name, "upgrade") || equalFold(name, "trailer")
	case 9:
		return equalFold(name, "forwarded")
	case 10:
		return equalFold(name, "connection") || equalFold(name, "keep-alive")
	case 14:
		return equalFold(name, "content-length")
	case 15:
		return equalFold(name, "x-forwarded-for")
	case 16:
		return equalFold(name, "proxy-connection") || equalFold(name, "x-forwarded-host")
	case 17:
		return equalFold(name, "transfer-encoding") || equalFold(name, "x-forwarded-proto")
	case 18:
		return equalFold(name, "proxy-authenticate")
	case 19:
		return equalFold(name, "proxy-authorization")
	}
	return false
}

// skipResponseField reports whether a field of the upstream's response
// is hop-by-hop (Trailer is kept by the caller when it relays trailers).
func skipResponseField(name string) bool {
	switch len(name) {
	case 2:
		return equalFold(name, "te")
	case 7:
		return equalFold(name, "upgrade") || equalFold(name, "trailer")
	case 10:
		return equalFold(name, "connection") || equalFold(name, "keep-alive")
	case 16:
		return equalFold(name, "proxy-connection")
	case 17:
		return equalFold(name, "transfer-encoding")
	case 18:
		return equalFold(name, "proxy-authenticate")
	case 19:
		return equalFold(name, "proxy-authorization")
	}
	return false
}

// send writes the request head and body, in one write when the body is
// small, else with writev.
func (uc *upConn) send(head, body []byte) error {
	if len(body) == 0 {
		_, err := uc.nc.Write(head)
		return err
	}
	if len(body) <= maxDirectAppend {
		head = append(head, body...)
		_, err := uc.nc.Write(head)
		return err
	}
	v := net.Buffers{head, body}
	_, err := v.WriteTo(uc.nc)
	return err
}

// informational handles 1xx answers before the final one: 100 Continue is
// dropped (the fast path never sends Expect upstream), 101 is an error (it
// never asks for an upgrade), others (103 Early Hints) go to HTTP/1.1
// clients as they come, at most five.
func (c *conn) informational(uc *upConn, got *bool) error {
	for n := 0; c.resp.status < 200; n++ {
		if c.resp.status == 101 || n == 5 {
			return errUpstream1
		}
		if c.resp.status != 100 && c.req.minor == 1 {
			c.out = appendStatusLine(c.out[:0], 1, c.resp.status)
			for _, f := range c.resp.fields {
				c.out = appendField(c.out, f.name, f.value)
			}
			c.out = append(c.out, "\r\n"...)
			if err := c.flush(); err != nil {
				return err
			}
		}
		var err error
		if *got, err = uc.readResponseHead(&c.resp); err != nil {
			return err
		}
	}
	return nil
}

// answer sends one of the fast path's own answers (with the rule's
// response header edits, as the filter would apply them) and reports
// whether the connection stays open.
func (c *conn) answer(be *routeBackend, a failureAnswer) bool {
	req := &c.req
	b := appendStatusLine(c.out[:0], req.minor, a.status)
	if !be.resp.drops("content-type") {
		b = append(b, "Content-Type: text/plain; charset=utf-8\r\n"...)
	}
	if be.resp != nil {
		for _, f := range be.resp.append {
			b = appendField(b, f.name, f.value)
		}
	}
	b = appendDate(b)
	b = appendContentLength(b, int64(len(a.body)))
	keep := !req.close && !c.srv.shutdown.Load()
	b = appendConnection(b, req, keep)
	b = append(b, "\r\n"...)
	if req.method != "HEAD" {
		b = append(b, a.body...)
	}
	c.out = b
	if err := c.flush(); err != nil {
		return false
	}
	c.r += req.headLen + max(int(req.contentLength), 0)
	return keep
}

// appendConnection appends the Connection field the client needs: close
// when the connection ends, keep-alive for an HTTP/1.0 client that stays.
func appendConnection(b []byte, req *Request, keep bool) []byte {
	switch {
	case !keep:
		return append(b, "Connection: close\r\n"...)
	case req.minor == 0:
		return append(b, "Connection: keep-alive\r\n"...)
	}
	return b
}

// Body framings of a relayed response.
const (
	frameNone    = iota // no body
	frameLength         // Content-Length
	frameChunked        // chunked
	frameClose          // until the connection closes
)

// relay sends the upstream's response (head in c.resp) to the client.
// keep reports whether the client connection may serve another request,
// upOK whether the upstream connection is reusable.
func (c *conn) relay(uc *upConn, be *routeBackend) (keep, upOK bool) {
	req, resp := &c.req, &c.resp
	in := frameClose
	switch {
	case bodyless(req.method, resp.status):
		in = frameNone
	case resp.chunked:
		in = frameChunked
	case resp.contentLength >= 0:
		in = frameLength
	}
	out := in
	if (in == frameChunked || in == frameClose) && req.minor == 0 {
		out = frameClose
	} else if in == frameClose {
		out = frameChunked
	}
	keep = out != frameClose && !req.close && !c.srv.shutdown.Load()

	b := appendStatusLine(c.out[:0], req.minor, resp.status)
	hasDate := false
	for i := range resp.fields {
		f := &resp.fields[i]
		if skipResponseField(f.name) {
			if out == frameChunked && in == frameChunked && len(f.name) == 7 && equalFold(f.name, "trailer") {
				b = appendField(b, f.name, f.value)
			}
			continue
		}
		if len(resp.connection) > 0 && connectionListed(resp.connection, f.name) {
			continue
		}
		switch len(f.name) {
		case 4:
			if equalFold(f.name, "date") {
				hasDate = true
			}
		case 12:
			if resp.status == 304 && equalFold(f.name, "content-type") {
				continue
			}
		case 14:
			if (resp.status == 304 || resp.status == 204 || resp.status < 200) && equalFold(f.name, "content-length") {
				continue
			}
		}
		if be.resp.drops(f.name) {
			continue
		}
		b = appendField(b, f.name, f.value)
	}
	if be.resp != nil {
		for _, f := range be.resp.append {
			b = appendField(b, f.name, f.value)
		}
	}
	if !hasDate {
		b = appendDate(b)
	}
	if out == frameChunked {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	b = appendConnection(b, req, keep)
	c.out = append(b, "\r\n"...)

	var err error
	switch in {
	case frameNone:
		upOK = true
	case frameLength:
		err = c.copyLength(uc, resp.contentLength)
		upOK = err == nil
	case frameChunked:
		err = c.copyChunked(uc, out == frameChunked)
		upOK = err == nil
	case frameClose:
		err = c.copyUntilClose(uc, out == frameChunked)
	}
	if err != nil {
		// The head may be out: all that can be done is cut the client
		// connection, so it sees an incomplete answer.
		c.srv.log.Debug("relaying response body failed", "err", err)
		c.out = c.out[:0]
		return false, false
	}
	if err := c.flush(); err != nil {
		return false, upOK
	}
	return keep, upOK
}

// more makes unread upstream bytes available, flushing the client output
// first so nothing waits in it while the upstream is slow.
func (c *conn) more(uc *upConn) error {
	if uc.r < uc.w {
		return nil
	}
	if err := c.flush(); err != nil {
		return errClientWrite{err}
	}
	uc.r, uc.w = 0, 0
	return uc.fill(true)
}

type errClientWrite struct{ err error }

func (e errClientWrite) Error() string { return "writing to client: " + e.err.Error() }

func (c *conn) copyLength(uc *upConn, n int64) error {
	for n > 0 {
		if err := c.more(uc); err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		k := min(int64(uc.w-uc.r), n)
		if err := c.emit(uc.buf[uc.r : uc.r+int(k)]); err != nil {
			return errClientWrite{err}
		}
		uc.r += int(k)
		n -= k
	}
	return nil
}

func (c *conn) copyChunked(uc *upConn, chunkedOut bool) error {
	c.ch = chunked{}
	lastChunk := false // "0\r\n" written (trailers follow it)
	for {
		kind, piece, n, err := c.ch.next(uc.buf[uc.r:uc.w])
		uc.r += n
		if err != nil {
			return err
		}
		switch kind {
		case pMore:
			// Keep a partial line, if any, and read after it.
			if err := c.flush(); err != nil {
				return errClientWrite{err}
			}
			if uc.r == uc.w {
				uc.r, uc.w = 0, 0
			}
			if err := uc.fill(true); err != nil {
				return unexpected(err)
			}
		case pData:
			if chunkedOut {
				c.out = appendChunkHeader(c.out, len(piece))
			}
			if err := c.emit(piece); err != nil {
				return errClientWrite{err}
			}
			if chunkedOut {
				c.out = append(c.out, "\r\n"...)
			}
		case pTrailer:
			if chunkedOut {
				if !lastChunk {
					c.out, lastChunk = append(c.out, "0\r\n"...), true
				}
				c.out = append(c.out, piece...)
				c.out = append(c.out, "\r\n"...)
			}
		case pDone:
			if chunkedOut {
				if !lastChunk {
					c.out = append(c.out, "0\r\n"...)
				}
				c.out = append(c.out, "\r\n"...)
			}
			return nil
		}
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (c *conn) copyUntilClose(uc *upConn, chunkedOut bool) error {
	for {
		if uc.r < uc.w {
			p := uc.buf[uc.r:uc.w]
			if chunkedOut {
				c.out = appendChunkHeader(c.out, len(p))
			}
			if err := c.emit(p); err != nil {
				return errClientWrite{err}
			}
			if chunkedOut {
				c.out = append(c.out, "\r\n"...)
			}
			uc.r = uc.w
		}
		if err := c.more(uc); err != nil {
			if err == io.EOF {
				if chunkedOut {
					c.out = append(c.out, "0\r\n\r\n"...)
				}
				return nil
			}
			return err
		}
	}
}
