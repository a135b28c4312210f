package infra

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func lbService(clusterIP string, ingress ...string) *corev1.Service {
	s := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: clusterIP, ClusterIPs: []string{clusterIP}}}
	for _, ip := range ingress {
		s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	return s
}

func clusterIPService(ip string) *corev1.Service {
	return &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip}}}
}

func specAddr(value string, r gwv1.GatewayAddressRoutabilityType) gwv1.GatewaySpecAddress {
	t := gwv1.IPAddressType
	return gwv1.GatewaySpecAddress{Type: &t, Value: value, Routability: r}
}

// got is "value/routability" per status address.
func got(as []gwv1.GatewayStatusAddress) []string {
	var out []string
	for _, a := range as {
		r := "<unset>"
		if a.Routability != nil {
			r = string(*a.Routability)
		}
		out = append(out, a.Value+"/"+r)
	}
	return out
}

func TestAssign(t *testing.T) {
	const cluster = gwv1.GatewayAddressRoutabilityCluster
	for _, tc := range []struct {
		name        string
		spec        []gwv1.GatewaySpecAddress
		svc         *corev1.Service
		want        []string
		unsatisfied []string // substrings, in order
		pending     bool
	}{
		{name: "no Service yet", svc: nil, pending: true},
		{name: "default: the load balancer's address", svc: lbService("10.96.0.5", "10.245.0.1"), want: []string{"10.245.0.1/"}},
		{name: "default: load balancer pending", svc: lbService("10.96.0.5"), pending: true},
		{name: "default: ClusterIP Service", svc: clusterIPService("10.96.0.5"), want: []string{"10.96.0.5/Cluster"}},
		{name: "empty value", spec: []gwv1.GatewaySpecAddress{specAddr("", "")}, svc: lbService("10.96.0.5", "10.245.0.1"), want: []string{"10.245.0.1/"}},
		{name: "empty value, load balancer pending", spec: []gwv1.GatewaySpecAddress{specAddr("", "")}, svc: lbService("10.96.0.5"), pending: true},
		{name: "Cluster", spec: []gwv1.GatewaySpecAddress{specAddr("", cluster)}, svc: clusterIPService("10.96.0.5"), want: []string{"10.96.0.5/Cluster"}},
		{name: "Cluster while the load balancer is pending", spec: []gwv1.GatewaySpecAddress{specAddr("", cluster)}, svc: lbService("10.96.0.5"), want: []string{"10.96.0.5/Cluster"}},
		{name: "default and Cluster, one address each", spec: []gwv1.GatewaySpecAddress{specAddr("", ""), specAddr("", cluster)},
			svc: lbService("10.96.0.5", "10.245.0.1"), want: []string{"10.96.0.5/Cluster", "10.245.0.1/"}},
		{name: "two defaults: the second gets the cluster IP", spec: []gwv1.GatewaySpecAddress{specAddr("", ""), specAddr("", "")},
			svc: lbService("10.96.0.5", "10.245.0.1"), want: []string{"10.245.0.1/", "10.96.0.5/Cluster"}},
		{name: "Cluster with its value", spec: []gwv1.GatewaySpecAddress{specAddr("10.96.0.9", cluster)}, svc: clusterIPService("10.96.0.9"), want: []string{"10.96.0.9/Cluster"}},
		{name: "Cluster with another value", spec: []gwv1.GatewaySpecAddress{specAddr("10.96.0.9", cluster)}, svc: clusterIPService("10.96.0.5"),
			unsatisfied: []string{"spec.addresses[0]: 10.96.0.9 is not the Service's cluster IP"}},
		{name: "Cluster value is not a load balancer address", spec: []gwv1.GatewaySpecAddress{specAddr("10.245.0.1", cluster)}, svc: lbService("10.96.0.5", "10.245.0.1"),
			unsatisfied: []string{"spec.addresses[0]: 10.245.0.1 is not the Service's cluster IP"}},
		{name: "sentinel is reported as requested", spec: []gwv1.GatewaySpecAddress{specAddr("", RoutabilitySentinel)}, svc: lbService("10.96.0.5", "10.245.0.1"),
			want: []string{"10.245.0.1/testing.x-k8s.io/sentinel"}},
		{name: "unknown routability is unsatisfiable", spec: []gwv1.GatewaySpecAddress{specAddr("", "example.com/private"), specAddr("", "")}, svc: lbService("10.96.0.5", "10.245.0.1"),
			want: []string{"10.245.0.1/"}, unsatisfied: []string{`spec.addresses[0]: routability "example.com/private" is not supported`}},
		{name: "static address the load balancer did not give", spec: []gwv1.GatewaySpecAddress{specAddr("192.0.2.1", ""), specAddr("10.245.250.1", "")},
			svc: lbService("10.96.0.5", "10.245.250.1"), want: []string{"10.245.250.1/"}, unsatisfied: []string{"spec.addresses[0]: the Service was not given IPAddress 192.0.2.1"}},
		{name: "static address, load balancer pending", spec: []gwv1.GatewaySpecAddress{specAddr("10.245.250.1", "")}, svc: lbService("10.96.0.5"), pending: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := &gwv1.Gateway{Spec: gwv1.GatewaySpec{Addresses: tc.spec}}
			a := Assign(gw, tc.svc)
			if diff := cmp.Diff(tc.want, got(a.Addresses)); diff != "" {
				t.Errorf("addresses (-want +got):\n%s", diff)
			}
			if len(a.Unsatisfied) != len(tc.unsatisfied) {
				t.Fatalf("unsatisfied %q, want %q", a.Unsatisfied, tc.unsatisfied)
			}
			for i, u := range tc.unsatisfied {
				if !strings.Contains(a.Unsatisfied[i], u) {
					t.Errorf("unsatisfied[%d] = %q, want it to contain %q", i, a.Unsatisfied[i], u)
				}
			}
			if a.Pending != tc.pending {
				t.Errorf("pending %v, want %v", a.Pending, tc.pending)
			}
		})
	}
}

func TestServiceForClusterAddresses(t *testing.T) {
	gw := readGateway(t, "basic")
	gw.Spec.Addresses = []gwv1.GatewaySpecAddress{specAddr("10.96.0.9", gwv1.GatewayAddressRoutabilityCluster)}
	svc := ForGateway(gw, testOptions).Service
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.ClusterIP != "10.96.0.9" || svc.Spec.LoadBalancerIP != "" {
		t.Fatalf("every address is Cluster: got type %s, clusterIP %q, loadBalancerIP %q; want a ClusterIP Service with that IP",
			svc.Spec.Type, svc.Spec.ClusterIP, svc.Spec.LoadBalancerIP)
	}
	gw.Spec.Addresses = append(gw.Spec.Addresses, specAddr("10.245.0.7", ""))
	svc = ForGateway(gw, testOptions).Service
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.Spec.ClusterIP != "10.96.0.9" || svc.Spec.LoadBalancerIP != "10.245.0.7" {
		t.Fatalf("mixed: got type %s, clusterIP %q, loadBalancerIP %q", svc.Spec.Type, svc.Spec.ClusterIP, svc.Spec.LoadBalancerIP)
	}
}
