package controller

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/infra"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/resource"
	"portico.dev/portico/internal/status"
)

// gatewayKey is the name of a Gateway on the config stream.
func gatewayKey(nn types.NamespacedName) string { return nn.Namespace + "/" + nn.Name }

// clusterDataPlane is what the status projection knows of the proxies in a
// cluster: their acks from the config stream, and the addresses of the
// Service Portico provisioned for each Gateway.
type clusterDataPlane struct {
	acks     AckSource
	services map[types.NamespacedName]*corev1.Service // by Gateway
}

var (
	_ status.DataPlane       = clusterDataPlane{}
	_ status.AddressChecker  = clusterDataPlane{}
	_ status.AddressAssigner = clusterDataPlane{}
)

// AckSource gives the proxies' aggregated answer per Gateway
// ("namespace/name"); nil until the latest version is acked.
type AckSource interface {
	Ack(gateway string) *ir.Ack
}

// newClusterDataPlane finds each Gateway's Service among the snapshot's:
// the one with the provisioned name that the Gateway controls.
func newClusterDataPlane(acks AckSource, g *graph.Graph, s *resource.Snapshot) clusterDataPlane {
	byName := map[types.NamespacedName]*corev1.Service{}
	for _, svc := range s.Services {
		byName[types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}] = svc
	}
	dp := clusterDataPlane{acks: acks, services: map[types.NamespacedName]*corev1.Service{}}
	for _, gw := range g.Gateways {
		svc := byName[types.NamespacedName{Namespace: gw.Object.Namespace, Name: infra.Name(gw.Object.Name)}]
		if svc != nil && metav1.IsControlledBy(svc, gw.Object) {
			dp.services[gw.NamespacedName()] = svc
		}
	}
	return dp
}

func (d clusterDataPlane) Ack(gw *graph.Gateway) *ir.Ack {
	return d.acks.Ack(gatewayKey(gw.NamespacedName()))
}

// Addresses are the Service's addresses that meet spec.addresses, each with
// its routability (infra.Assign).
func (d clusterDataPlane) Addresses(gw *graph.Gateway) []gwv1.GatewayStatusAddress {
	return infra.Assign(gw.Object, d.services[gw.NamespacedName()]).Addresses
}

// UnusableAddresses says which spec.addresses entries the Service does not
// meet while it meets others (none met is AddressNotAssigned).
func (d clusterDataPlane) UnusableAddresses(gw *graph.Gateway) string {
	svc := d.services[gw.NamespacedName()]
	a := infra.Assign(gw.Object, svc)
	if len(a.Unsatisfied) == 0 || len(a.Addresses) == 0 {
		return ""
	}
	var got []string
	for _, addr := range a.Addresses {
		got = append(got, addr.Value)
	}
	return fmt.Sprintf("Service %s/%s does not meet %s (it has %s); request addresses it can assign, or leave spec.addresses empty",
		svc.Namespace, svc.Name, strings.Join(a.Unsatisfied, "; "), strings.Join(got, ", "))
}

// AddressAssignment reports the entries the Service does not meet, and
// whether it has yet to answer for some.
func (d clusterDataPlane) AddressAssignment(gw *graph.Gateway) (unsatisfied []string, pending bool) {
	a := infra.Assign(gw.Object, d.services[gw.NamespacedName()])
	return a.Unsatisfied, a.Pending
}
