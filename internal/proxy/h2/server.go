package h2

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"portico.dev/portico/internal/proxy/h1"
)

// Router is implemented by the http.Handler given to NewServer when it can
// route a request from its header fields, without an *http.Request.
type Router interface {
	// RouteH2 returns the fast-path Route of req, or nil when the request
	// must be served by ServeHTTP. req and its strings are only valid
	// during the call.
	RouteH2(req *Request) *h1.Route
}

// Config configures a Server.
type Config struct {
	// Handler serves the requests the fast path does not; if it implements
	// Router, the fast path serves the others.
	Handler http.Handler
	// BaseContext is the parent of every handler request's context.
	BaseContext context.Context
	Logger      *slog.Logger
	// HTTPServer, if set, is the value of http.ServerContextKey in handler
	// request contexts.
	HTTPServer *http.Server
	// PrefaceTimeout bounds the wait for the client's connection preface;
	// IdleTimeout closes a connection without streams for that long.
	PrefaceTimeout, IdleTimeout time.Duration
	// MaxConcurrentStreams is advertised and enforced (REFUSED_STREAM
	// beyond it).
	MaxConcurrentStreams uint32
}

// Defaults of Config.
const (
	defaultPrefaceTimeout = 30 * time.Second
	defaultIdleTimeout    = 2 * time.Minute
	defaultMaxStreams     = 250
)

// Server serves HTTP/2 connections handed to ServeConn.
type Server struct {
	cfg    Config
	router Router
	log    *slog.Logger

	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown atomic.Bool
	idle     chan struct{} // closed and replaced when the last connection ends
}

// NewServer returns a server for cfg.
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BaseContext == nil {
		cfg.BaseContext = context.Background()
	}
	if cfg.PrefaceTimeout <= 0 {
		cfg.PrefaceTimeout = defaultPrefaceTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if cfg.MaxConcurrentStreams == 0 {
		cfg.MaxConcurrentStreams = defaultMaxStreams
	}
	s := &Server{cfg: cfg, log: cfg.Logger, conns: map[*conn]struct{}{}, idle: make(chan struct{})}
	s.router, _ = cfg.Handler.(Router)
	return s
}

// ServeConn serves HTTP/2 on nc, whose next bytes are the client's
// connection preface, until the connection ends. tlsState is nil in
// cleartext. It closes nc.
func (s *Server) ServeConn(nc net.Conn, tlsState *tls.ConnectionState) {
	c := newConn(s, nc, tlsState)
	if !s.track(c, true) {
		nc.Close()
		return
	}
	defer s.track(c, false)
	c.serve()
}

func (s *Server) track(c *conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.shutdown.Load() {
			return false
		}
		s.conns[c] = struct{}{}
		return true
	}
	delete(s.conns, c)
	if len(s.conns) == 0 {
		close(s.idle)
		s.idle = make(chan struct{})
	}
	return true
}

// Shutdown sends GOAWAY on every connection, lets the streams in flight
// finish and waits for the connections to end, or for ctx to be done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Store(true) // no connection is tracked after this
	s.mu.Lock()
	for c := range s.conns {
		// In goroutines: a GOAWAY may wait on a client that stopped
		// reading, and Shutdown answers to ctx.
		go c.goAwayGraceful()
	}
	s.mu.Unlock()
	for {
		s.mu.Lock()
		n, idle := len(s.conns), s.idle
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close closes every connection at once.
func (s *Server) Close() {
	s.shutdown.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.nc.Close()
	}
}
