package infra

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// StatusAddresses returns the addresses a Gateway is reachable at through
// its Service svc: the load balancer's ingress IPs (type IPAddress) and
// hostnames (type Hostname) for a LoadBalancer Service, the cluster IPs
// otherwise. It is nil while none is assigned (or svc is nil).
func StatusAddresses(svc *corev1.Service) []gwv1.GatewayStatusAddress {
	if svc == nil {
		return nil
	}
	var out []gwv1.GatewayStatusAddress
	add := func(t gwv1.AddressType, v string) {
		a := gwv1.GatewayStatusAddress{Type: &t, Value: v}
		if v != "" && !slices.ContainsFunc(out, func(b gwv1.GatewayStatusAddress) bool { return b.Value == v }) {
			out = append(out, a)
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for _, in := range svc.Status.LoadBalancer.Ingress {
			add(gwv1.IPAddressType, in.IP)
			add(gwv1.HostnameAddressType, in.Hostname)
		}
		return out
	}
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, ip := range ips {
		if ip != corev1.ClusterIPNone {
			add(gwv1.IPAddressType, ip)
		}
	}
	return out
}

// UnassignedAddresses returns the IPs gw's spec.addresses request that svc
// does not have although it has been given addresses: the infrastructure
// could not use them. It is nil while svc has no address at all (not
// assigned yet is not the same as refused).
func UnassignedAddresses(gw *gwv1.Gateway, svc *corev1.Service) []string {
	have := StatusAddresses(svc)
	if len(have) == 0 {
		return nil
	}
	var out []string
	for _, want := range RequestedIPs(gw) {
		if !slices.ContainsFunc(have, func(a gwv1.GatewayStatusAddress) bool { return sameIP(a.Value, want) }) {
			out = append(out, want)
		}
	}
	return out
}

func sameIP(a, b string) bool {
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	return err1 == nil && err2 == nil && x == y
}
