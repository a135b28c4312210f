package backend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"portico.dev/portico/internal/proxy/health"
)

const (
	// maxReplayBody is the largest request body kept in memory so that it
	// can be sent again on retry; larger bodies stream and are not retried.
	maxReplayBody = 64 << 10
	// defaultBackoff applies when a retry policy gives no backoff: retrying
	// a failing backend at once mostly fails again.
	defaultBackoff = 25 * time.Millisecond
	// maxBackoffFactor caps the doubling backoff at this many base delays.
	maxBackoffFactor = 10
	// drainOnRetry is how much of a discarded answer is read so its
	// connection can be reused.
	drainOnRetry = 4 << 10
)

// attempts is the RoundTripper of one backend of one rule: it spreads
// attempts round robin over the endpoints, bounds each one and retries.
type attempts struct {
	targets []target
	next    atomic.Uint32
	retries int
	codes   codeSet
	backoff time.Duration
	perTry  time.Duration
	headTO  time.Duration // Policy.HeadTimeout
	log     *slog.Logger
}

func newAttempts(ts []target, pol Policy, log *slog.Logger) *attempts {
	a := &attempts{targets: ts, perTry: time.Duration(pol.Timeouts.BackendRequest), headTO: pol.HeadTimeout, log: log}
	if r := pol.Retry; r != nil && r.Attempts > 0 {
		a.retries = r.Attempts
		a.backoff = time.Duration(r.Backoff)
		if a.backoff <= 0 {
			a.backoff = defaultBackoff
		}
		for _, c := range r.Codes {
			a.codes.add(c)
		}
	}
	return a
}

// cursor starts the next request's walk over the endpoints, round robin;
// a lock-free counter keeps concurrent requests spread evenly.
func (a *attempts) cursor() health.Cursor {
	if len(a.targets) == 1 {
		return health.NewCursor(1, 0)
	}
	n := a.next.Add(1) - 1
	return health.NewCursor(len(a.targets), int(n%uint32(len(a.targets))))
}

// skip reports whether endpoint i is failing its connects (package
// health).
func (a *attempts) skip(i int) bool { return a.targets[i].health.Skip() }

func (a *attempts) RoundTrip(req *http.Request) (*http.Response, error) {
	if a.retries == 0 {
		return a.tryEndpoints(req)
	}
	return a.withRetries(req)
}

// tryEndpoints makes one attempt on the next endpoint, passing over those
// failing their connects. A failed connect sent nothing: the request goes
// on to the backend's other endpoints that are not failing, each once,
// with its body as long as none of it was read (see unreadBody).
func (a *attempts) tryEndpoints(req *http.Request) (*http.Response, error) {
	if len(a.targets) > 1 && !canResend(req) {
		req.Body = &unreadBody{rc: req.Body}
	}
	cur := a.cursor()
	i, _ := cur.Next(a.skip)
	for {
		resp, err := a.try(req, &a.targets[i])
		if err == nil || req.Context().Err() != nil {
			return resp, err
		}
		var de *dialError
		if !errors.As(err, &de) {
			// A reset or close before any answer: the transport retried a
			// reused connection once already, so the endpoint failed on a
			// new one too. Only idempotent requests move: the endpoint may
			// have read this one.
			if !idempotent(req) || !health.ResetBeforeAnswer(err) {
				return resp, err
			}
			a.targets[i].health.Failed()
		}
		next, ok := cur.Next(a.skip)
		if !ok {
			return nil, err
		}
		r, ok := resend(req)
		if !ok {
			return nil, err
		}
		a.log.Debug("upstream failed before answering, trying another endpoint", "endpoint", a.targets[i].addr, "next", a.targets[next].addr, "err", err)
		req, i = r, next
	}
}

// idempotent reports whether req may be sent again after an endpoint may
// have read it: the methods and header net/http's Transport (and the h1
// engine) treat so.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, key := req.Header["Idempotency-Key"]
	_, xkey := req.Header["X-Idempotency-Key"]
	return key || xkey
}

// canResend reports whether req's body can be had again: none, or GetBody.
func canResend(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// resend is req again for another endpoint, with its own URL and a fresh
// body (the transport closed the old one): from GetBody, or the same
// unreadBody when nothing was read from it; false when the body cannot be
// had again.
func resend(req *http.Request) (*http.Request, bool) {
	r := new(http.Request)
	*r = *req
	u := *req.URL
	r.URL = &u
	switch b := req.Body.(type) {
	case nil:
	case *unreadBody:
		if b.read.Load() {
			return nil, false
		}
	default:
		if b == http.NoBody {
			break
		}
		if req.GetBody == nil {
			return nil, false
		}
		body, err := req.GetBody()
		if err != nil {
			return nil, false
		}
		r.Body = body
	}
	return r, true
}

// unreadBody is a request body that a transport may close without having
// read any of it, as http.Transport does when the connect fails: it is then
// still whole, for another endpoint. It closes the body it wraps only once
// something was read (the server closes the client's body in any case
// when the handler returns).
type unreadBody struct {
	rc   io.ReadCloser
	read atomic.Bool
}

func (b *unreadBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.rc.Read(p)
}

func (b *unreadBody) Close() error {
	if b.read.Load() {
		return b.rc.Close()
	}
	return nil
}

func (a *attempts) withRetries(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	retries := a.retries
	replayable, err := bufferBody(req)
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	if !replayable {
		retries = 0
	}
	for n := 0; ; n++ {
		r := req
		if n > 0 {
			r, _ = resend(req) // replayable: no body, or GetBody
		}
		resp, err := a.tryEndpoints(r)
		if err == nil && (n >= retries || !a.codes.has(resp.StatusCode)) {
			return resp, nil
		}
		if err != nil && (n >= retries || ctx.Err() != nil) {
			return nil, err
		}
		if err == nil {
			a.log.Debug("retrying", "attempt", n+1, "status", resp.StatusCode)
			_, _ = io.CopyN(io.Discard, resp.Body, drainOnRetry)
			resp.Body.Close()
		} else {
			a.log.Debug("retrying", "attempt", n+1, "err", err)
		}
		// The request timeout, if any, cuts the wait short (the client then
		// gets 504), so retries never outlast it.
		if !sleepCtx(ctx, a.delay(n)) {
			return nil, context.Cause(ctx)
		}
	}
}

// delay is the backoff before retry n+1: doubling from the base, capped,
// with equal jitter so that clients retrying together spread out.
func (a *attempts) delay(n int) time.Duration {
	d := a.backoff << min(n, 16)
	if c := a.backoff * maxBackoffFactor; d > c || d <= 0 {
		d = c
	}
	half := d / 2
	return half + rand.N(half+1)
}

// try makes one attempt on t, bounded by the per-attempt timeout. The bound
// covers the response body too, so it is released when the body is closed.
func (a *attempts) try(req *http.Request, t *target) (*http.Response, error) {
	req.URL.Scheme, req.URL.Host = t.scheme, t.addr
	if a.perTry <= 0 && a.headTO > 0 {
		return a.tryHead(req, t)
	}
	if a.perTry <= 0 {
		resp, err := t.rt.RoundTrip(req)
		if err == nil && resp.StatusCode == http.StatusSwitchingProtocols {
			stopRequestTimer(req.Context())
		}
		return resp, err
	}
	parent := req.Context()
	ctx, cancel := context.WithCancelCause(parent)
	timer := time.AfterFunc(a.perTry, func() { cancel(errAttemptTimeout) })
	resp, err := t.rt.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timer.Stop()
		if parent.Err() == nil && context.Cause(ctx) == errAttemptTimeout {
			err = fmt.Errorf("%w after %v: %v", errAttemptTimeout, a.perTry, err)
		}
		cancel(nil)
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// An upgraded connection lives as long as its peers want: neither
		// timeout applies past the handshake. ctx is released with parent.
		timer.Stop()
		stopRequestTimer(parent)
		return resp, nil
	}
	resp.Body = &attemptBody{ReadCloser: resp.Body, timer: timer, cancel: cancel}
	return resp, nil
}

// tryHead makes one attempt on t whose wait for the response head is
// bounded by the default upstream timeout: its clock stops when the head
// arrives, so neither a streamed body nor an upgraded connection is cut.
func (a *attempts) tryHead(req *http.Request, t *target) (*http.Response, error) {
	parent := req.Context()
	ctx, cancel := context.WithCancelCause(parent)
	timer := time.AfterFunc(a.headTO, func() { cancel(errAttemptTimeout) })
	resp, err := t.rt.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() && err == nil {
		// The head came as the timeout expired: the context is cancelled
		// under the body, so the attempt failed all the same.
		resp.Body.Close()
		resp, err = nil, context.Cause(ctx)
	}
	if err != nil {
		if parent.Err() == nil && context.Cause(ctx) == errAttemptTimeout {
			err = fmt.Errorf("%w: no response head within %v", errAttemptTimeout, a.headTO)
		}
		cancel(nil)
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		stopRequestTimer(parent)
	}
	return resp, nil // ctx ends with parent
}

type attemptBody struct {
	io.ReadCloser
	timer  *time.Timer
	cancel context.CancelCauseFunc
}

func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.timer.Stop()
	b.cancel(nil)
	return err
}

// bufferBody reads up to maxReplayBody of the request body so that it can be
// sent again. It reports false (and leaves the body streaming, unread bytes
// first) when the body is larger.
func bufferBody(req *http.Request) (bool, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return true, nil
	}
	if req.ContentLength > maxReplayBody {
		return false, nil
	}
	orig := req.Body
	body, err := io.ReadAll(io.LimitReader(orig, maxReplayBody+1))
	if err != nil {
		return false, err
	}
	if len(body) > maxReplayBody {
		req.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), orig), orig}
		return false, nil
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return true, nil
}

// codeSet is a bitmap of HTTP status codes.
type codeSet [10]uint64 // 0..639

func (s *codeSet) add(c int) {
	if c >= 0 && c < 640 {
		s[c/64] |= 1 << (c % 64)
	}
}

func (s *codeSet) has(c int) bool {
	return c >= 0 && c < 640 && s[c/64]&(1<<(c%64)) != 0
}
