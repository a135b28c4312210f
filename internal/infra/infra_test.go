package infra

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var testOptions = Options{ControllerURL: "http://portico-controller.portico-system.svc:18000"}

func readGateway(t *testing.T, name string) *gwv1.Gateway {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gw := &gwv1.Gateway{}
	if err := yaml.UnmarshalStrict(b, gw); err != nil {
		t.Fatalf("%s.in.yaml: %v", name, err)
	}
	return gw
}

// TestForGatewayGolden compares ForGateway's decision with
// testdata/<case>.out.yaml; go test -update rewrites them.
func TestForGatewayGolden(t *testing.T) {
	cases := []struct {
		name, in string
		opts     Options
	}{
		{"basic", "basic", testOptions},
		{"infrastructure", "infrastructure", testOptions},
		{"static-addresses", "static-addresses", testOptions},
		{"long-name", "long-name", testOptions},
		{"dotted-name", "dotted-name", testOptions},
		{"clusterip-replicas", "basic", Options{
			ControllerURL: testOptions.ControllerURL, ProxyImage: "registry.example.com/portico:v1",
			ImagePullPolicy: corev1.PullAlways, Replicas: 3, ServiceType: corev1.ServiceTypeClusterIP}},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := readGateway(t, tc.in)
			before, _ := yaml.Marshal(gw)
			objs := ForGateway(gw, tc.opts)
			if after, _ := yaml.Marshal(gw); string(before) != string(after) {
				t.Errorf("ForGateway mutated its input")
			}
			d, err := yaml.Marshal(objs.Deployment)
			if err != nil {
				t.Fatal(err)
			}
			s, err := yaml.Marshal(objs.Service)
			if err != nil {
				t.Fatal(err)
			}
			got := string(d) + "---\n" + string(s)
			file := filepath.Join("testdata", tc.name+".out.yaml")
			seen[file] = true
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", file, diff)
			}
		})
	}
	if *update {
		stale, _ := filepath.Glob(filepath.Join("testdata", "*.out.yaml"))
		for _, f := range stale {
			if !seen[f] {
				_ = os.Remove(f)
			}
		}
	}
}

func TestNamesFitKubernetesLimits(t *testing.T) {
	long := "gateway-name-maximum-length-" + strings.Repeat("a", 253-len("gateway-name-maximum-length-"))
	for _, gw := range []string{"web", "a.b", "a-b", long, long[:60], strings.Repeat("x", 55), strings.Repeat("x", 56)} {
		n := Name(gw)
		if errs := validation.IsDNS1035Label(n); len(errs) > 0 {
			t.Errorf("Name(%q) = %q: %v", gw, n, errs)
		}
		if v := GatewayLabelValue(gw); len(validation.IsValidLabelValue(v)) > 0 {
			t.Errorf("GatewayLabelValue(%q) = %q is not a label value", gw, v)
		}
	}
	if Name("a.b") == Name("a-b") {
		t.Errorf("Name(a.b) and Name(a-b) collide: %s", Name("a.b"))
	}
	if Name(long) == Name(long[:len(long)-1]) {
		t.Errorf("long names that differ only at the end collide")
	}
	if got := Name("web"); got != "portico-web" {
		t.Errorf("Name(web) = %q, want portico-web", got)
	}
	if got := GatewayLabelValue("web"); got != "web" {
		t.Errorf("GatewayLabelValue(web) = %q, want web", got)
	}
}

func TestStatusAddresses(t *testing.T) {
	ip, host := gwv1.IPAddressType, gwv1.HostnameAddressType
	lb := func(ingress ...corev1.LoadBalancerIngress) *corev1.Service {
		s := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.96.0.10"}}
		s.Status.LoadBalancer.Ingress = ingress
		return s
	}
	cases := []struct {
		name string
		svc  *corev1.Service
		want []gwv1.GatewayStatusAddress
	}{
		{"no service", nil, nil},
		{"load balancer pending", lb(), nil},
		{"ip and hostname", lb(corev1.LoadBalancerIngress{IP: "203.0.113.7"}, corev1.LoadBalancerIngress{Hostname: "lb.example.com"}),
			[]gwv1.GatewayStatusAddress{{Type: &ip, Value: "203.0.113.7"}, {Type: &host, Value: "lb.example.com"}}},
		{"duplicates", lb(corev1.LoadBalancerIngress{IP: "203.0.113.7"}, corev1.LoadBalancerIngress{IP: "203.0.113.7"}),
			[]gwv1.GatewayStatusAddress{{Type: &ip, Value: "203.0.113.7"}}},
		{"cluster ip", &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10", "fd00::10"}}},
			[]gwv1.GatewayStatusAddress{{Type: &ip, Value: "10.96.0.10"}, {Type: &ip, Value: "fd00::10"}}},
		{"headless", &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "None"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, StatusAddresses(tc.svc)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestUnassignedAddresses(t *testing.T) {
	gw := readGateway(t, "static-addresses") // requests 10.0.0.20 and 10.0.0.21
	svc := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	if got := UnassignedAddresses(gw, svc); got != nil {
		t.Errorf("before any assignment: %v, want nil (pending, not refused)", got)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "10.0.0.21"}}
	if diff := cmp.Diff([]string{"10.0.0.20"}, UnassignedAddresses(gw, svc)); diff != "" {
		t.Errorf("one refused (-want +got)\n%s", diff)
	}
	svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: "10.0.0.20"})
	if got := UnassignedAddresses(gw, svc); got != nil {
		t.Errorf("all assigned: %v, want nil", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := testOptions.WithDefaults().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	// Any image name is accepted: a mirror may call the image anything.
	mirrored := testOptions
	mirrored.ProxyImage = "registry.example.com/mirror/gateway-proxy:v1"
	if err := mirrored.WithDefaults().Validate(); err != nil {
		t.Errorf("image %s: %v", mirrored.ProxyImage, err)
	}
	bad := Options{ServiceType: "ExternalName", ControllerURL: "portico:18000", Replicas: -1}
	err := bad.WithDefaults().Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, flag := range []string{"--service-type", "--controller-url", "--proxy-replicas"} {
		if !strings.Contains(err.Error(), flag) {
			t.Errorf("error %q does not name %s", err, flag)
		}
	}
}
