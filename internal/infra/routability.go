package infra

import (
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Address routability (GEP-5093). A Gateway's Service gives two kinds of
// address: the load balancer's (LoadBalancer Services), which Portico
// reports with the default routability "", and the Service's cluster IPs,
// which are Kubernetes ClusterIPs: routability Cluster.

// RoutabilitySentinel is the value the conformance suite requests to check
// that routability is reported; it carries no guarantee (GEP-5093).
const RoutabilitySentinel gwv1.GatewayAddressRoutabilityType = "testing.x-k8s.io/sentinel"

// supportedRoutability reports whether Portico can satisfy an entry of
// this routability. Any other value, prefixed ones included, cannot be.
func supportedRoutability(r gwv1.GatewayAddressRoutabilityType) bool {
	return r == gwv1.GatewayAddressRoutabilityDefault || r == gwv1.GatewayAddressRoutabilityCluster || r == RoutabilitySentinel
}

// ServiceType is the type of the Service Portico provisions for gw: a
// ClusterIP Service when every spec.addresses entry asks for a Cluster
// address (the Gateway must not get an external one), def otherwise.
func ServiceType(gw *gwv1.Gateway, def corev1.ServiceType) corev1.ServiceType {
	if len(gw.Spec.Addresses) == 0 {
		return def
	}
	for _, a := range gw.Spec.Addresses {
		if a.Routability != gwv1.GatewayAddressRoutabilityCluster {
			return def
		}
	}
	return corev1.ServiceTypeClusterIP
}

// RequestedClusterIP returns the value of the first Cluster entry of
// spec.addresses that names an IP: the cluster IP the Service asks for
// when it is created (the API server refuses one outside its service
// CIDR). "" when there is none.
func RequestedClusterIP(gw *gwv1.Gateway) string {
	for _, a := range gw.Spec.Addresses {
		if a.Routability != gwv1.GatewayAddressRoutabilityCluster || (a.Type != nil && *a.Type != gwv1.IPAddressType) {
			continue
		}
		if ip, err := netip.ParseAddr(a.Value); err == nil {
			return ip.String()
		}
	}
	return ""
}

// Assignment is how a Gateway's spec.addresses are met by its Service.
type Assignment struct {
	// Addresses are the status addresses, each with its routability: one
	// distinct address per satisfied entry, or, without spec.addresses,
	// every address of the Service (load balancer ones when it has any).
	Addresses []gwv1.GatewayStatusAddress
	// Unsatisfied say which entries no address of the Service meets, and
	// why ("spec.addresses[1]: ...").
	Unsatisfied []string
	// Pending is set while the Service has no address (yet) for the
	// entries that are neither satisfied nor unsatisfiable.
	Pending bool
}

// candidate is an address of the Service.
type candidate struct {
	typ         gwv1.AddressType
	value       string
	routability gwv1.GatewayAddressRoutabilityType
	used        bool
}

// Assign matches gw's spec.addresses with what svc has. Entries are
// evaluated separately, each taking a distinct address: an entry naming a
// value takes that address; a Cluster entry takes a cluster IP; a default
// or sentinel entry takes a load balancer address, else a cluster IP
// (reported as Cluster), but while a LoadBalancer has no address yet it
// waits rather than be reported at an address it will not keep.
func Assign(gw *gwv1.Gateway, svc *corev1.Service) Assignment {
	var out Assignment
	if svc == nil {
		out.Pending = true
		return out
	}
	lb := svc.Spec.Type == corev1.ServiceTypeLoadBalancer
	var cands []*candidate
	add := func(t gwv1.AddressType, v string, r gwv1.GatewayAddressRoutabilityType) {
		if v != "" && !slices.ContainsFunc(cands, func(c *candidate) bool { return c.value == v }) {
			cands = append(cands, &candidate{typ: t, value: v, routability: r})
		}
	}
	if lb {
		for _, in := range svc.Status.LoadBalancer.Ingress {
			add(gwv1.IPAddressType, in.IP, gwv1.GatewayAddressRoutabilityDefault)
			add(gwv1.HostnameAddressType, in.Hostname, gwv1.GatewayAddressRoutabilityDefault)
		}
	}
	lbAssigned := len(cands) > 0
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, ip := range ips {
		if ip != corev1.ClusterIPNone {
			add(gwv1.IPAddressType, ip, gwv1.GatewayAddressRoutabilityCluster)
		}
	}
	report := func(c *candidate, r gwv1.GatewayAddressRoutabilityType) {
		c.used = true
		t := c.typ
		out.Addresses = append(out.Addresses, gwv1.GatewayStatusAddress{Type: &t, Value: c.value, Routability: &r})
	}

	if len(gw.Spec.Addresses) == 0 {
		for _, c := range cands {
			if !lb || c.routability == gwv1.GatewayAddressRoutabilityDefault {
				report(c, c.routability)
			}
		}
		out.Pending = len(out.Addresses) == 0
		return out
	}

	// Entries with a value first, then Cluster ones, then the rest: the
	// most constrained take their address before a looser one could.
	order := make([]int, len(gw.Spec.Addresses))
	for i := range order {
		order[i] = i
	}
	rank := func(a gwv1.GatewaySpecAddress) int {
		switch {
		case a.Value != "":
			return 0
		case a.Routability == gwv1.GatewayAddressRoutabilityCluster:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(order, func(i, j int) int { return rank(gw.Spec.Addresses[i]) - rank(gw.Spec.Addresses[j]) })
	for _, i := range order {
		a := gw.Spec.Addresses[i]
		field := fmt.Sprintf("spec.addresses[%d]", i)
		typ := gwv1.IPAddressType
		if a.Type != nil {
			typ = *a.Type
		}
		if !supportedRoutability(a.Routability) {
			out.Unsatisfied = append(out.Unsatisfied, fmt.Sprintf("%s: routability %q is not supported; use Cluster or leave it empty", field, a.Routability))
			continue
		}
		fits := func(c *candidate) bool {
			switch {
			case c.used || c.typ != typ:
				return false
			case a.Value != "" && !sameAddress(c.value, a.Value):
				return false
			case a.Routability == gwv1.GatewayAddressRoutabilityCluster:
				return c.routability == gwv1.GatewayAddressRoutabilityCluster
			case a.Value != "":
				return true
			}
			return true
		}
		// Default or sentinel entries without a value prefer the load
		// balancer's addresses; they take a cluster IP only once the load
		// balancer has answered (or when there is none).
		idx := slices.IndexFunc(cands, func(c *candidate) bool {
			return fits(c) && (a.Value != "" || a.Routability == gwv1.GatewayAddressRoutabilityCluster || !lb || c.routability == gwv1.GatewayAddressRoutabilityDefault)
		})
		if idx < 0 && (!lb || lbAssigned) {
			idx = slices.IndexFunc(cands, fits)
		}
		if idx >= 0 {
			r := cands[idx].routability
			if a.Routability == RoutabilitySentinel {
				r = RoutabilitySentinel
			}
			report(cands[idx], r)
			continue
		}
		needsLB := lb && a.Routability != gwv1.GatewayAddressRoutabilityCluster
		if needsLB && !lbAssigned {
			out.Pending = true // the load balancer has not answered yet
			continue
		}
		out.Unsatisfied = append(out.Unsatisfied, fmt.Sprintf("%s: %s", field, unsatisfiedWhy(a, typ)))
	}
	return out
}

func unsatisfiedWhy(a gwv1.GatewaySpecAddress, typ gwv1.AddressType) string {
	switch {
	case a.Routability == gwv1.GatewayAddressRoutabilityCluster && a.Value != "":
		return fmt.Sprintf("%s is not the Service's cluster IP (the API server assigns a cluster IP once, from its service CIDR); request an IP of the service CIDR, or none", a.Value)
	case a.Routability == gwv1.GatewayAddressRoutabilityCluster:
		return "the Service has no cluster IP of this type"
	case a.Value != "":
		return fmt.Sprintf("the Service was not given %s %s; request an address it can assign, or none", typ, a.Value)
	}
	return fmt.Sprintf("the Service has no other %s address to give", typ)
}

// sameAddress compares IPs by value and anything else as text.
func sameAddress(a, b string) bool {
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	if err1 == nil && err2 == nil {
		return x == y
	}
	return a == b
}
