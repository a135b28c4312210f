package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/proxy/backend"
	"portico.dev/portico/internal/proxy/h1"
)

// DefaultDrainTimeout bounds how long a removed listener (or Shutdown) waits
// for requests in flight.
const DefaultDrainTimeout = 30 * time.Second

// Options configure a Proxy. The zero value is usable.
type Options struct {
	Logger *slog.Logger
	// DrainTimeout bounds the wait for requests in flight on a listener
	// that was removed; past it, its connections are closed.
	DrainTimeout time.Duration
	// Engine serves HTTP on each socket; DefaultEngine() when nil.
	Engine Engine
	// Listen opens listening sockets; net.ListenConfig.Listen by default.
	// Tests use it to hand over sockets they opened on port 0.
	Listen func(ctx context.Context, network, address string) (net.Listener, error)
	// MirrorTimeout and MirrorConcurrency bound request mirroring
	// (defaults: backend.DefaultMirrorTimeout, DefaultMirrorConcurrency).
	MirrorTimeout     time.Duration
	MirrorConcurrency int
	// UpstreamTimeout bounds the wait for an upstream's response head,
	// from the request's write, on rules that set no timeouts (0:
	// DefaultUpstreamTimeout, negative: none). See the package doc.
	UpstreamTimeout time.Duration
}

// DefaultUpstreamTimeout is Options.UpstreamTimeout's default: nginx's
// proxy_read_timeout.
const DefaultUpstreamTimeout = 60 * time.Second

// Proxy serves the listeners of the last Config it accepted.
type Proxy struct {
	log          *slog.Logger
	engine       Engine
	listen       func(ctx context.Context, network, address string) (net.Listener, error)
	drainTimeout time.Duration
	upTimeout    time.Duration // the default upstream timeout (0: none)
	pool         *backend.Pool
	fast         *h1.Pool // the HTTP/1.1 engine's upstream connections
	mirrors      *backend.MirrorLimiter
	draining     sync.WaitGroup // retired sockets still draining

	mu      sync.Mutex // serialises Apply and Shutdown
	cfg     *ir.Config
	sockets map[string]*socket // by ir.Listener.Name
	closed  bool
}

// New returns a Proxy serving nothing until the first Apply.
func New(opts Options) *Proxy {
	p := &Proxy{
		log:          opts.Logger,
		engine:       opts.Engine,
		listen:       opts.Listen,
		drainTimeout: opts.DrainTimeout,
		sockets:      map[string]*socket{},
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.engine == nil {
		p.engine = DefaultEngine()
	}
	if p.listen == nil {
		p.listen = (&net.ListenConfig{}).Listen
	}
	if p.drainTimeout <= 0 {
		p.drainTimeout = DefaultDrainTimeout
	}
	switch p.upTimeout = opts.UpstreamTimeout; {
	case p.upTimeout == 0:
		p.upTimeout = DefaultUpstreamTimeout
	case p.upTimeout < 0:
		p.upTimeout = 0
	}
	p.pool = backend.NewPool(p.log)
	p.fast = h1.NewPool()
	p.mirrors = backend.NewMirrorLimiter(opts.MirrorConcurrency, opts.MirrorTimeout)
	return p
}

// Config returns the Config being served (nil before the first accepted
// Apply). It must not be modified.
func (p *Proxy) Config() *ir.Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

// Apply builds cfg completely, then swaps it in listener by listener. If
// anything fails to build, nothing changes and Ack.Error says what. Sockets
// that cannot be opened are reported in Ack.ListenerErrors; everything else
// is served, and those sockets are tried again on the next Apply. Apply
// never waits for traffic. cfg must not be modified afterwards.
func (p *Proxy) Apply(cfg *ir.Config) ir.Ack {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cfg == nil {
		return ir.Ack{Error: "no config"}
	}
	ack := ir.Ack{Version: cfg.Version}
	if p.closed {
		ack.Error = "proxy is shut down"
		return ack
	}
	gens, keys, fastKeys, err := p.build(cfg)
	if err != nil {
		ack.Error = err.Error()
		p.log.Warn("config refused, still serving the previous one", "version", cfg.Version, "err", err)
		return ack
	}

	// Retire first: a removed socket (or one changing protocol) frees its
	// port before a new socket binds, in case they overlap.
	for name, s := range p.sockets {
		if g, ok := gens[name]; !ok || s.https != (g.sni != nil) {
			delete(p.sockets, name)
			p.retire(s)
		}
	}
	for i := range cfg.Listeners {
		l := &cfg.Listeners[i]
		g := gens[l.Name]
		if s, ok := p.sockets[l.Name]; ok {
			s.gen.Store(g)
			continue
		}
		s, err := p.open(l, g)
		if err != nil {
			if ack.ListenerErrors == nil {
				ack.ListenerErrors = map[string]string{}
			}
			ack.ListenerErrors[l.Name] = err.Error()
			p.log.Warn("listener not served", "listener", l.Name, "err", err)
			continue
		}
		p.sockets[l.Name] = s
	}
	p.cfg = cfg
	p.pool.Retain(keys)
	p.fast.Retain(fastKeys)
	p.log.Info("config applied", "version", cfg.Version, "listeners", len(p.sockets))
	return ack
}

// build makes the generation of every listener of cfg, or fails naming the
// listener at fault. It leaves running sockets alone.
func (p *Proxy) build(cfg *ir.Config) (map[string]*generation, map[backend.Key]struct{}, map[string]struct{}, error) {
	b := &builder{up: p.pool.NewBuilder(), mirrors: p.mirrors, fast: p.fast, fastKeys: map[string]struct{}{}, upstreamTimeout: p.upTimeout}
	gens := make(map[string]*generation, len(cfg.Listeners))
	for i := range cfg.Listeners {
		l := &cfg.Listeners[i]
		if _, dup := gens[l.Name]; dup {
			return nil, nil, nil, fmt.Errorf("listener %q: listed twice", l.Name)
		}
		g, err := b.build(l)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("listener %q: %w", l.Name, err)
		}
		gens[l.Name] = g
	}
	return gens, b.up.Keys, b.fastKeys, nil
}

// Shutdown stops accepting on every socket, waits for requests in flight
// (and listeners still draining from earlier reloads) until ctx is done,
// then closes what is left. The Proxy cannot be used afterwards.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	sockets := p.sockets
	p.sockets = map[string]*socket{}
	p.mu.Unlock()

	var wg sync.WaitGroup
	errs := make(chan error, len(sockets))
	for _, s := range sockets {
		_ = s.ln.Close() // all sockets stop accepting before any waiting
	}
	for _, s := range sockets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.drain(ctx); err != nil {
				errs <- fmt.Errorf("listener %q: %w", s.name, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	done := make(chan struct{})
	go func() { p.draining.Wait(); p.mirrors.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		all = append(all, fmt.Errorf("draining retired listeners and mirrors: %w", ctx.Err()))
	}
	p.pool.Close()
	p.fast.Close()
	return errors.Join(all...)
}
