package h2

import (
	"io"
	"net/http"
	"net/textproto"
	"sync"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2/hpack"
)

// pipe is a request body on the handler path: the serve goroutine writes
// DATA payloads into it, the handler reads them; what the handler reads is
// given back to the client's flow-control windows.
type pipe struct {
	s       *stream
	mu      sync.Mutex
	cond    sync.Cond
	buf     []byte // buf[r:] is unread
	r       int
	err     error               // io.EOF once the body ended; any other: it was cut
	closed  bool                // by the handler
	expect  bool                // "100 Continue" is due before the first wait
	trailer http.Header         // Request.Trailer: the declared keys
	got     []hpack.HeaderField // trailers received, applied at EOF
}

var _ io.ReadCloser = (*pipe)(nil)

func newPipe(s *stream) *pipe {
	p := &pipe{s: s}
	p.cond.L = &p.mu
	return p
}

// write appends a DATA payload; false when the handler no longer reads.
func (p *pipe) write(data []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.err != nil {
		return false
	}
	if p.r == len(p.buf) {
		p.buf, p.r = p.buf[:0], 0
	} else if p.r > 0 && cap(p.buf)-len(p.buf) < len(data) {
		// Drop what was read rather than grow: the flow-control window
		// bounds what is unread, not what was ever received.
		n := copy(p.buf, p.buf[p.r:])
		p.buf, p.r = p.buf[:n], 0
	}
	p.buf = append(p.buf, data...)
	p.cond.Signal()
	return true
}

// closeWithError ends the body: io.EOF keeps what is buffered for the
// reader, any other error drops it and returns how many bytes were dropped
// (for the connection's window).
func (p *pipe) closeWithError(err error) (dropped int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil || err != io.EOF {
		p.err = err
	}
	if err != io.EOF {
		dropped = len(p.buf) - p.r
		p.buf, p.r = nil, 0
	}
	p.cond.Broadcast()
	return dropped
}

// closeWithTrailers ends the body with the request's trailers: the
// handler sees those it declared in Request.Trailer once it has read
// io.EOF, as with net/http.
func (p *pipe) closeWithTrailers(fields []hpack.HeaderField) {
	p.mu.Lock()
	p.got = fields
	p.mu.Unlock()
	p.closeWithError(io.EOF)
}

// applyTrailers fills the declared trailers; under mu, at EOF.
func (p *pipe) applyTrailers() {
	for _, f := range p.got {
		k := textproto.CanonicalMIMEHeaderKey(f.Name)
		if _, declared := p.trailer[k]; declared && httpguts.ValidTrailerHeader(k) {
			p.trailer[k] = append(p.trailer[k], f.Value)
		}
	}
	p.got = nil
}

func (p *pipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	for !p.closed && p.r == len(p.buf) && p.err == nil {
		if p.expect {
			p.expect = false
			p.s.informational(http.StatusContinue, nil)
			continue
		}
		p.cond.Wait()
	}
	if p.closed {
		p.mu.Unlock()
		return 0, http.ErrBodyReadAfterClose
	}
	if p.r < len(p.buf) {
		n := copy(b, p.buf[p.r:])
		p.r += n
		p.mu.Unlock()
		p.s.c.credit(p.s, int64(n))
		return n, nil
	}
	err := p.err
	if err == io.EOF {
		p.applyTrailers()
	}
	p.mu.Unlock()
	if err != io.EOF {
		err = errClientGone
	}
	return 0, err
}

// Close drops the rest of the body.
func (p *pipe) Close() error {
	p.mu.Lock()
	dropped := len(p.buf) - p.r
	p.closed, p.buf, p.r = true, nil, 0
	p.mu.Unlock()
	p.s.c.credit(p.s, int64(dropped))
	return nil
}

// noExpect cancels a pending "100 Continue" (the final answer went out).
func (p *pipe) noExpect() {
	p.mu.Lock()
	p.expect = false
	p.mu.Unlock()
}

var errClientGone = &clientGoneError{}

type clientGoneError struct{}

func (*clientGoneError) Error() string {
	return "http2: client reset the stream or closed the connection"
}
