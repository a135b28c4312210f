package backend

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/proxy/health"
)

// Policy is what a rule says about how its backends are called.
type Policy struct {
	Timeouts ir.Timeouts
	Retry    *ir.Retry
	// HeadTimeout bounds each attempt's wait for the response head (from
	// the request's write; the body is not bounded) when the rule sets
	// no timeouts; 0: none.
	HeadTimeout time.Duration
}

// Builder builds the upstream handlers of one configuration generation and
// records which pools they use, so the proxy can Retain exactly those once
// the generation is live.
type Builder struct {
	pool *Pool
	log  *slog.Logger
	errs *log.Logger // ReverseProxy's own complaints, at debug
	// Keys are the pools used by the handlers built so far.
	Keys map[Key]struct{}
	// tls caches the client configurations built so far, by fingerprint;
	// tlsErr is the first that could not be built.
	tls    map[string]*tls.Config
	tlsErr error
}

// NewBuilder starts building a generation on p.
func (p *Pool) NewBuilder() *Builder {
	return &Builder{pool: p, log: p.log, errs: slog.NewLogLogger(p.log.Handler(), slog.LevelDebug), Keys: map[Key]struct{}{}, tls: map[string]*tls.Config{}}
}

// target is one endpoint with the transport that reaches it.
type target struct {
	addr   string
	scheme string // "http", or "https" under a BackendTLSPolicy
	rt     http.RoundTripper
	health *health.State // of its connects
}

func (b *Builder) targets(be *ir.Backend) []target {
	fp, tc, err := b.clientTLS(be.TLS)
	if err != nil {
		if b.tlsErr == nil {
			b.tlsErr = fmt.Errorf("backend %q: %w", be.Name, err)
		}
		return nil
	}
	scheme := "http"
	if tc != nil {
		scheme = "https"
	}
	ts := make([]target, len(be.Endpoints))
	for i, ep := range be.Endpoints {
		k := KeyFor(be.Protocol, ep)
		k.TLS = fp
		b.Keys[k] = struct{}{}
		u := b.pool.upstream(k, tc)
		ts[i] = target{addr: k.Addr, scheme: scheme, rt: u.t, health: &u.health}
	}
	return ts
}

// Err is the first backend of the generation that could not be built (its
// TLS settings do not load): the generation must be refused.
func (b *Builder) Err() error { return b.tlsErr }

// Backend returns the handler that forwards to be under pol: 500 if be is
// invalid, 503 if it has no endpoints, else a reverse proxy.
func (b *Builder) Backend(be *ir.Backend, pol Policy) http.Handler {
	if be.Invalid != "" {
		return statusInvalid
	}
	if len(be.Endpoints) == 0 {
		return statusNoEndpoints
	}
	ts := b.targets(be)
	if len(ts) == 0 {
		return statusInvalid // only when its TLS settings failed: see Err
	}
	tr := newAttempts(ts, pol, b.log.With("backend", be.Name))
	rp := &httputil.ReverseProxy{
		Rewrite:   rewrite,
		Transport: tr,
		// 0, not -1: ReverseProxy still flushes at once for streaming
		// responses (text/event-stream, or no Content-Length: gRPC, long
		// polls), and a sized response goes out in one write instead of a
		// header flush plus a body write (about a fifth fewer syscalls).
		FlushInterval: 0,
		BufferPool:    copyBuffers,
		ErrorLog:      b.errs,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s := classify(r, err)
			if b, ok := r.Body.(*clientBody); ok && b.failed() {
				// The client's body was malformed (or cut short): its
				// fault, not the upstream's.
				s = statusBadBody
			}
			tr.log.Debug("upstream failed", "status", s.Code, "err", err)
			s.ServeHTTP(w, r)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A proxy passes a response without Content-Type on as it is; a nil
		// entry stops net/http from sniffing one, and ReverseProxy's header
		// copy appends to it when the backend sent one.
		if h := w.Header(); h["Content-Type"] == nil {
			h["Content-Type"] = nil
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &clientBody{ReadCloser: r.Body} // the server closes its own reference
		}
		rp.ServeHTTP(w, r)
	})
}

// rewrite prepares the outbound request. The endpoint is chosen per attempt
// by the transport; Host stays as the client (or a rewrite filter) set it.
func rewrite(pr *httputil.ProxyRequest) {
	pr.Out.URL.Scheme = "http"
	// ReverseProxy drops inbound X-Forwarded-*; we append to the client's
	// X-Forwarded-For chain rather than replace it.
	if prior, ok := pr.In.Header["X-Forwarded-For"]; ok {
		pr.Out.Header["X-Forwarded-For"] = prior
	}
	pr.SetXForwarded()
	dropUpgradeFields(pr)
	if h := OriginalHost(pr.In.Context()); h != "" {
		pr.Out.Header.Set("X-Forwarded-Host", h)
	}
}

type originalHostKey struct{}

// KeepOriginalHost records r.Host before filters rewrite it, so
// X-Forwarded-Host carries what the client asked for. The proxy wraps only
// the rules whose filters rewrite the hostname.
func KeepOriginalHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), originalHostKey{}, r.Host)))
	})
}

// OriginalHost is the Host recorded by KeepOriginalHost, or "".
func OriginalHost(ctx context.Context) string {
	h, _ := ctx.Value(originalHostKey{}).(string)
	return h
}

// copyBuffers recycles the 32 KiB body copy buffers of every ReverseProxy.
var copyBuffers = &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte  { return *b.p.Get().(*[]byte) }
func (b *bufferPool) Put(v []byte) { b.p.Put(&v) }

// sleepCtx waits d or until ctx is done, reporting whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropUpgradeFields removes what ReverseProxy keeps of a request's
// upgrade when the request cannot be upgraded: one that came over HTTP/2,
// which includes the request of an "Upgrade: h2c" (RFC 9113 section
// 8.2.2 forbids connection-specific fields there), keeps no Connection
// nor Upgrade; HTTP2-Settings never goes on.
func dropUpgradeFields(pr *httputil.ProxyRequest) {
	h := pr.Out.Header
	if pr.In.ProtoMajor >= 2 {
		delete(h, "Connection")
		delete(h, "Upgrade")
	}
	delete(h, "Http2-Settings")
}

// clientBody is the client's request body as the upstream call reads it:
// it records a read error (a malformed chunked body, a client that
// stopped sending), which makes the failure the client's: 400, not 502.
type clientBody struct {
	io.ReadCloser
	err atomic.Bool // read from the error handler, set by the transport's writer
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.err.Store(true)
	}
	return n, err
}

func (b *clientBody) failed() bool { return b.err.Load() }
