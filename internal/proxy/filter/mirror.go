package filter

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"

	"portico.dev/portico/internal/ir"
)

// MaxMirrorBody is the largest request body mirrored. A request with a
// larger body is not mirrored at all: a truncated copy would be a different
// request.
const MaxMirrorBody = 1 << 20

// MirrorSender sends mirrored requests; the server's transport implements it.
type MirrorSender interface {
	// Mirror sends r to b and discards the answer. It is called on its own
	// goroutine, so it may block, but it should bound its own time and
	// concurrency. r is a private deep copy: its context is detached from
	// the client's cancellation, RequestURI is empty, and Body holds the
	// complete body (ContentLength set).
	Mirror(b *ir.Backend, r *http.Request)
}

// Mirror is the RequestMirror filter for one mirror. It samples
// Numerator/Denominator of requests (all when both are zero), copies the
// request as modified so far, and sends the copy once the main request's
// body has been read to the end, so the main request is never delayed: the
// body is teed while the backend reads it. Mirroring is skipped when the body
// exceeds MaxMirrorBody or is not read to the end.
func Mirror(m *ir.Mirror, s MirrorSender) func(http.Handler) http.Handler {
	b := &m.Backend
	num, den := m.Numerator, m.Denominator
	sample := func() bool {
		switch {
		case den <= 0 || num >= den:
			return true
		case num <= 0:
			return false
		}
		return rand.Int32N(den) < num
	}
	return func(next http.Handler) http.Handler {
		if s == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if sample() {
				r = mirror(r, b, s)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// mirror prepares the copy and returns the request to continue with.
func mirror(r *http.Request, b *ir.Backend, s MirrorSender) *http.Request {
	cp := r.Clone(context.WithoutCancel(r.Context()))
	cp.RequestURI = ""
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		cp.Body, cp.ContentLength = http.NoBody, 0
		go s.Mirror(b, cp)
		return r
	}
	if r.ContentLength > MaxMirrorBody {
		return r
	}
	t := &teeBody{ReadCloser: r.Body, send: func(body []byte) {
		cp.Body, cp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		go s.Mirror(b, cp)
	}}
	main := *r
	main.Body = t
	return &main
}

// teeBody copies what the main request reads, and hands the copy over at
// EOF. Past MaxMirrorBody it stops copying and gives up the mirror.
type teeBody struct {
	io.ReadCloser
	mu   sync.Mutex
	buf  []byte
	send func([]byte)
	done bool
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return n, err
	}
	if len(t.buf)+n > MaxMirrorBody {
		t.done, t.buf = true, nil
		return n, err
	}
	t.buf = append(t.buf, p[:n]...)
	if err == io.EOF {
		t.done = true
		t.send(t.buf)
		t.buf = nil
	}
	return n, err
}
