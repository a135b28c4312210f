package backend

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"
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

// pick returns the next endpoint, round robin; a lock-free counter keeps
// concurrent requests spread evenly.
func (a *attempts) pick() *target {
	if len(a.targets) == 1 {
		return &a.targets[0]
	}
	n := a.next.Add(1) - 1
	return &a.targets[n%uint32(len(a.targets))]
}

func (a *attempts) RoundTrip(req *http.Request) (*http.Response, error) {
	if a.retries == 0 {
		return a.try(req, a.pick())
	}
	return a.withRetries(req)
}

func (a *attempts) withRetries(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	retries := a.retries
	body, replayable, err := bufferBody(req)
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	if !replayable {
		retries = 0
	}
	for n := 0; ; n++ {
		r := req
		if n > 0 {
			r = retryRequest(req, body)
		}
		resp, err := a.try(r, a.pick())
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
func bufferBody(req *http.Request) ([]byte, bool, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, true, nil
	}
	if req.ContentLength > maxReplayBody {
		return nil, false, nil
	}
	orig := req.Body
	body, err := io.ReadAll(io.LimitReader(orig, maxReplayBody+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > maxReplayBody {
		req.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), orig), orig}
		return nil, false, nil
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return body, true, nil
}

// retryRequest is req again, with a fresh body and its own URL (the
// previous attempt's transport may still hold the old one).
func retryRequest(req *http.Request, body []byte) *http.Request {
	r := new(http.Request)
	*r = *req
	u := *req.URL
	r.URL = &u
	if req.Body != nil && req.Body != http.NoBody {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return r
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
