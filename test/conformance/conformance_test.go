package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
	"sigs.k8s.io/yaml"

	"portico.dev/portico/test/conformance/internal/box"
	"portico.dev/portico/test/conformance/internal/kubelet"
)

const (
	gatewayClassName = "portico"
	controllerName   = "portico.dev/gateway-controller"

	controllerNamespace  = "portico-system"
	controllerStreamAddr = "127.0.0.1:18000"
)

// Debugging knobs (comma lists).
const (
	envFeatures = "PORTICO_CONFORMANCE_FEATURES" // explicit supported features, or "all"; default: GatewayClass status
	envRunTest  = "PORTICO_CONFORMANCE_RUN_TEST" // one test's ShortName
	envSkip     = "PORTICO_CONFORMANCE_SKIP"     // ShortNames to skip
	envProfiles = "PORTICO_CONFORMANCE_PROFILES" // default GATEWAY-HTTP
	envExempt   = "PORTICO_CONFORMANCE_EXEMPT"   // features to subtract
	envDebug    = "PORTICO_CONFORMANCE_DEBUG"    // "1": dump requests and responses
)

// TestConformance runs the official Gateway API conformance suite against
// `portico controller` and the proxies it provisions, and writes the
// ConformanceReport.
func TestConformance(t *testing.T) {
	requireEnabled(t)
	portico := porticoBinary(t)
	if err := box.CheckControllerCommand(portico); err != nil {
		t.Fatal(err)
	}
	b := startBox(t, "run")

	ctx := context.Background()
	gc := &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: gatewayClassName},
		Spec:       gwv1.GatewayClassSpec{ControllerName: controllerName},
	}
	if err := createGatewayClass(ctx, b, gc); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: controllerNamespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The proxies run in the same network namespace as the controller and
	// there is neither DNS nor kube-proxy: they reach the config stream on
	// loopback. The fake kubelet runs the proxy Pods by their image name
	// (kubelet.PorticoImage). PORTICO_CONTROLLER_ARGS come last, so they
	// override.
	args := []string{
		"--proxy-image", kubelet.PorticoImage,
		"--namespace", controllerNamespace,
		"--leader-elect=false",
		"--config-stream-address", controllerStreamAddr,
		"--controller-url", "http://" + controllerStreamAddr,
		"--metrics-address", "127.0.0.1:18001",
		"--health-address", "127.0.0.1:18002",
	}
	args = append(args, strings.Fields(os.Getenv(envCtlArgs))...)
	if err := b.StartController(portico, args...); err != nil {
		t.Fatal(err)
	}
	stopWatch := watchController(b)
	t.Cleanup(stopWatch)

	if err := os.Setenv("KUBECONFIG", b.PKI.Kubeconfig); err != nil {
		t.Fatal(err)
	}
	opts := conformance.DefaultOptions(t)
	opts.GatewayClassName = gatewayClassName
	opts.Debug = opts.Debug || os.Getenv(envDebug) == "1"
	opts.ConformanceProfiles = nil
	for _, p := range commaList(envOr(envProfiles, string(suite.GatewayHTTPConformanceProfileName))) {
		opts.ConformanceProfiles = append(opts.ConformanceProfiles, suite.ConformanceProfileName(p))
	}
	if rt := os.Getenv(envRunTest); rt != "" {
		opts.RunTest = rt
	}
	opts.SkipTests = append(opts.SkipTests, commaList(os.Getenv(envSkip))...)
	for _, f := range commaList(os.Getenv(envExempt)) {
		opts.ExemptFeatures = append(opts.ExemptFeatures, features.FeatureName(f))
	}
	switch f := os.Getenv(envFeatures); {
	case f == "all":
		opts.EnableAllSupportedFeatures = true
	case f != "":
		for _, name := range commaList(f) {
			opts.SupportedFeatures = append(opts.SupportedFeatures, features.FeatureName(name))
		}
	case len(opts.SupportedFeatures) == 0:
		// The suite reads the GatewayClass's supportedFeatures once, at
		// once: wait until the controller has accepted it. It infers them
		// only when no test is named; then pass them ourselves.
		names, err := gatewayClassFeatures(ctx, b, 180*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("GatewayClass %s is Accepted and supports %d features: %v", gatewayClassName, len(names), names)
		if opts.RunTest != "" {
			opts.SupportedFeatures = names
		}
	}
	opts.Implementation = confv1.Implementation{
		Organization: "portico-dev",
		Project:      "portico",
		URL:          "https://portico.dev",
		Version:      envOr(envVersion, "v0.0.0-dev"),
		Contact:      []string{"https://portico.dev"},
	}
	opts.Mode = "default"
	// Addresses for GatewayStaticAddresses: one the load balancer can give
	// (it honours Gateway spec.addresses in its range) and one it cannot.
	ipType := gwv1.IPAddressType
	opts.UsableNetworkAddresses = []gwv1.GatewaySpecAddress{{Type: &ipType, Value: "10.245.250.1"}}
	opts.UnusableNetworkAddresses = []gwv1.GatewaySpecAddress{{Type: &ipType, Value: "192.0.2.1"}}

	report := envOr(envReport, filepath.Join(repoRoot(t), "out", "conformance-report.yaml"))
	if err := os.MkdirAll(filepath.Dir(report), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(report)
	opts.ReportOutputPath = report

	// Registered before the suite's own cleanup (which writes the
	// report), so it runs after it.
	start := time.Now()
	t.Cleanup(func() { printSummary(t, report, time.Since(start)) })
	conformance.RunConformanceWithOptions(t, opts)
}

func createGatewayClass(ctx context.Context, b *box.Box, gc *gwv1.GatewayClass) error {
	u, err := toUnstructured(gc, schema.GroupVersionKind{Group: gwv1.GroupName, Version: "v1", Kind: "GatewayClass"})
	if err != nil {
		return err
	}
	_, err = b.Dynamic.Resource(gatewayClassesGVR).Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create GatewayClass %s: %w", gc.Name, err)
	}
	return nil
}

// gatewayClassFeatures waits for the GatewayClass to be Accepted and
// returns its status.supportedFeatures.
func gatewayClassFeatures(ctx context.Context, b *box.Box, timeout time.Duration) ([]features.FeatureName, error) {
	deadline := time.Now().Add(timeout)
	for {
		u, err := b.Dynamic.Resource(gatewayClassesGVR).Get(ctx, gatewayClassName, metav1.GetOptions{})
		if err == nil {
			var gc gwv1.GatewayClass
			if err := fromUnstructured(u, &gc); err != nil {
				return nil, err
			}
			if meta.IsStatusConditionTrue(gc.Status.Conditions, string(gwv1.GatewayClassConditionStatusAccepted)) {
				var out []features.FeatureName
				for _, f := range gc.Status.SupportedFeatures {
					out = append(out, features.FeatureName(f.Name))
				}
				if len(out) == 0 {
					return nil, fmt.Errorf("GatewayClass %s is Accepted but lists no status.supportedFeatures; set %s", gatewayClassName, envFeatures)
				}
				return out, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("GatewayClass %s not Accepted after %s (is the controller running? see controller.log)", gatewayClassName, timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// watchController reports on stderr if the controller exits while the
// suite runs; the returned func stops watching.
func watchController(b *box.Box) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-b.Controller.Done():
			fmt.Fprintf(os.Stderr, "\n*** portico controller %s during the run; see %s ***\n\n", b.Controller.ExitError(), b.Controller.LogPath)
		}
	}()
	return func() { close(done) }
}

// printSummary prints the report's results per profile.
func printSummary(t *testing.T, path string, took time.Duration) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("conformance: no report at %s (%v)", path, err)
		return
	}
	var r confv1.ConformanceReport
	if err := yaml.Unmarshal(data, &r); err != nil {
		t.Logf("conformance: cannot read the report %s: %v", path, err)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n==== Gateway API conformance %s (%s channel), %s %s, in %s ====\n",
		r.GatewayAPIVersion, r.GatewayAPIChannel, r.Implementation.Project, r.Implementation.Version, took.Round(time.Second))
	for _, p := range r.ProfileReports {
		line := func(kind string, res confv1.Status) {
			fmt.Fprintf(&b, "  %-13s %-8s %-8s passed %d, failed %d, skipped %d\n", p.Name, kind, res.Result,
				res.Statistics.Passed, res.Statistics.Failed, res.Statistics.Skipped)
			if len(res.FailedTests) > 0 {
				fmt.Fprintf(&b, "      failed: %s\n", strings.Join(res.FailedTests, ", "))
			}
			if n := len(res.SkippedTests); n > 0 && n <= 10 {
				fmt.Fprintf(&b, "      skipped: %s\n", strings.Join(res.SkippedTests, ", "))
			}
		}
		line("core", p.Core)
		if p.Extended != nil {
			line("extended", p.Extended.Status)
			if len(p.Extended.SupportedFeatures) > 0 {
				fmt.Fprintf(&b, "      supported: %s\n", strings.Join(p.Extended.SupportedFeatures, ", "))
			}
			if n := len(p.Extended.UnsupportedFeatures); n > 0 {
				fmt.Fprintf(&b, "      unsupported: %d features\n", n)
			}
		}
	}
	fmt.Fprintf(&b, "  report: %s\n", path)
	t.Log(b.String())
	fmt.Println(b.String())
}

func commaList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func toUnstructured(obj any, gvk schema.GroupVersionKind) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

func fromUnstructured(u *unstructured.Unstructured, obj any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj)
}

var gatewayClassesGVR = schema.GroupVersionResource{Group: gwv1.GroupName, Version: "v1", Resource: "gatewayclasses"}
