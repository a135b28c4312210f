package backend

import (
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
)

// Key identifies one upstream connection pool: an endpoint and the protocol
// spoken to it.
type Key struct {
	H2C  bool
	Addr string // host:port
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

// Transport returns the transport of k, creating it on first use.
func (p *Pool) Transport(k Key) *http.Transport {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.transports[k]; ok {
		return t
	}
	t := p.newTransport(k.H2C)
	p.transports[k] = t
	return t
}

func (p *Pool) newTransport(h2c bool) *http.Transport {
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
	if h2c {
		// Prior knowledge: with only UnencryptedHTTP2 set, http:// requests
		// speak HTTP/2 from the first byte.
		t.Protocols.SetUnencryptedHTTP2(true)
	} else {
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
			p.log.Debug("upstream pool closed", "endpoint", k.Addr, "h2c", k.H2C)
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
