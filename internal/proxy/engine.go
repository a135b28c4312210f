package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"portico.dev/portico/internal/proxy/h1"
	"portico.dev/portico/internal/proxy/h2"
)

// Engine is the HTTP implementation behind a listening socket.
type Engine interface {
	// NewServer returns a server that passes every request it reads to h.
	NewServer(h http.Handler, cfg ServerConfig) Server
}

// ServerConfig is what an Engine needs to know about one socket.
type ServerConfig struct {
	// TLS, when set, terminates TLS on accepted connections; it carries
	// the ALPN protocols (h2, http/1.1) and picks certificates per
	// ClientHello. Nil means cleartext: HTTP/1.1 and h2c.
	TLS *tls.Config
	// BaseContext is the parent of every request context. It is cancelled
	// when the socket has been retired and drained, which also ends the
	// upgraded connections (WebSockets) still running on it.
	BaseContext context.Context
	Logger      *slog.Logger
}

// Server serves one listening socket.
type Server interface {
	// Serve accepts connections on ln until ln is closed or Shutdown is
	// called. It takes ownership of ln.
	Serve(ln net.Listener) error
	// Shutdown stops accepting and waits for requests in flight, or for
	// ctx to be done.
	Shutdown(ctx context.Context) error
	// Close closes the socket and every connection at once.
	Close() error
}

// Connection limits of the net/http engine. Request-level timeouts come
// from the IR; these only protect the proxy from idle or slow clients.
const (
	readHeaderTimeout = 30 * time.Second
	idleTimeout       = 2 * time.Minute
)

// EngineEnv names the environment variable that picks the default engine:
// "nethttp" forces NetHTTP; anything else (or unset) is H1.
const EngineEnv = "PORTICO_HTTP_ENGINE"

// DefaultEngine is the engine a Proxy uses when Options.Engine is nil: H1,
// unless PORTICO_HTTP_ENGINE=nethttp.
func DefaultEngine() Engine {
	e, err := EngineByName(os.Getenv(EngineEnv))
	if err != nil {
		return H1{}
	}
	return e
}

// EngineByName returns the engine called name: "h1" (or "") or "nethttp".
func EngineByName(name string) (Engine, error) {
	switch strings.ToLower(name) {
	case "", "h1":
		return H1{}, nil
	case "nethttp", "net/http":
		return NetHTTP{}, nil
	}
	return nil, fmt.Errorf("unknown HTTP engine %q (want h1 or nethttp)", name)
}

// H1 is the Engine built for proxying: its own HTTP/1.1 server (package
// h1) and HTTP/2 server (package h2), which forward the requests they can
// serve natively with h1's upstream client and pass the others to the
// socket's http.Handler. The zero value uses the same connection limits as
// NetHTTP.
type H1 struct {
	ReadHeaderTimeout, IdleTimeout time.Duration
}

func (e H1) NewServer(h http.Handler, cfg ServerConfig) Server {
	c := h1.Config{Handler: h, TLS: cfg.TLS, BaseContext: cfg.BaseContext, Logger: cfg.Logger,
		ReadHeaderTimeout: e.ReadHeaderTimeout, IdleTimeout: e.IdleTimeout}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = readHeaderTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = idleTimeout
	}
	c.HTTP2 = h2.NewServer(h2.Config{Handler: h, BaseContext: cfg.BaseContext, Logger: cfg.Logger,
		PrefaceTimeout: c.ReadHeaderTimeout, IdleTimeout: c.IdleTimeout})
	return h1.NewServer(c)
}

// NetHTTP is the Engine built on net/http, kept for debugging and for
// comparison with H1: do not expose it to untrusted clients. net/http's
// HTTP/1.1 parser repairs what H1 refuses (Content-Length with
// Transfer-Encoding: chunked wins; duplicate equal Content-Lengths, bare
// LF line ends and obs-fold are accepted), and a net.Conn wrapper that
// re-parsed every head with h1's parser would hide the *tls.Conn net/http
// needs for ALPN h2 and Request.TLS. What both engines share is applied
// here too: the 64 KiB head limit (MaxHeaderBytes counts 4 KiB more than
// it says), the backend's refusal of malformed bodies (400) and of
// hop-by-hop fields, the default upstream timeout, and the cancellation
// of a request whose client went away (net/http cancels its context).
// Its Shutdown is net/http's, which waits up to 5-6 s for a connection
// that has not sent a request yet (a spare a client dialed) before
// counting it idle; H1 closes those at once.
type NetHTTP struct{}

func (NetHTTP) NewServer(h http.Handler, cfg ServerConfig) Server {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := cfg.BaseContext
	if base == nil {
		base = context.Background()
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return base },
		// net/http allows MaxHeaderBytes plus 4 KiB of reads for a head:
		// this makes it h1's 64 KiB.
		MaxHeaderBytes: h1.MaxHead - 4<<10,
		Protocols:      new(http.Protocols),
	}
	srv.Protocols.SetHTTP1(true)
	if cfg.TLS != nil {
		srv.Protocols.SetHTTP2(true)
	} else {
		// Prior knowledge is native to net/http; "Upgrade: h2c" is not, so
		// the h2c package takes those requests over.
		srv.Protocols.SetUnencryptedHTTP2(true)
		srv.Handler = h2c.NewHandler(h, &http2.Server{IdleTimeout: idleTimeout})
	}
	return &netHTTPServer{srv: srv, tls: cfg.TLS}
}

type netHTTPServer struct {
	srv *http.Server
	tls *tls.Config
}

func (s *netHTTPServer) Serve(ln net.Listener) error {
	if s.tls != nil {
		// Wrapping the listener (rather than ServeTLS) keeps the per-
		// ClientHello config; net/http still takes h2 from ALPN.
		ln = tls.NewListener(ln, s.tls)
	}
	return s.srv.Serve(ln)
}

func (s *netHTTPServer) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
func (s *netHTTPServer) Close() error                       { return s.srv.Close() }
