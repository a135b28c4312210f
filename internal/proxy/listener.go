package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"portico.dev/portico/internal/ir"
)

// socket is one listening socket and the generation it currently serves.
// It outlives generations: Apply swaps gen, never the socket.
type socket struct {
	name     string
	describe string // the Gateway listeners it serves, for messages
	https    bool
	ln       net.Listener
	gl       *guardedListener // ln, seen as what it is
	srv      Server
	gen      atomic.Pointer[generation]
	cancel   context.CancelFunc // ends the base context of its requests
	served   chan struct{}      // closed when Serve returns
	// upgrades counts requests asking for an Upgrade: once switched they
	// are hijacked connections that the engine's Shutdown no longer sees.
	upgrades atomic.Int64
	log      *slog.Logger
}

// ServeHTTP is the stable entry point the engine calls: it normalises the
// request's path (or answers 400) and loads the generation per request, so
// a keep-alive connection follows reloads.
func (s *socket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !normalizeRequest(w, r) {
		return
	}
	if _, ok := r.Header["Upgrade"]; ok {
		s.upgrades.Add(1)
		defer s.upgrades.Add(-1)
	}
	s.gen.Load().handler.ServeHTTP(w, r)
}

// configForClient gives each TLS handshake the current generation's
// certificates for its server name.
func (s *socket) configForClient(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	return s.gen.Load().sni.forName(hello.ServerName).config, nil
}

// open binds l's socket and starts serving g on it.
func (p *Proxy) open(l *ir.Listener, g *generation) (*socket, error) {
	raw, err := p.listen(context.Background(), "tcp", l.Name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &socket{
		name:     l.Name,
		describe: describeListener(l),
		https:    l.Protocol == ir.ProtocolHTTPS,
		cancel:   cancel,
		served:   make(chan struct{}),
	}
	s.log = p.log.With("listener", l.Name, "gateways", s.describe)
	s.gl = newGuardedListener(raw, p.maxConns, s.log, p.onChange)
	s.ln = s.gl
	s.gen.Store(g)
	cfg := ServerConfig{BaseContext: ctx, Logger: s.log, ConnDone: s.gl.release, ReadHeaderTimeout: p.headerTO,
		DisableReadiness: p.noReadiness}
	if s.https {
		cfg.TLS = &tls.Config{
			MinVersion:         tls.VersionTLS12,
			CipherSuites:       tls12CipherSuites,
			NextProtos:         alpn,
			GetConfigForClient: s.configForClient,
		}
	}
	s.srv = p.engine.NewServer(s, cfg)
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("listener stopped", "err", err)
		}
	}()
	s.log.Info("listening", "protocol", l.Protocol)
	return s, nil
}

// retire stops accepting on s at once (so its port can be bound again) and
// closes it in the background once its requests are done, or after the
// drain timeout.
func (p *Proxy) retire(s *socket) {
	_ = s.ln.Close()
	p.draining.Add(1)
	go func() {
		defer p.draining.Done()
		ctx, cancel := context.WithTimeout(context.Background(), p.drainTimeout)
		defer cancel()
		if err := s.drain(ctx); err != nil {
			s.log.Debug("drain cut short", "err", err)
		}
		s.log.Info("listener closed")
	}()
}

// drain waits until ctx is done for the requests in flight, upgraded
// connections included (the engine no longer tracks those), then closes
// everything left: cancelling the base context ends the upgraded ones.
func (s *socket) drain(ctx context.Context) error {
	_ = s.ln.Close()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, net.ErrClosed) { // we closed the socket first, on purpose
		err = nil
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for err == nil && s.upgrades.Load() > 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	s.cancel()
	_ = s.srv.Close()
	<-s.served
	return err
}
