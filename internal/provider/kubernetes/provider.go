package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

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
)

// Options configure a Provider.
type Options struct {
	// LeaderElection makes only the holder of the Lease
	// LeaderElectionNamespace/LeaderElectionID lead (Leading).
	LeaderElection          bool
	LeaderElectionNamespace string
	LeaderElectionID        string
	// MetricsAddress serves Prometheus metrics at /metrics ("0" or "" disables).
	MetricsAddress string
	// HealthAddress serves /healthz and /readyz ("0" or "" disables).
	HealthAddress string
	// OnChange is called on every change of every watched object, from the
	// informers' goroutines: it must not block (post to a run loop).
	OnChange func()
	Logger   *slog.Logger
}

// Provider watches an API server: see the package documentation.
type Provider struct {
	mgr   manager.Manager
	log   *slog.Logger
	store *Store
}

// New builds the manager, its caches and informers. Nothing runs until Run.
func New(cfg *rest.Config, opts Options) (*Provider, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.OnChange == nil {
		opts.OnChange = func() {}
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
	p := &Provider{mgr: mgr, log: opts.Logger, store: NewStore(mgr.GetClient(), mgr.GetAPIReader(), opts.Logger)}
	var optional []client.Object
	p.store.trustBundles = discoverTrustBundleAPI(mgr.GetRESTMapper())
	if o := p.store.trustBundles.object(); o != nil {
		optional = append(optional, o)
	} else {
		p.log.Info("the API server serves no ClusterTrustBundle API; BackendTLSPolicy caCertificateRefs to ClusterTrustBundles will not resolve")
	}
	if err := watch(context.Background(), mgr.GetCache(), opts.OnChange, optional...); err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	return p, nil
}

// Run runs the manager (caches, leader election, servers) and what was
// added to it until ctx ends or leadership is lost.
func (p *Provider) Run(ctx context.Context) error {
	return p.mgr.Start(ctx)
}

// Store reads the cluster state from the informer caches and writes
// status through the API server.
func (p *Provider) Store() *Store { return p.store }

// Add runs f on every replica, leader or not, while Run runs: it starts
// once the caches are started, and its context ends when Run stops.
func (p *Provider) Add(f func(context.Context) error) error {
	return p.mgr.Add(everyReplica(f))
}

// AddReadyzCheck makes /readyz answer ready only while ready returns nil.
func (p *Provider) AddReadyzCheck(name string, ready func() error) error {
	return p.mgr.AddReadyzCheck(name, func(*http.Request) error { return ready() })
}

// WaitForCacheSync waits for the informers' first list; an error when ctx
// ends first.
func (p *Provider) WaitForCacheSync(ctx context.Context) error {
	if !p.mgr.GetCache().WaitForCacheSync(ctx) {
		return errors.New("the informer caches did not sync")
	}
	return nil
}

// Elected is closed when this replica becomes the leader (at once without
// leader election).
func (p *Provider) Elected() <-chan struct{} { return p.mgr.Elected() }

// Leading reports whether this replica leads: only the leader writes.
func (p *Provider) Leading() bool {
	select {
	case <-p.mgr.Elected():
		return true
	default:
		return false
	}
}

// everyReplica is a runnable that runs on every replica, leader or not.
type everyReplica func(context.Context) error

func (f everyReplica) Start(ctx context.Context) error { return f(ctx) }
func (everyReplica) NeedLeaderElection() bool          { return false }
