package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
	// ConnDone, when set, is called once for every connection Serve
	// accepted, when it is closed or leaves the engine (hijacked): it
	// gives back the socket's connection slot.
	ConnDone func()
	// ReadHeaderTimeout, when positive, replaces the engine's bound on
	// the time to read a request head (readHeaderTimeout).
	ReadHeaderTimeout time.Duration
	// DisableReadiness keeps the engine's connections off package
	// readiness (Options.DisableReadiness).
	DisableReadiness bool
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

// DefaultEngine is the engine a Proxy uses when Options.Engine is nil. The
// library reads no environment: the CLI picks another engine from its
// --http-engine flag (default $PORTICO_HTTP_ENGINE) with EngineByName.
func DefaultEngine() Engine { return H1{} }

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
		ReadHeaderTimeout: e.ReadHeaderTimeout, IdleTimeout: e.IdleTimeout, ConnDone: cfg.ConnDone,
		DisableReadiness: cfg.DisableReadiness}
	if cfg.ReadHeaderTimeout > 0 {
		c.ReadHeaderTimeout = cfg.ReadHeaderTimeout
	}
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

// NetHTTP is the Engine built on net/http, with H1's framing policy:
// net/http's HTTP/1.1 parser repairs what H1 refuses (Content-Length with
// Transfer-Encoding: chunked wins; duplicate equal Content-Lengths, bare
// LF line ends and obs-fold are accepted), so every connection is read
// through an h1.Guard, which checks each head with h1's parser and
// follows the body framing, answering what H1 refuses as H1 does (see
// nethttp_guard.go). TLS is terminated under the guard: net/http sees
// cleartext and serves ALPN h2 as unencrypted HTTP/2; Request.TLS is set
// from the guard. The 64 KiB head limit is the guard's (MaxHeaderBytes,
// which counts 4 KiB more than it says, is set to the same). Shared with
// H1 through the handler: malformed bodies answered 400, no hop-by-hop
// field to the backend, the default upstream timeout, cancellation when
// the client goes away (net/http cancels the request context).
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
	headerTimeout := readHeaderTimeout
	if cfg.ReadHeaderTimeout > 0 {
		headerTimeout = cfg.ReadHeaderTimeout
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: headerTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return base },
		// net/http allows MaxHeaderBytes plus 4 KiB of reads for a head:
		// this makes it h1's 64 KiB.
		MaxHeaderBytes: h1.MaxHead - 4<<10,
		Protocols:      new(http.Protocols),
	}
	if done := cfg.ConnDone; done != nil {
		// net/http never stops for good on an accept error that is
		// Temporary (EMFILE, ENFILE, ECONNABORTED: it backs off 5 ms to
		// 1 s) but returns on others; the proxy's guardedListener retries
		// every error itself, so Serve only sees net.ErrClosed.
		srv.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateClosed || st == http.StateHijacked {
				done()
			}
		}
	}
	// Every connection is an h1.Guard (see framingListener), TLS included:
	// net/http sees cleartext, and serves HTTP/2 (ALPN h2 or prior
	// knowledge) as unencrypted HTTP/2 on it.
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	srv.ConnContext = guardContext
	srv.Handler = withGuardTLS(h)
	if cfg.TLS == nil {
		// "Upgrade: h2c" is not native to net/http: the h2c package takes
		// those requests over.
		srv.Handler = h2c.NewHandler(srv.Handler, &http2.Server{IdleTimeout: idleTimeout})
	}
	return &netHTTPServer{srv: srv, tls: cfg.TLS}
}

type netHTTPServer struct {
	srv *http.Server
	tls *tls.Config
}

func (s *netHTTPServer) Serve(ln net.Listener) error {
	// TLS in the listener (rather than ServeTLS) keeps the per-ClientHello
	// config.
	return s.srv.Serve(framingListener{Listener: ln, tls: s.tls})
}

func (s *netHTTPServer) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
func (s *netHTTPServer) Close() error                       { return s.srv.Close() }
