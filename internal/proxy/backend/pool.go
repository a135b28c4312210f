package backend

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/proxy/health"
)

// Tuning of upstream connections. Timeouts of whole requests come from the
// IR (ir.Timeouts), not from here.
const (
	dialTimeout         = 5 * time.Second
	tcpKeepAlive        = 30 * time.Second
	idleConnTimeout     = 90 * time.Second
	maxIdleConnsPerHost = 1024
	tlsHandshakeTimeout = 10 * time.Second
)

// dialer connects to endpoints (every Pool's transports).
var dialer = &net.Dialer{Timeout: dialTimeout, KeepAlive: tcpKeepAlive}

// Key identifies one upstream connection pool: an endpoint and the protocol
// spoken to it.
type Key struct {
	H2C  bool
	Addr string // host:port
	// TLS is the fingerprint of the backend TLS settings (tlsFingerprint),
	// "" for cleartext. With TLS, H2C means HTTP/2 over TLS (ALPN h2).
	TLS string
}

// Pool hands out one http.Transport per Key and keeps it across
// configuration generations. It is safe for concurrent use.
type Pool struct {
	log *slog.Logger

	mu         sync.Mutex
	transports map[Key]*upstream
}

// upstream is the transport of one Key and the health of its connects
// (package health), which the transport's dialer records.
type upstream struct {
	t      *http.Transport
	health health.State
}

// dialError is a failed connect: nothing of the request was sent, so it
// may go to another endpoint.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// NewPool returns an empty pool.
func NewPool(log *slog.Logger) *Pool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pool{
		log:        log,
		transports: map[Key]*upstream{},
	}
}

// KeyFor returns the pool key of an endpoint of a backend.
func KeyFor(proto ir.BackendProtocol, ep ir.Endpoint) Key {
	return Key{H2C: proto == ir.BackendH2C, Addr: net.JoinHostPort(ep.Address, strconv.Itoa(int(ep.Port)))}
}

// Transport returns the transport of k, creating it on first use. tc is
// the TLS client configuration of k.TLS (nil for cleartext); equal keys have
// equal settings, so a transport made for an earlier generation is reused.
func (p *Pool) Transport(k Key, tc *tls.Config) *http.Transport { return p.upstream(k, tc).t }

// upstream returns the transport of k and its health, creating them on
// first use.
func (p *Pool) upstream(k Key, tc *tls.Config) *upstream {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u, ok := p.transports[k]; ok {
		return u
	}
	u := &upstream{}
	u.t = p.newTransport(k.H2C, tc, u.dial)
	p.transports[k] = u
	return u
}

// dial connects to the endpoint, recording the outcome in its health; a
// connect its caller gave up on (the request ended) is not counted.
func (u *upstream) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := dialer.DialContext(ctx, network, addr)
	if err != nil {
		if ctx.Err() == nil {
			u.health.Failed()
		}
		return nil, &dialError{err}
	}
	u.health.Succeeded()
	return c, nil
}

func (p *Pool) newTransport(h2c bool, tc *tls.Config, dial func(context.Context, string, string) (net.Conn, error)) *http.Transport {
	t := &http.Transport{
		Proxy:                 nil, // never from the environment
		DialContext:           dial,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		ExpectContinueTimeout: time.Second,
		// A proxy must not add Accept-Encoding nor decompress answers.
		DisableCompression: true,
		Protocols:          new(http.Protocols),
	}
	if tc != nil {
		// Each transport owns its copy: the transport edits NextProtos, and
		// sessions are resumed only with the endpoint that issued them.
		tc = tc.Clone()
		tc.ClientSessionCache = tls.NewLRUClientSessionCache(sessionCacheSize)
		t.TLSClientConfig = tc
		t.TLSHandshakeTimeout = tlsHandshakeTimeout
	}
	switch {
	case tc != nil && h2c:
		tc.NextProtos = []string{"h2"}
		t.Protocols.SetHTTP2(true)
	case tc != nil:
		tc.NextProtos = []string{"http/1.1"}
		t.Protocols.SetHTTP1(true)
	case h2c:
		// Prior knowledge: with only UnencryptedHTTP2 set, http:// requests
		// speak HTTP/2 from the first byte.
		t.Protocols.SetUnencryptedHTTP2(true)
	default:
		t.Protocols.SetHTTP1(true)
	}
	return t
}

// Retain drops the transports whose key is not in keep, closing their idle
// connections. Requests still in flight on a dropped transport finish
// normally; its connections then close when idle.
func (p *Pool) Retain(keep map[Key]struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, u := range p.transports {
		if _, ok := keep[k]; !ok {
			delete(p.transports, k)
			u.t.CloseIdleConnections()
			p.log.Debug("upstream pool closed", "endpoint", k.Addr, "h2c", k.H2C, "tls", k.TLS != "")
		}
	}
}

// Close closes every idle upstream connection and forgets all transports.
func (p *Pool) Close() { p.Retain(nil) }

// Len is the number of transports held, for tests and metrics.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.transports)
}
