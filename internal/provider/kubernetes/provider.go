package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"portico.dev/portico/internal/infra"
	"portico.dev/portico/internal/ir"
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

// Options configure a Provider.
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
	// Debounce is how long a burst of events settles before a reconcile.
	Debounce time.Duration
	Logger   *slog.Logger
}

// Provider runs the pipeline against an API server; see the package
// documentation.
type Provider struct {
	opts   Options
	log    *slog.Logger
	mgr    manager.Manager
	cs     ConfigServer
	box    *mailbox
	prov   *provisioner
	status *statusWriter
	ready  atomic.Bool
	// trustBundles is the ClusterTrustBundle API version read, if any.
	trustBundles trustBundleAPI

	// Owned by the reconcile loop.
	published map[string]bool
	warned    map[string]bool
}

// New builds the manager, its caches and informers. Nothing runs until Run.
func New(cfg *rest.Config, cs ConfigServer, opts Options) (*Provider, error) {
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
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	orZero := func(addr string) string {
		if addr == "" {
			return "0"
		}
		return addr
	}
	mgr, err := manager.New(cfg, manager.Options{
		Scheme:                        scheme,
		Logger:                        logr.FromSlogHandler(opts.Logger.Handler()),
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              opts.LeaderElectionID,
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Metrics:                       metricsserver.Options{BindAddress: orZero(opts.MetricsAddress)},
		HealthProbeBindAddress:        orZero(opts.HealthAddress),
		Cache: cache.Options{
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&appsv1.Deployment{}: {Label: labels.SelectorFromSet(labels.Set{infra.LabelManagedBy: infra.ManagedBy})},
				&corev1.ConfigMap{}:  {Transform: caBundleOnly},
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the controller manager: %w", err)
	}
	p := &Provider{
		opts: opts, log: opts.Logger, mgr: mgr, cs: cs, box: newMailbox(),
		prov:      &provisioner{client: mgr.GetClient(), opts: opts.Infra, log: opts.Logger},
		status:    &statusWriter{client: mgr.GetClient(), reader: mgr.GetAPIReader(), log: opts.Logger},
		published: map[string]bool{}, warned: map[string]bool{},
	}
	var optional []client.Object
	p.trustBundles = discoverTrustBundleAPI(mgr.GetRESTMapper())
	if o := p.trustBundles.object(); o != nil {
		optional = append(optional, o)
	} else {
		p.log.Info("the API server serves no ClusterTrustBundle API; BackendTLSPolicy caCertificateRefs to ClusterTrustBundles will not resolve")
	}
	if err := watch(context.Background(), mgr.GetCache(), p.box, optional...); err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("first-reconcile", func(*http.Request) error {
		if !p.ready.Load() {
			return errors.New("the first reconcile has not finished")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if opts.ConfigStreamAddress != "" {
		if err := mgr.Add(everyReplica(p.serveConfigStream)); err != nil {
			return nil, err
		}
	}
	if err := mgr.Add(everyReplica(p.loop)); err != nil {
		return nil, err
	}
	return p, nil
}

// Run runs the manager (caches, leader election, servers) and the
// reconcile loop until ctx ends or leadership is lost.
func (p *Provider) Run(ctx context.Context) error {
	return p.mgr.Start(ctx)
}

// Ready reports whether the first reconcile has finished.
func (p *Provider) Ready() bool { return p.ready.Load() }

// everyReplica is a runnable that runs on every replica, leader or not.
type everyReplica func(context.Context) error

func (f everyReplica) Start(ctx context.Context) error { return f(ctx) }
func (everyReplica) NeedLeaderElection() bool          { return false }

func (p *Provider) leading() bool {
	select {
	case <-p.mgr.Elected():
		return true
	default:
		return false
	}
}

func (p *Provider) serveConfigStream(ctx context.Context) error {
	ln, err := net.Listen("tcp", p.opts.ConfigStreamAddress)
	if err != nil {
		return fmt.Errorf("--config-stream-address %s: %w", p.opts.ConfigStreamAddress, err)
	}
	srv := &http.Server{Handler: p.cs.Handler(), ReadHeaderTimeout: 10 * time.Second}
	p.log.Info("config stream listening", "address", ln.Addr().String())
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

// loop reconciles whenever the mailbox says something changed.
func (p *Provider) loop(ctx context.Context) error {
	if !p.mgr.GetCache().WaitForCacheSync(ctx) {
		return errors.New("the informer caches did not sync")
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-p.cs.Changes():
				p.box.Poke()
			}
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
		case <-p.mgr.Elected():
			p.log.Info("leading: writing status and provisioning proxies")
			p.box.Poke()
		}
	}()
	p.box.Poke()
	var backoff time.Duration
	for p.box.Wait(ctx, p.opts.Debounce) {
		start := time.Now()
		err := p.reconcile(ctx)
		reconcileDuration.Observe(time.Since(start).Seconds())
		if err == nil {
			reconciles.WithLabelValues("ok").Inc()
			backoff = 0
			continue
		}
		if ctx.Err() != nil {
			break
		}
		reconciles.WithLabelValues("error").Inc()
		backoff = min(max(2*backoff, 250*time.Millisecond), 30*time.Second)
		p.log.Error("reconcile failed; retrying", "in", backoff, "err", err)
		time.AfterFunc(backoff, p.box.Poke)
	}
	return nil
}
