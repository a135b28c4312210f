package graph

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/resource"
)

// Backend is a resolved backendRef (or mirror ref).
type Backend struct {
	// Name is "namespace/service:port".
	Name      string
	Protocol  ir.BackendProtocol
	Endpoints []ir.Endpoint
	// Invalid says why the ref does not resolve; empty when it does.
	Invalid string

	// Service and PortName are the Service port the ref resolved to (set
	// once the port is found): what BackendTLSPolicies target.
	Service  types.NamespacedName
	PortName string
	// RequiresTLS is set when the port's appProtocol says the backend
	// speaks TLS (https, kubernetes.io/wss): it needs a BackendTLSPolicy.
	RequiresTLS bool
	// TLS is the BackendTLSPolicy that applies to the port; nil when none.
	TLS *BackendTLS
}

// resolveBackend resolves one backend reference made by from (a route of
// any kind). On failure it returns the Backend with Invalid set and the
// ResolvedRefs=False condition.
func resolveBackend(from refFrom, field string, ref *gwv1.BackendObjectReference, ix *resource.Index, standalone bool) (*Backend, *metav1.Condition) {
	ns := refNamespace(from.namespace, ref.Namespace)
	b := &Backend{Name: fmt.Sprintf("%s/%s", ns, ref.Name)}
	if ref.Port != nil {
		b.Name += fmt.Sprintf(":%d", *ref.Port)
	}
	fail := func(c metav1.Condition) (*Backend, *metav1.Condition) {
		b.Invalid = c.Message
		return b, &c
	}
	if group, kind := refGroupKind(ref.Group, ref.Kind, "Service"); group != "" || kind != "Service" {
		return fail(conditions.RouteInvalidKind(fmt.Sprintf(
			"%s: %s is not a supported backend kind; reference a core Service", field, qualifiedKind(group, kind))))
	}
	if !permitted(ix, from, refTo{"", "Service", ns, string(ref.Name)}) {
		return fail(conditions.RouteRefNotPermitted(fmt.Sprintf(
			"%s: Service %s/%s is in another namespace and no ReferenceGrant in %s allows it; add a ReferenceGrant from %s in %s",
			field, ns, ref.Name, ns, from.kind, from.namespace)))
	}
	svc, ok := ix.Services[types.NamespacedName{Namespace: ns, Name: string(ref.Name)}]
	if !ok {
		return fail(conditions.RouteBackendNotFound(fmt.Sprintf("%s: Service %s/%s does not exist", field, ns, ref.Name)))
	}
	if ref.Port == nil {
		return fail(conditions.RouteBackendNotFound(fmt.Sprintf("%s: port is required for a Service backend", field)))
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return fail(conditions.RouteInvalidKind(fmt.Sprintf(
			"%s: Service %s/%s is of type ExternalName, which is not supported yet", field, ns, ref.Name)))
	}
	var port *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == int32(*ref.Port) {
			port = &svc.Spec.Ports[i]
		}
	}
	if port == nil {
		return fail(conditions.RouteBackendNotFound(fmt.Sprintf(
			"%s: Service %s/%s has no port %d", field, ns, ref.Name, *ref.Port)))
	}
	proto, err := backendProtocol(port.AppProtocol)
	if err != "" {
		return fail(conditions.RouteUnsupportedProtocol(fmt.Sprintf(
			"%s: Service %s/%s port %d: %s", field, ns, ref.Name, *ref.Port, err)))
	}
	b.Protocol = proto
	b.Service, b.PortName = types.NamespacedName{Namespace: ns, Name: svc.Name}, port.Name
	b.RequiresTLS = tlsAppProtocol(port.AppProtocol)
	b.Endpoints = readyEndpoints(ix.SlicesByService[types.NamespacedName{Namespace: ns, Name: svc.Name}], port.Name, standalone)
	return b, nil
}

// refGroupKind is a reference's group and kind: the core group and kind def
// when unset.
func refGroupKind(group *gwv1.Group, kind *gwv1.Kind, def string) (string, string) {
	g, k := "", def
	if group != nil {
		g = string(*group)
	}
	if kind != nil {
		k = string(*kind)
	}
	return g, k
}

func qualifiedKind(group, kind string) string {
	if group == "" {
		return kind
	}
	return group + "/" + kind
}

// backendProtocol maps a Service port appProtocol to how the proxy speaks to it.
func backendProtocol(app *string) (ir.BackendProtocol, string) {
	if app == nil {
		return ir.BackendHTTP, ""
	}
	switch *app {
	case "", "http", "kubernetes.io/http":
		return ir.BackendHTTP, ""
	case "kubernetes.io/h2c", "h2c":
		return ir.BackendH2C, ""
	case "kubernetes.io/ws":
		return ir.BackendWebSocket, ""
	}
	// TLS backends: the BackendTLSPolicy of the port says how to connect.
	switch {
	case strings.EqualFold(*app, "https"):
		return ir.BackendHTTP, ""
	case *app == "kubernetes.io/wss":
		return ir.BackendWebSocket, ""
	}
	return "", fmt.Sprintf("appProtocol %q is not supported; use kubernetes.io/h2c, kubernetes.io/ws or leave it unset for HTTP/1.1", *app)
}

// tlsAppProtocol reports whether appProtocol says the port speaks TLS.
func tlsAppProtocol(app *string) bool {
	return app != nil && (strings.EqualFold(*app, "https") || *app == "kubernetes.io/wss")
}

// readyEndpoints lists the ready endpoints of a Service port, in a stable
// order. Endpoints whose ready condition is unset count as ready, as
// EndpointSlice consumers must treat them.
func readyEndpoints(slices []*discoveryv1.EndpointSlice, portName string, standalone bool) []ir.Endpoint {
	var out []ir.Endpoint
	seen := map[ir.Endpoint]bool{}
	for _, es := range slices {
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		var port *int32
		for _, p := range es.Ports {
			name := ""
			if p.Name != nil {
				name = *p.Name
			}
			proto := corev1.ProtocolTCP
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			if name == portName && proto == corev1.ProtocolTCP && p.Port != nil {
				port = p.Port
			}
		}
		if port == nil {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil || (ip.IsLoopback() && !standalone) {
					continue
				}
				e := ir.Endpoint{Address: ip.String(), Port: *port}
				if !seen[e] {
					seen[e] = true
					out = append(out, e)
				}
			}
		}
	}
	return out
}
