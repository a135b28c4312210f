package h1

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// HTTP2Server serves the connections that speak HTTP/2 (package h2).
type HTTP2Server interface {
	// ServeConn serves nc, whose next bytes are the client's preface,
	// until it ends; tlsState is nil in cleartext.
	ServeConn(nc net.Conn, tlsState *tls.ConnectionState)
	Shutdown(ctx context.Context) error
	Close()
}

// Router is implemented by the http.Handler given to NewServer when it can
// route a request from its parsed head, without an *http.Request.
type Router interface {
	// RouteH1 returns the fast-path Route of req, or nil when the request
	// must be served by ServeHTTP (the fallback path). req and its strings
	// are only valid during the call.
	RouteH1(req *Request) *Route
}

// Config configures a Server.
type Config struct {
	// Handler serves the requests the fast path does not; if it implements
	// Router, the fast path serves the others.
	Handler http.Handler
	// TLS, when set, terminates TLS on accepted connections (ALPN h2 and
	// http/1.1); nil means cleartext.
	TLS *tls.Config
	// BaseContext is the parent of every fallback request's context.
	BaseContext context.Context
	Logger      *slog.Logger
	// ReadHeaderTimeout bounds the time from a request's first byte to the
	// end of its head; IdleTimeout the wait for the next request on a
	// keep-alive connection.
	ReadHeaderTimeout, IdleTimeout time.Duration
	// HTTP2 serves HTTP/2 over TLS (ALPN h2) and cleartext HTTP/2 with
	// prior knowledge; nil closes those connections. ("Upgrade: h2c" is
	// served by golang.org/x/net's h2c package on the fallback path.)
	HTTP2 HTTP2Server
	// ConnDone, when set, is called once per accepted connection when its
	// goroutine ends (closed, or its HTTP/2 or hijacked life over).
	ConnDone func()
	// DisableReadiness keeps client connections off package readiness:
	// reads wait in Go's poller, and a client that goes away is not seen
	// while its request waits for the upstream.
	DisableReadiness bool
}

// Server serves one listening socket.
type Server struct {
	cfg     Config
	handler http.Handler // fallback: Handler, with "Upgrade: h2c" in cleartext
	router  Router
	log     *slog.Logger

	// base is the http.ServerContextKey value of fallback requests: the
	// h2c package reads its settings when it upgrades a connection.
	base *http.Server

	mu       sync.Mutex
	ln       net.Listener
	conns    map[*conn]struct{}
	shutdown atomic.Bool
	closed   chan struct{}
}

// NewServer returns a server for cfg.
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BaseContext == nil {
		cfg.BaseContext = context.Background()
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	s := &Server{cfg: cfg, handler: cfg.Handler, log: cfg.Logger, conns: map[*conn]struct{}{}, closed: make(chan struct{})}
	s.router, _ = cfg.Handler.(Router)
	h2s := &http2.Server{IdleTimeout: cfg.IdleTimeout}
	if cfg.TLS == nil {
		s.handler = h2c.NewHandler(cfg.Handler, h2s)
	}
	s.base = &http.Server{
		Handler:           cfg.Handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	return s
}

// Serve accepts connections on ln until it is closed or Shutdown or Close
// is called; it then returns http.ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	if s.shutdown.Load() {
		ln.Close()
		return http.ErrServerClosed
	}
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.shutdown.Load() {
				return http.ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Any other error (EMFILE, ENFILE, ENOBUFS, ECONNABORTED...)
			// is the kernel's trouble of the moment, not the socket's end:
			// back off and retry, logging once per episode.
			if delay == 0 {
				s.log.Error("accept failed; retrying with backoff", "listener", ln.Addr().String(), "err", err)
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		if delay > 0 {
			s.log.Info("accepting again", "listener", ln.Addr().String())
			delay = 0
		}
		c := newConn(s, nc)
		if !s.track(c, true) {
			nc.Close()
			s.connDone()
			continue
		}
		go func() {
			c.serve()
			s.connDone()
		}()
	}
}

func (s *Server) connDone() {
	if s.cfg.ConnDone != nil {
		s.cfg.ConnDone()
	}
}

func (s *Server) track(c *conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.shutdown.Load() {
			return false
		}
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
	return true
}

// serveHTTP2 hands nc to the HTTP/2 server, in this goroutine.
func (s *Server) serveHTTP2(nc net.Conn, tlsState *tls.ConnectionState) {
	if s.cfg.HTTP2 == nil {
		nc.Close()
		return
	}
	s.cfg.HTTP2.ServeConn(nc, tlsState)
}

// Shutdown stops accepting, closes idle connections, lets the others
// finish their request and waits for them (and the HTTP/2 connections)
// until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Store(true)
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Unlock()
	h2done := make(chan error, 1)
	go func() {
		if s.cfg.HTTP2 == nil {
			h2done <- nil
			return
		}
		h2done <- s.cfg.HTTP2.Shutdown(ctx)
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.closeIdle() == 0 {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case err := <-h2done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeIdle closes the idle connections and returns how many are left.
func (s *Server) closeIdle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			c.wait.Interrupt()
			c.nc.Close()
			delete(s.conns, c)
		}
	}
	return len(s.conns)
}

// Close closes the socket and every connection at once (hijacked ones
// excepted, as net/http does).
func (s *Server) Close() error {
	s.shutdown.Store(true)
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	for c := range s.conns {
		c.state.Store(stateClosed)
		c.wait.Interrupt()
		c.nc.Close()
		delete(s.conns, c)
	}
	s.mu.Unlock()
	if s.cfg.HTTP2 != nil {
		s.cfg.HTTP2.Close()
	}
	return nil
}
