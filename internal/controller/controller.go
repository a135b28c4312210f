package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"

	"portico.dev/portico/internal/infra"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/kubernetes"
	"portico.dev/portico/internal/runloop"
)

// ConfigServer is the controller side of the config stream
// (*configsync.Server).
type ConfigServer interface {
	AckSource
	// Publish makes cfg the configuration of gateway ("namespace/name");
	// it does nothing when cfg equals the last one published.
	Publish(gateway string, cfg ir.Config)
	// Remove forgets gateway's configuration.
	Remove(gateway string)
	// Changes fires (coalescing) when an Ack may have changed.
	Changes() <-chan struct{}
	// Handler serves the stream to the proxies.
	Handler() http.Handler
}

// Defaults of Options.
const (
	DefaultLeaderElectionID    = "portico-controller"
	DefaultConfigStreamAddress = ":18000"
	DefaultDebounce            = 100 * time.Millisecond
)

// retry is the backoff of a failed reconcile.
var retry = runloop.Backoff{Min: 250 * time.Millisecond, Max: 30 * time.Second}

// Options configure a Controller.
type Options struct {
	// Infra is what the provisioned proxies look like.
	Infra infra.Options
	// LeaderElection makes only the holder of the Lease
	// LeaderElectionNamespace/LeaderElectionID write status and provision.
	LeaderElection          bool
	LeaderElectionNamespace string
	LeaderElectionID        string
	// MetricsAddress serves Prometheus metrics at /metrics ("0" or "" disables).
	MetricsAddress string
	// HealthAddress serves /healthz and /readyz ("0" or "" disables).
	HealthAddress string
	// ConfigStreamAddress is where the proxies poll their configuration
	// ("" disables, for tests that call the ConfigServer directly).
	ConfigStreamAddress string
	// Debounce is the window in which a burst of events settles before a
	// reconcile (runloop.Window).
	Debounce time.Duration
	Logger   *slog.Logger
}

// Controller runs the pipeline against an API server; see the package
// documentation.
type Controller struct {
	opts    Options
	log     *slog.Logger
	cs      ConfigServer
	box     *runloop.Mailbox[struct{}]
	cluster *kubernetes.Provider // nil in tests, which call sync
	store   *kubernetes.Store
	prov    *provisioner
	ready   atomic.Bool

	// Owned by the reconcile loop.
	published map[string]bool
	warned    map[string]bool
}

// New builds the provider (manager, caches, informers) and the controller
// around it. Nothing runs until Run.
func New(cfg *rest.Config, cs ConfigServer, opts Options) (*Controller, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LeaderElectionID == "" {
		opts.LeaderElectionID = DefaultLeaderElectionID
	}
	if opts.Debounce == 0 {
		opts.Debounce = DefaultDebounce
	}
	opts.Infra = opts.Infra.WithDefaults()
	if err := opts.Infra.Validate(); err != nil {
		return nil, err
	}
	box := runloop.NewMailbox[struct{}](runloop.Window(opts.Debounce), nil)
	cluster, err := kubernetes.New(cfg, kubernetes.Options{
		LeaderElection:          opts.LeaderElection,
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		LeaderElectionID:        opts.LeaderElectionID,
		MetricsAddress:          opts.MetricsAddress,
		HealthAddress:           opts.HealthAddress,
		OnChange:                func() { box.Post(struct{}{}) },
		Logger:                  opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	c := newController(opts, cs, cluster.Store(), box)
	c.cluster = cluster
	if err := cluster.AddReadyzCheck("first-reconcile", func() error {
		if !c.ready.Load() {
			return errors.New("the first reconcile has not finished")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if opts.ConfigStreamAddress != "" {
		if err := cluster.Add(c.serveConfigStream); err != nil {
			return nil, err
		}
	}
	if err := cluster.Add(c.loop); err != nil {
		return nil, err
	}
	return c, nil
}

// newController is a Controller over store, without a provider to run it.
func newController(opts Options, cs ConfigServer, store *kubernetes.Store, box *runloop.Mailbox[struct{}]) *Controller {
	return &Controller{
		opts: opts, log: opts.Logger, cs: cs, box: box, store: store,
		prov:      &provisioner{client: store.Client(), opts: opts.Infra, log: opts.Logger},
		published: map[string]bool{}, warned: map[string]bool{},
	}
}

// Run runs the provider (caches, leader election, servers), the config
// stream and the reconcile loop until ctx ends or leadership is lost.
func (c *Controller) Run(ctx context.Context) error {
	return c.cluster.Run(ctx)
}

// Ready reports whether the first reconcile has finished.
func (c *Controller) Ready() bool { return c.ready.Load() }

func (c *Controller) poke() { c.box.Post(struct{}{}) }

func (c *Controller) serveConfigStream(ctx context.Context) error {
	ln, err := net.Listen("tcp", c.opts.ConfigStreamAddress)
	if err != nil {
		return fmt.Errorf("--config-stream-address %s: %w", c.opts.ConfigStreamAddress, err)
	}
	srv := &http.Server{Handler: c.cs.Handler(), ReadHeaderTimeout: 10 * time.Second}
	c.log.Info("config stream listening", "address", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("config stream: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

// loop reconciles whenever the mailbox says something changed: a watched
// object, a proxy's ack, or this replica becoming the leader.
func (c *Controller) loop(ctx context.Context) error {
	if err := c.cluster.WaitForCacheSync(ctx); err != nil {
		return err
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.cs.Changes():
				c.poke()
			}
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
		case <-c.cluster.Elected():
			c.log.Info("leading: writing status and provisioning proxies")
			c.poke()
		}
	}()
	c.poke()
	runloop.Loop[struct{}]{
		Mailbox: c.box,
		Retry:   retry,
		Do: func(ctx context.Context, _ struct{}) error {
			start := time.Now()
			err := c.sync(ctx, c.cluster.Leading())
			reconcileDuration.Observe(time.Since(start).Seconds())
			if err == nil {
				reconciles.WithLabelValues("ok").Inc()
			}
			return err
		},
		OnError: func(_ struct{}, err error, retryIn time.Duration) {
			reconciles.WithLabelValues("error").Inc()
			c.log.Error("reconcile failed; retrying", "in", retryIn, "err", err)
		},
	}.Run(ctx)
	return nil
}
