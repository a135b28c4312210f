package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"portico.dev/portico/internal/configsync"
	"portico.dev/portico/internal/controller"
	"portico.dev/portico/internal/infra"
)

const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

func controllerCmd(args []string, _, stderr io.Writer) int {
	fs := newFlags("controller [flags]",
		"Run the Kubernetes controller: watch Gateway API resources, provision a proxy Deployment and Service\n"+
			"per Gateway, stream each Gateway's configuration to its proxies and write status (leader only).", stderr)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file; default: in-cluster config, else $KUBECONFIG or ~/.kube/config")
	namespace := fs.String("namespace", "", "the controller's namespace; default: $POD_NAMESPACE, the service account's namespace, else portico-system")
	leaderElect := fs.Bool("leader-elect", true, "hold a Lease so that only one replica writes status and provisions proxies")
	leNamespace := fs.String("leader-election-namespace", "", "namespace of the leader election Lease (default: --namespace)")
	leID := fs.String("leader-election-id", controller.DefaultLeaderElectionID, "name of the leader election Lease")
	streamAddr := fs.String("config-stream-address", controller.DefaultConfigStreamAddress, "address the proxies' config stream is served on")
	controllerURL := fs.String("controller-url", "", "URL the proxies reach the config stream at (default: http://portico-controller.NAMESPACE.svc:PORT of --config-stream-address)")
	proxyImage := fs.String("proxy-image", infra.DefaultProxyImage, "container image of the proxies (it must have the portico binary on its PATH)")
	pullPolicy := fs.String("proxy-image-pull-policy", "", "imagePullPolicy of the proxies: Always, IfNotPresent or Never (default: the Kubernetes default)")
	serviceType := fs.String("service-type", string(infra.DefaultServiceType), "type of each Gateway's Service: LoadBalancer, ClusterIP or NodePort")
	replicas := fs.Int("proxy-replicas", infra.DefaultReplicas, "proxy Pods per Gateway")
	metricsAddr := fs.String("metrics-address", ":18001", "address of the Prometheus /metrics endpoint; 0 disables")
	healthAddr := fs.String("health-address", ":18002", "address of /healthz and /readyz; 0 disables")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "portico controller: "+format+"\n", a...)
		return code
	}
	log, err := newLogger(*logLevel, stderr)
	if err != nil {
		return fail(2, "%v", err)
	}
	ns := *namespace
	if ns == "" {
		ns = controllerNamespace()
	}
	if *leNamespace == "" {
		*leNamespace = ns
	}
	if *controllerURL == "" {
		_, port, err := net.SplitHostPort(*streamAddr)
		if err != nil || port == "" {
			return fail(2, "--config-stream-address %q: want host:port or :port", *streamAddr)
		}
		*controllerURL = fmt.Sprintf("http://portico-controller.%s.svc:%s", ns, port)
	}
	switch corev1.PullPolicy(*pullPolicy) {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		return fail(2, "--proxy-image-pull-policy %q: use Always, IfNotPresent or Never", *pullPolicy)
	}
	infraOpts := infra.Options{
		ProxyImage:      *proxyImage,
		ImagePullPolicy: corev1.PullPolicy(*pullPolicy),
		Replicas:        int32(*replicas),
		ServiceType:     corev1.ServiceType(*serviceType),
		ControllerURL:   *controllerURL,
	}
	if *replicas < 1 || *replicas > 1000 {
		return fail(2, "--proxy-replicas %d: want 1 to 1000", *replicas)
	}
	if err := infraOpts.WithDefaults().Validate(); err != nil {
		return fail(2, "%v", err)
	}
	cfg, err := restConfig(*kubeconfig)
	if err != nil {
		return fail(1, "%v", err)
	}

	// client-go and controller-runtime log through the same slog logger.
	klog.SetSlogLogger(log)
	ctrllog.SetLogger(logr.FromSlogHandler(log.Handler()))

	// The stages, in order: the config stream the proxies poll; the
	// controller (the provider's informers -> snapshot -> compute ->
	// publish to the stream -> provision and write status when leading);
	// both run until a signal, or until leadership is lost.
	stream := configsync.NewServer(log)
	ctrl, err := controller.New(cfg, stream, controller.Options{
		Infra:                   infraOpts,
		LeaderElection:          *leaderElect,
		LeaderElectionNamespace: *leNamespace,
		LeaderElectionID:        *leID,
		MetricsAddress:          *metricsAddr,
		HealthAddress:           *healthAddr,
		ConfigStreamAddress:     *streamAddr,
		Logger:                  log,
	})
	if err != nil {
		return fail(1, "%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("controller starting", "apiServer", cfg.Host, "namespace", ns, "leaderElection", *leaderElect,
		"configStream", *streamAddr, "controllerURL", *controllerURL, "proxyImage", infraOpts.ProxyImage, "serviceType", *serviceType)
	if err := ctrl.Run(ctx); err != nil {
		return fail(1, "%v", err)
	}
	log.Info("controller stopped")
	return 0
}

// controllerNamespace is $POD_NAMESPACE, else the namespace of the
// service account the Pod runs as, else portico-system.
func controllerNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if b, err := os.ReadFile(serviceAccountNamespaceFile); err == nil {
		if ns := strings.TrimSpace(string(b)); ns != "" {
			return ns
		}
	}
	return "portico-system"
}

// restConfig loads --kubeconfig if given; otherwise the in-cluster config
// when running in a Pod, else $KUBECONFIG or ~/.kube/config.
func restConfig(path string) (*rest.Config, error) {
	var (
		cfg *rest.Config
		err error
	)
	switch {
	case path != "":
		cfg, err = clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
		}
	default:
		if cfg, err = rest.InClusterConfig(); err != nil {
			rules := clientcmd.NewDefaultClientConfigLoadingRules()
			cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
			if err != nil {
				return nil, fmt.Errorf("no Kubernetes API server configured: not running in a cluster, and $KUBECONFIG / ~/.kube/config: %w (use --kubeconfig FILE)", err)
			}
		}
	}
	// One reconcile may write the status of every object; the client-go
	// default (5 per second) would make a large change take minutes.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 100, 200
	}
	cfg.UserAgent = "portico-controller"
	return cfg, nil
}
