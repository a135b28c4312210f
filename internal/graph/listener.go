package graph

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/resource"
)

// Listener is one listener of a Gateway.
type Listener struct {
	Gateway *Gateway
	Spec    *gwv1.Listener
	// Conditions are Accepted, Conflicted and ResolvedRefs; status adds
	// Programmed.
	Conditions     []metav1.Condition
	SupportedKinds []gwv1.RouteGroupKind
	// Certificates are the usable certificates of an HTTPS listener.
	Certificates []Certificate
	// Routes are the routes attached to this listener, in tie-break order.
	Routes []*HTTPRoute
}

// Certificate is a resolved kubernetes.io/tls Secret.
type Certificate struct {
	Name    string // namespace/name
	CertPEM []byte
	KeyPEM  []byte
}

// Valid reports whether the listener is accepted and not conflicted: it can
// take routes.
func (l *Listener) Valid() bool {
	return meta.IsStatusConditionTrue(l.Conditions, string(gwv1.ListenerConditionAccepted)) &&
		!meta.IsStatusConditionTrue(l.Conditions, string(gwv1.ListenerConditionConflicted))
}

// Serving reports whether the listener is valid and has what it needs to
// serve traffic (for HTTPS, at least one certificate).
func (l *Listener) Serving() bool {
	if !l.Valid() || !l.Gateway.Accepted() {
		return false
	}
	return l.Spec.Protocol != gwv1.HTTPSProtocolType || len(l.Certificates) > 0
}

// Hostname returns the listener hostname, "" when unset.
func (l *Listener) Hostname() string {
	if l.Spec.Hostname == nil {
		return ""
	}
	return string(*l.Spec.Hostname)
}

// routeKindsFor lists the route kinds each protocol serves.
var routeKindsFor = map[gwv1.ProtocolType][]gwv1.Kind{
	gwv1.HTTPProtocolType:  {"HTTPRoute"},
	gwv1.HTTPSProtocolType: {"HTTPRoute"},
}

func buildListener(gw *Gateway, spec *gwv1.Listener, ix *resource.Index) *Listener {
	l := &Listener{Gateway: gw, Spec: spec}
	kinds, ok := routeKindsFor[spec.Protocol]
	if !ok {
		l.Conditions = append(l.Conditions,
			conditions.ListenerUnsupportedProtocol(fmt.Sprintf(
				"spec.listeners[%s].protocol: %s is not supported yet; use HTTP or HTTPS", spec.Name, spec.Protocol)),
			conditions.ListenerNoConflicts(),
			conditions.ListenerResolvedRefs())
		l.SupportedKinds = []gwv1.RouteGroupKind{}
		return l
	}
	accepted := conditions.ListenerAccepted()
	if spec.Protocol == gwv1.HTTPSProtocolType && spec.TLS != nil && spec.TLS.Mode != nil && *spec.TLS.Mode != gwv1.TLSModeTerminate {
		accepted = conditions.ListenerUnsupportedValue(fmt.Sprintf(
			"spec.listeners[%s].tls.mode: %s is not valid for HTTPS; use Terminate", spec.Name, *spec.TLS.Mode))
	}
	l.Conditions = append(l.Conditions, accepted, conditions.ListenerNoConflicts())

	resolved := conditions.ListenerResolvedRefs()
	l.SupportedKinds, resolved = supportedKinds(spec, kinds, resolved)
	if spec.Protocol == gwv1.HTTPSProtocolType {
		var certCond *metav1.Condition
		l.Certificates, certCond = resolveCertificates(gw.Object, spec, ix)
		// An invalid route kind and a bad certificate both say ResolvedRefs
		// False; the certificate is the more urgent to fix.
		if certCond != nil {
			resolved = *certCond
		}
	}
	l.Conditions = append(l.Conditions, resolved)
	return l
}

// supportedKinds filters spec.allowedRoutes.kinds to the kinds the protocol
// serves; any other kind makes ResolvedRefs False with InvalidRouteKinds.
func supportedKinds(spec *gwv1.Listener, kinds []gwv1.Kind, ok metav1.Condition) ([]gwv1.RouteGroupKind, metav1.Condition) {
	var requested []gwv1.RouteGroupKind
	if spec.AllowedRoutes != nil {
		requested = spec.AllowedRoutes.Kinds
	}
	if len(requested) == 0 {
		out := []gwv1.RouteGroupKind{}
		for _, k := range kinds {
			out = append(out, gwv1.RouteGroupKind{Group: groupPtr(gwv1.GroupName), Kind: k})
		}
		return out, ok
	}
	out := []gwv1.RouteGroupKind{}
	var bad []string
	for _, rk := range requested {
		group := gwv1.GroupName
		if rk.Group != nil {
			group = string(*rk.Group)
		}
		if group == gwv1.GroupName && slices.Contains(kinds, rk.Kind) {
			out = append(out, gwv1.RouteGroupKind{Group: groupPtr(group), Kind: rk.Kind})
			continue
		}
		bad = append(bad, fmt.Sprintf("%s/%s", group, rk.Kind))
	}
	if len(bad) > 0 {
		return out, conditions.ListenerInvalidRouteKinds(fmt.Sprintf(
			"spec.listeners[%s].allowedRoutes.kinds: %v cannot attach to a %s listener; allowed: %v",
			spec.Name, bad, spec.Protocol, kinds))
	}
	return out, ok
}

func groupPtr(g string) *gwv1.Group {
	v := gwv1.Group(g)
	return &v
}

// markConflicts applies the Gateway API listener distinctness rules within one
// Gateway: on a port, listeners must share a protocol and differ in hostname.
// The first listener in spec order keeps the port; later ones are Conflicted.
func markConflicts(ls []*Listener) {
	type key struct {
		port     gwv1.PortNumber
		hostname string
	}
	firstProto := map[gwv1.PortNumber]*Listener{}
	seen := map[key]*Listener{}
	for _, l := range ls {
		if !meta.IsStatusConditionTrue(l.Conditions, string(gwv1.ListenerConditionAccepted)) {
			continue
		}
		if first, ok := firstProto[l.Spec.Port]; ok && first.Spec.Protocol != l.Spec.Protocol {
			meta.SetStatusCondition(&l.Conditions, conditions.ListenerProtocolConflict(fmt.Sprintf(
				"port %d is already used by listener %s with protocol %s; use another port",
				l.Spec.Port, first.Spec.Name, first.Spec.Protocol)))
			continue
		} else if !ok {
			firstProto[l.Spec.Port] = l
		}
		k := key{l.Spec.Port, l.Hostname()}
		if first, ok := seen[k]; ok {
			meta.SetStatusCondition(&l.Conditions, conditions.ListenerHostnameConflict(fmt.Sprintf(
				"listener %s already serves hostname %q on port %d; use a distinct hostname or port",
				first.Spec.Name, l.Hostname(), l.Spec.Port)))
			continue
		}
		seen[k] = l
	}
}
