package graph

import (
	"cmp"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/resource"
)

// Graph is the bound and validated view of one Snapshot.
type Graph struct {
	// Classes are the GatewayClasses whose controllerName is ours, including
	// the implicit default class when the input has none.
	Classes []*Class
	// Gateways are the Gateways of our classes, oldest first.
	Gateways []*Gateway
	// ListenerSets are the ListenerSets whose parent is a Gateway of ours,
	// in listener precedence order (oldest first, then "namespace/name").
	ListenerSets []*ListenerSet
	// Routes are the routes of every kind with at least one parentRef we
	// answer for: kind by kind (routeKinds order), each kind oldest first
	// (the Gateway API tie-break order).
	Routes []Route
	// HTTPRoutes are the HTTPRoutes of Routes, in the same order.
	HTTPRoutes []*HTTPRoute
	// BackendTLSPolicies are every BackendTLSPolicy of the input, oldest
	// first, with the Gateways of ours they apply through.
	BackendTLSPolicies []*BackendTLSPolicy
	// Warnings are input problems that have no status to carry them.
	Warnings []string
	// NextCertificateCheck is when a served certificate next expires or
	// becomes valid (zero if never): the graph must be built again then.
	NextCertificateCheck time.Time
}

// Class is one of our GatewayClasses.
type Class struct {
	Object *gwv1.GatewayClass
	// Implicit is true for the default class made up when the input has
	// no GatewayClass of ours; it has no status to write.
	Implicit   bool
	Conditions []metav1.Condition
}

// Gateway is one Gateway of ours.
type Gateway struct {
	Object *gwv1.Gateway
	Class  *Class
	// Addresses are the IPs to bind; from spec.addresses, or the default
	// bind address.
	Addresses []string
	// Conditions are Accepted (and later Programmed, from status).
	Conditions []metav1.Condition
	Listeners  []*Listener
	// BackendClientCertificate is presented to TLS backends
	// (spec.tls.backend.clientCertificateRef); nil when none is usable.
	BackendClientCertificate *Certificate
	// ListenerSets are the accepted ListenerSets attached to the Gateway,
	// in listener precedence order; their listeners follow Listeners.
	ListenerSets []*ListenerSet
}

// AllListeners returns the Gateway's listeners, then those of its accepted
// ListenerSets, in precedence order: everything its proxies serve.
func (g *Gateway) AllListeners() []*Listener {
	out := g.Listeners
	if len(g.ListenerSets) > 0 {
		out = slices.Clone(g.Listeners)
		for _, ls := range g.ListenerSets {
			out = append(out, ls.Listeners...)
		}
	}
	return out
}

// NamespacedName returns the Gateway's key.
func (g *Gateway) NamespacedName() types.NamespacedName {
	return types.NamespacedName{Namespace: g.Object.Namespace, Name: g.Object.Name}
}

// Accepted reports whether the Gateway serves anything at all.
func (g *Gateway) Accepted() bool {
	return conditionTrue(g.Conditions, string(gwv1.GatewayConditionAccepted))
}

func conditionTrue(cs []metav1.Condition, t string) bool {
	for _, c := range cs {
		if c.Type == t {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// Options are the inputs of Build that are not resources.
type Options struct {
	// BindAddress is where Gateways without spec.addresses listen.
	BindAddress string
	// SharedSockets is set when one proxy serves every Gateway (standalone
	// mode): Gateways binding the same address and port share the socket.
	SharedSockets bool
	// ProvisionedAddresses is set when the infrastructure (a LoadBalancer
	// Service per Gateway, in a cluster) provides spec.addresses: they are
	// validated but not bound, and every proxy binds BindAddress.
	ProvisionedAddresses bool
	// Now is the time certificates are checked against (time.Now when zero).
	Now time.Time
}

// Build binds and validates the Snapshot.
func Build(s *resource.Snapshot, opts Options) *Graph {
	ix := resource.NewIndex(s)
	g := &Graph{}
	g.Classes = buildClasses(s)
	g.Gateways = buildGateways(s, ix, g.Classes, opts, &g.Warnings)
	g.ListenerSets = buildListenerSets(s, ix, g.Gateways, &g.Warnings)
	resolveListenerFilters(g, ix, s.Standalone)
	if opts.SharedSockets {
		resolvePortSharing(g.Gateways)
	}
	g.Routes = buildRoutes(s, ix, g.Gateways, g.ListenerSets, &g.Warnings)
	g.HTTPRoutes = routesOf[*HTTPRoute](g.Routes)
	g.BackendTLSPolicies = bindBackendTLS(s, newPolicyScope(ix, g.Gateways, g.ListenerSets, g.Routes), g.Routes)
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	g.NextCertificateCheck = checkCertificateValidity(g, now)
	return g
}

// olderFirst orders objects as the Gateway API tie-break rules do: by
// creation timestamp, then by "namespace/name".
func olderFirst(a, b *metav1.ObjectMeta) int {
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

func sortedBy[T any](in []T, meta func(T) *metav1.ObjectMeta) []T {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b T) int { return olderFirst(meta(a), meta(b)) })
	return out
}
