package backend

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"portico.dev/portico/internal/ir"
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
	log    *slog.Logger
	dialer *net.Dialer

	mu         sync.Mutex
	transports map[Key]*http.Transport
}

// NewPool returns an empty pool.
func NewPool(log *slog.Logger) *Pool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pool{
		log:        log,
		dialer:     &net.Dialer{Timeout: dialTimeout, KeepAlive: tcpKeepAlive},
		transports: map[Key]*http.Transport{},
	}
}

// KeyFor returns the pool key of an endpoint of a backend.
func KeyFor(proto ir.BackendProtocol, ep ir.Endpoint) Key {
	return Key{H2C: proto == ir.BackendH2C, Addr: net.JoinHostPort(ep.Address, strconv.Itoa(int(ep.Port)))}
}

// Transport returns the transport of k, creating it on first use. tc is
// the TLS client configuration of k.TLS (nil for cleartext); equal keys have
// equal settings, so a transport made for an earlier generation is reused.
func (p *Pool) Transport(k Key, tc *tls.Config) *http.Transport {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.transports[k]; ok {
		return t
	}
	t := p.newTransport(k.H2C, tc)
	p.transports[k] = t
	return t
}

func (p *Pool) newTransport(h2c bool, tc *tls.Config) *http.Transport {
	t := &http.Transport{
		Proxy:                 nil, // never from the environment
		DialContext:           p.dialer.DialContext,
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
	for k, t := range p.transports {
		if _, ok := keep[k]; !ok {
			delete(p.transports, k)
			t.CloseIdleConnections()
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
