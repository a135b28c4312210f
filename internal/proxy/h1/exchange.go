package h1

import (
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"portico.dev/portico/internal/proxy/health"
)

// This file exports the fast path's upstream client to engines that frame
// the client side their own way (package h2): pick a backend, send a
// request head built by the caller, read the answer piece by piece.

// Pick is a Route's choice for one request: a backend (its header edits)
// and one of its endpoints, with the backend's other endpoints to try if
// that one refuses the connection.
type Pick struct {
	be   *routeBackend
	ep   *Endpoint
	cur  health.Cursor
	head time.Duration // the head timeout (0: none)
}

// Pick chooses a backend by weight, then its next endpoint.
func (rt *Route) Pick() Pick { return rt.pick() }

// RequestEdits and ResponseEdits are the picked backend's header edits
// (nil: none).
func (p Pick) RequestEdits() *Edits  { return p.be.req }
func (p Pick) ResponseEdits() *Edits { return p.be.resp }

// Deadlines returns the deadline of one attempt (the earlier of the
// request and backend timeouts) and of the whole request, from now; zero
// values mean none.
func (rt *Route) Deadlines() (attempt, request time.Time) {
	if rt.requestTimeout <= 0 && rt.backendTimeout <= 0 {
		return
	}
	now := time.Now()
	if rt.requestTimeout > 0 {
		request = now.Add(rt.requestTimeout)
		attempt = request
	}
	if rt.backendTimeout > 0 {
		if d := now.Add(rt.backendTimeout); attempt.IsZero() || d.Before(attempt) {
			attempt = d
		}
	}
	return
}

// Drops reports whether e drops the original fields named name (any case).
func (e *Edits) Drops(name string) bool { return e.drops(name) }

// Len is the number of fields e appends; At returns the i-th (canonical
// name).
func (e *Edits) Len() int {
	if e == nil {
		return 0
	}
	return len(e.append)
}
func (e *Edits) At(i int) (name, value string) { return e.append[i].name, e.append[i].value }

// SkipRequestField reports whether the fast path drops a client field when
// it builds the upstream request: Host, framing, hop-by-hop fields, Expect
// and the forwarding fields it writes itself.
func SkipRequestField(name string) bool { return skipRequestField(name) }

// ValidTarget reports whether path and query (without "?") are ones
// net/url and httputil.ReverseProxy pass on unchanged, so the fast path
// may forward them as sent.
func ValidTarget(path, query string) bool {
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	for i := 0; i < len(path); i++ {
		if !fastPath[path[i]] {
			return false
		}
	}
	for i := 0; i < len(query); i++ {
		if !fastQuery[query[i]] {
			return false
		}
	}
	return validEscapes(path) && validEscapes(query)
}

// ValidHost reports whether h holds only bytes a Host value may hold.
func ValidHost(h string) bool { return validHost(h) }

// Idempotent reports whether a request may be sent again after a reused
// connection failed without an answer (http.Transport's rule; a request
// with an Idempotency-Key field is too, which the caller checks).
func Idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

// Failure is an answer the fast path gives when the exchange with the
// upstream failed: 502, or 504 when a timeout expired.
type Failure struct {
	Status int
	Body   string
}

// Exchange is one request/response on an upstream keep-alive connection.
// The zero value is ready; an Exchange may be reused after Release.
type Exchange struct {
	uc     *upConn
	link   *Link
	resp   response
	method string
	ch     chunked
	in     int   // body framing
	left   int64 // frameLength: bytes left
	done   bool
}

// Do sends head (a complete HTTP/1.1 request head) and body to the picked
// endpoint and reads the final response head (1xx answers are dropped). A
// reused connection that fails before any response byte is retried once
// on a new one when retryable. On failure the exchange is over and the
// answer to give is returned (Status 0: none, the client went away).
// link (may be nil) cancels the exchange when the client goes away, until
// Release.
func (x *Exchange) Do(p Pick, method string, head, body []byte, attempt, request time.Time, retryable bool, link *Link, log *slog.Logger) *Failure {
	x.method, x.link = method, link
	uc, f := roundTrip(p, head, body, attempt, request, retryable, &x.resp, nil, link, log)
	if f != nil {
		return &Failure{Status: f.status, Body: f.body}
	}
	x.uc, x.ch, x.done, x.left = uc, chunked{}, false, 0
	switch {
	case bodyless(method, x.resp.status):
		x.in, x.done = frameNone, true
	case x.resp.chunked:
		x.in = frameChunked
	case x.resp.contentLength >= 0:
		x.in, x.left = frameLength, x.resp.contentLength
		x.done = x.left == 0
	default:
		x.in = frameClose
	}
	return nil
}

func dropInformational(uc *upConn, r *response, got *bool) error {
	for n := 0; r.status < 200; n++ {
		if r.status == 101 || n == 5 {
			return errUpstream1
		}
		var err error
		if *got, err = uc.readResponseHead(r); err != nil {
			return err
		}
	}
	return nil
}

// Status is the response's status code.
func (x *Exchange) Status() int { return x.resp.status }

// ContentLength is the body's declared length; -1 when the body is chunked
// or ends with the connection, 0 when the response has none.
func (x *Exchange) ContentLength() int64 {
	switch x.in {
	case frameNone:
		return 0
	case frameLength:
		return x.resp.contentLength
	}
	return -1
}

// Chunked reports whether the body is chunked (it may end with trailers).
func (x *Exchange) Chunked() bool { return x.in == frameChunked }

// NumFields is the number of response header fields; Field returns the
// i-th, and whether it is hop-by-hop (by name or listed in Connection) and
// must not be relayed. Strings are valid until the next Next or Release.
func (x *Exchange) NumFields() int { return len(x.resp.fields) }
func (x *Exchange) Field(i int) (name, value string, hop bool) {
	f := &x.resp.fields[i]
	hop = skipResponseField(f.name) || len(x.resp.connection) > 0 && connectionListed(x.resp.connection, f.name)
	return f.name, f.value, hop
}

// Done reports whether the whole body has been returned by Next, so the
// next call would return io.EOF without reading.
func (x *Exchange) Done() bool { return x.done }

// Buffered reports whether Next would return without reading from the
// upstream: the body is done, or more of a Content-Length or
// close-delimited body is buffered (chunked bodies always say no, a
// partial chunk line may need a read).
func (x *Exchange) Buffered() bool {
	return x.done || x.in != frameChunked && x.uc.r < x.uc.w
}

// Next returns the next piece of the body: data (valid until the next
// call), or a trailer field (name non-empty, data nil), or io.EOF at the
// end of the body. Any other error means the body was cut short.
func (x *Exchange) Next() (data []byte, name, value string, err error) {
	uc := x.uc
	switch {
	case x.done:
		return nil, "", "", io.EOF
	case x.in == frameLength:
		if uc.r == uc.w {
			uc.r, uc.w = 0, 0
			if err := uc.fill(true); err != nil {
				return nil, "", "", unexpected(err)
			}
		}
		k := min(int64(uc.w-uc.r), x.left)
		data = uc.buf[uc.r : uc.r+int(k)]
		uc.r += int(k)
		x.left -= k
		x.done = x.left == 0
		return data, "", "", nil
	case x.in == frameClose:
		if uc.r == uc.w {
			uc.r, uc.w = 0, 0
			if err := uc.fill(true); err != nil {
				if err == io.EOF {
					x.done = true
				}
				return nil, "", "", err
			}
		}
		data = uc.buf[uc.r:uc.w]
		uc.r = uc.w
		return data, "", "", nil
	}
	for {
		kind, piece, n, err := x.ch.next(uc.buf[uc.r:uc.w])
		uc.r += n
		if err != nil {
			return nil, "", "", err
		}
		switch kind {
		case pMore:
			if uc.r == uc.w {
				uc.r, uc.w = 0, 0
			}
			if err := uc.fill(true); err != nil {
				return nil, "", "", unexpected(err)
			}
		case pData:
			return piece, "", "", nil
		case pTrailer:
			f, _ := parseField(piece)
			return nil, f.name, f.value, nil
		case pDone:
			x.done = true
			return nil, "", "", io.EOF
		}
	}
}

// Release ends the exchange: the upstream connection goes back to its
// pool when the body was read whole and the upstream keeps it open, else
// it is closed.
func (x *Exchange) Release() {
	uc := x.uc
	if uc == nil {
		return
	}
	x.uc = nil
	if x.link.detach() && x.done && x.in != frameClose && !uc.broken && !x.resp.close {
		uc.ep.put(uc)
		return
	}
	uc.close()
}

// roundTrip sends head and body to ep on a pooled connection and reads the
// final response head into resp (1xx answers go to c's client, or are
// dropped when c is nil). A reused
// connection that fails before any response byte is retried once on a new
// one when retryable. p.head (0: none) bounds the wait for the response
// head from the request's write. While link holds it, the connection is
// aborted when the client goes away (it stays in link when this returns
// it). It returns the connection, or the answer to give when the exchange
// failed (status 0: none, the client went away).
func roundTrip(p Pick, head, body []byte, deadline, reqDeadline time.Time, retryable bool, resp *response,
	c *conn, link *Link, log *slog.Logger) (*upConn, *failureAnswer) {
	for attempt := 0; ; attempt++ {
		if link.Gone() {
			return nil, &clientGone
		}
		uc, err := p.get(deadline, retryable, attempt > 0, log)
		if err != nil {
			log.Debug("upstream connect failed", "endpoint", p.ep.addr, "err", err)
			f := failure(err, reqDeadline)
			return nil, &f
		}
		if !deadline.IsZero() {
			_ = uc.nc.SetDeadline(deadline)
			uc.deadline = deadline
		}
		link.attach(uc)
		uc.armHead(p.head)
		var got bool
		werr := uc.send(head, body)
		if c == nil {
			// HTTP/2 (Exchange): let the goroutines that are ready, often
			// the connection's other streams, run before reading: the
			// answer often arrives meanwhile, and the read that would have
			// found nothing (EAGAIN, then a park in the poller) is saved.
			// HTTP/1.1 does not yield: measured side by side it spent the
			// same CPU either way, and yielding added to its p99.
			runtime.Gosched()
		}
		// Even when the write failed, the upstream may have answered (and
		// closed) before reading the request: take that answer.
		got, err = uc.readResponseHead(resp)
		if err == nil {
			if c != nil {
				err = c.informational(uc, &got)
			} else {
				err = dropInformational(uc, resp, &got)
			}
		}
		if uc.disarmHead(p.head) && err == nil {
			err = os.ErrDeadlineExceeded // the head came as the timeout expired
		}
		if err == nil {
			if werr != nil {
				uc.broken = true
			}
			return uc, nil
		}
		link.detach()
		uc.close()
		if err == errClientAborted {
			return nil, &clientGone
		}
		if attempt == 0 && uc.reused && !got && retryable && !isTimeout(err) {
			continue // a keep-alive connection the upstream had closed
		}
		if !uc.reused && !got && retryable && health.ResetBeforeAnswer(err) && p.failOver(err, log) {
			continue // a new connection reset or closed unanswered: the endpoint is failing
		}
		log.Debug("upstream request failed", "endpoint", p.ep.addr, "err", err, "write_err", werr)
		if got && !isTimeout(err) {
			return nil, &badGateway
		}
		f := failure(err, reqDeadline)
		return nil, &f
	}
}
