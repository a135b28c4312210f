package controller

import (
	"context"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/configsync"
	"portico.dev/portico/internal/features"
	"portico.dev/portico/internal/infra"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/kubernetes"
)

// TestAgainstAPIServer runs the controller against a real kube-apiserver and
// etcd (controller-runtime's envtest) with the Gateway API CRDs, and an
// in-process proxy stand-in on the real config stream. Set
// KUBEBUILDER_ASSETS to a directory with kube-apiserver and etcd (the
// conformance harness's build, ${PORTICO_CACHE:-/var/cache/portico}/kube-v1.36.3/<hash>/,
// works: its embedded etcd is detected).
func TestAgainstAPIServer(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Skip("KUBEBUILDER_ASSETS is not set: skipping the test against a real API server " +
			"(set it to a directory holding kube-apiserver and etcd, e.g. the conformance harness's /var/cache/portico/kube-v1.36.3/<hash>)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{gatewayAPICRDs(t)},
		ErrorIfCRDPathMissing: true,
		ControlPlane:          envtest.ControlPlane{Etcd: etcdFor(t, assets)},
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting kube-apiserver and etcd from %s: %v", assets, err)
	}
	t.Cleanup(func() { _ = env.Stop() })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	scheme, err := kubernetes.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}))
	must(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "portico-system"}}))
	must(c.Create(ctx, class("portico")))
	gw := gateway("apps", "web")
	gw.UID, gw.Generation, gw.CreationTimestamp = "", 0, metav1.Time{}
	gw.Spec.Infrastructure = &gwv1.GatewayInfrastructure{
		Labels:      map[gwv1.LabelKey]gwv1.LabelValue{"key2": "value2"},
		Annotations: map[gwv1.AnnotationKey]gwv1.AnnotationValue{"key1": "value1"},
	}
	must(c.Create(ctx, gw))
	r := route("apps", "r", "web")
	r.Generation, r.CreationTimestamp = 0, metav1.Time{}
	must(c.Create(ctx, r))

	// The controller, with a real config stream served over HTTP.
	stream := configsync.NewServer(testLog)
	srv := httptest.NewServer(stream.Handler())
	defer srv.Close()
	ctl, err := New(cfg, stream, Options{
		Infra:          infra.Options{ControllerURL: srv.URL},
		LeaderElection: true, LeaderElectionNamespace: "portico-system",
		Debounce: 20 * time.Millisecond, Logger: testLog,
	})
	must(err)
	runErr := make(chan error, 1)
	go func() { runErr <- ctl.Run(ctx) }()

	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			select {
			case err := <-runErr:
				t.Fatalf("the controller stopped while waiting for %s: %v", what, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	key := types.NamespacedName{Namespace: "apps", Name: "portico-web"}
	svc := &corev1.Service{}
	eventually("the proxy Deployment and Service", func() bool {
		return c.Get(ctx, key, &appsv1.Deployment{}) == nil && c.Get(ctx, key, svc) == nil
	})
	if svc.Labels["key2"] != "value2" || svc.Annotations["key1"] != "value1" || svc.Labels[gwv1.GatewayNameLabelKey] != "web" {
		t.Errorf("Service metadata: labels %v annotations %v", svc.Labels, svc.Annotations)
	}
	eventually("GatewayClass Accepted with supportedFeatures", func() bool {
		gc := &gwv1.GatewayClass{}
		return c.Get(ctx, types.NamespacedName{Name: "portico"}, gc) == nil &&
			meta.IsStatusConditionTrue(gc.Status.Conditions, "Accepted") && len(gc.Status.SupportedFeatures) == len(features.Names())
	})

	// A stand-in proxy acks every version; the "load balancer" assigns an IP.
	proxy := &configsync.Client{URL: srv.URL, Gateway: "apps/web", ProxyID: "test-proxy", Log: testLog}
	go func() { _ = proxy.Run(ctx, func(*ir.Config) ir.Ack { return ir.Ack{} }) }()
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.10"}}
	must(c.Status().Update(ctx, svc))

	eventually("Gateway Programmed with the load balancer's address", func() bool {
		got := &gwv1.Gateway{}
		return c.Get(ctx, types.NamespacedName{Namespace: "apps", Name: "web"}, got) == nil &&
			meta.IsStatusConditionTrue(got.Status.Conditions, "Programmed") &&
			len(got.Status.Addresses) == 1 && got.Status.Addresses[0].Value == "203.0.113.10"
	})
	eventually("HTTPRoute Accepted", func() bool {
		got := &gwv1.HTTPRoute{}
		return c.Get(ctx, types.NamespacedName{Namespace: "apps", Name: "r"}, got) == nil &&
			len(got.Status.Parents) == 1 && meta.IsStatusConditionTrue(got.Status.Parents[0].Conditions, "Accepted")
	})

	// Steady state: no status write without a change.
	got := &gwv1.Gateway{}
	must(c.Get(ctx, types.NamespacedName{Namespace: "apps", Name: "web"}, got))
	rv := got.ResourceVersion
	ctl.poke()
	time.Sleep(500 * time.Millisecond)
	must(c.Get(ctx, types.NamespacedName{Namespace: "apps", Name: "web"}, got))
	if got.ResourceVersion != rv {
		t.Errorf("the Gateway was written without a change (resourceVersion %s -> %s)", rv, got.ResourceVersion)
	}
	cancel()
	<-runErr
}

// gatewayAPICRDs is the experimental-channel CRD directory of the
// gateway-api module this binary is built with.
func gatewayAPICRDs(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		t.Fatalf("locating the gateway-api module: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "experimental")
}

// etcdFor configures envtest for the etcd in assets: the upstream binary
// takes envtest's defaults; the conformance harness's embedded etcd takes
// one --listen-client-url and one --listen-peer-url.
func etcdFor(t *testing.T, assets string) *envtest.Etcd {
	help, _ := exec.Command(filepath.Join(assets, "etcd"), "--help").CombinedOutput()
	if !strings.Contains(string(help), "-listen-client-url ") {
		return nil
	}
	free := func() *url.URL {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return &url.URL{Scheme: "http", Host: ln.Addr().String()}
	}
	client, peer := free(), free()
	e := &envtest.Etcd{URL: client}
	e.Configure().
		Disable("listen-peer-urls").Disable("advertise-client-urls").Disable("listen-client-urls").
		Set("listen-client-url", client.String()).Set("listen-peer-url", peer.String())
	return e
}
