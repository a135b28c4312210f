package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
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
	// MaxConnections bounds the connections each socket holds open at
	// once; at the limit it stops accepting until one closes. 0 means
	// DefaultMaxConnections(), negative means no limit.
	MaxConnections int
	// ReadHeaderTimeout bounds the time to read a request head (engine
	// default, 30 s, when 0).
	ReadHeaderTimeout time.Duration
	// OnListenerChange, when set, is called (from any goroutine, and it
	// must not block) when what Ack would answer changes outside Apply: a
	// socket starts or stops failing to accept, or a busy port was bound
	// by the background retry.
	OnListenerChange func()
	// UpstreamTimeout bounds the wait for an upstream's response head,
	// from the request's write, on rules that set no timeouts (0:
	// DefaultUpstreamTimeout, negative: none). See the package doc.
	UpstreamTimeout time.Duration
	// DisableReadiness keeps client and upstream connections off package
	// readiness (its epoll hints): every read waits in Go's poller, and a
	// client that goes away is noticed by the upstream timeout only. The
	// CLI sets it from PORTICO_READINESS=off.
	DisableReadiness bool
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
	maxConns     int
	headerTO     time.Duration
	noReadiness  bool
	onChange     func()

	mu      sync.Mutex // serialises Apply and Shutdown
	cfg     *ir.Config
	ack     ir.Ack             // of the last Apply, without the live fields
	sockets map[string]*socket // by ir.Listener.Name
	retries map[string]*bindRetry
	// keys and fastKeys are the upstream pools the generations being
	// served use: a listener that fails to build keeps its previous one.
	keys     map[backend.Key]struct{}
	fastKeys map[string]struct{}
	closed   bool
}

// New returns a Proxy serving nothing until the first Apply.
func New(opts Options) *Proxy {
	p := &Proxy{
		log:          opts.Logger,
		engine:       opts.Engine,
		listen:       opts.Listen,
		drainTimeout: opts.DrainTimeout,
		sockets:      map[string]*socket{},
		retries:      map[string]*bindRetry{},
		maxConns:     opts.MaxConnections,
		headerTO:     opts.ReadHeaderTimeout,
		noReadiness:  opts.DisableReadiness,
		onChange:     opts.OnListenerChange,
	}
	if p.maxConns == 0 {
		p.maxConns = DefaultMaxConnections()
	}
	if p.onChange == nil {
		p.onChange = func() {}
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
	p.fast = h1.NewPool(h1.PoolOptions{DisableReadiness: opts.DisableReadiness})
	p.mirrors = backend.NewMirrorLimiter(opts.MirrorConcurrency, opts.MirrorTimeout)
	return p
}

// Config returns the Config of the last Apply (nil before the first); its
// listeners in that Apply's Ack.InvalidListeners are not served as listed.
// It must not be modified.
func (p *Proxy) Config() *ir.Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

// Apply builds every listener of cfg, then swaps the ones that built in,
// listener by listener. A listener that fails to build is reported in
// Ack.InvalidListeners and left as it was (its socket, if it had one, keeps
// serving its previous generation); sockets that cannot be opened are
// reported in Ack.ListenerErrors and retried in the background
// (bindRetry). Everything else is served. Ack.Error is set only when
// nothing can be applied (no config, or the proxy is shut down). Apply
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
	gens, invalid, keys, fastKeys := p.build(cfg)
	for name, msg := range invalid {
		p.log.Error("listener not applied: it cannot be built; its previous version, if any, is still served",
			"listener", name, "gateways", gatewayListeners(cfg, name), "err", msg)
	}

	// Retire first: a removed socket (or one changing protocol) frees its
	// port before a new socket binds, in case they overlap. A socket whose
	// new version did not build stays as it is.
	for name, s := range p.sockets {
		if _, bad := invalid[name]; bad {
			continue
		}
		if g, ok := gens[name]; !ok || s.https != (g.sni != nil) {
			delete(p.sockets, name)
			p.retire(s)
		}
	}
	for name := range p.retries {
		if _, ok := gens[name]; !ok {
			p.stopRetry(name)
		}
	}
	for i := range cfg.Listeners {
		l := &cfg.Listeners[i]
		g, ok := gens[l.Name]
		if !ok {
			continue
		}
		if s, ok := p.sockets[l.Name]; ok {
			s.gen.Store(g)
			continue
		}
		p.stopRetry(l.Name)
		s, err := p.open(l, g)
		if err != nil {
			if ack.ListenerErrors == nil {
				ack.ListenerErrors = map[string]string{}
			}
			ack.ListenerErrors[l.Name] = err.Error()
			p.startRetry(l, g, err)
			continue
		}
		p.sockets[l.Name] = s
	}
	for name := range invalid {
		if _, kept := p.sockets[name]; kept {
			// Its previous generation still uses the previous pools.
			maps.Copy(keys, p.keys)
			maps.Copy(fastKeys, p.fastKeys)
			break
		}
	}
	if len(invalid) > 0 {
		ack.InvalidListeners = invalid
	}
	p.cfg, p.ack = cfg, ack
	p.keys, p.fastKeys = keys, fastKeys
	p.pool.Retain(keys)
	p.fast.Retain(fastKeys)
	// Debug: the caller logs the one line per reload (the standalone
	// runner's summary, portico proxy's "config applied").
	p.log.Debug("config applied", "version", cfg.Version, "listeners", len(p.sockets),
		"invalidListeners", len(invalid), "bindErrors", len(ack.ListenerErrors))
	return p.liveAck()
}

// build makes the generation of every listener of cfg that builds, and
// says, by listener name, why the others do not. It leaves running
// sockets alone. Each listener gets its own backend builder, so one
// listener's bad backend TLS cannot fail the others.
func (p *Proxy) build(cfg *ir.Config) (gens map[string]*generation, invalid map[string]string, keys map[backend.Key]struct{}, fastKeys map[string]struct{}) {
	gens = make(map[string]*generation, len(cfg.Listeners))
	invalid = map[string]string{}
	keys, fastKeys = map[backend.Key]struct{}{}, map[string]struct{}{}
	seen := map[string]bool{}
	for i := range cfg.Listeners {
		l := &cfg.Listeners[i]
		if seen[l.Name] {
			invalid[l.Name] = "listed twice in the configuration"
			delete(gens, l.Name)
			continue
		}
		seen[l.Name] = true
		b := &builder{up: p.pool.NewBuilder(), mirrors: p.mirrors, fast: p.fast, fastKeys: map[string]struct{}{}, upstreamTimeout: p.upTimeout}
		g, err := b.build(l)
		if err != nil {
			invalid[l.Name] = err.Error()
			continue
		}
		gens[l.Name] = g
		maps.Copy(keys, b.up.Keys)
		maps.Copy(fastKeys, b.fastKeys)
	}
	return gens, invalid, keys, fastKeys
}

// Shutdown stops accepting on every socket, waits for requests in flight
// (and listeners still draining from earlier reloads) until ctx is done,
// then closes what is left. The Proxy cannot be used afterwards.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	for name := range p.retries {
		p.stopRetry(name)
	}
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
