package graph

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	if spec.Protocol == gwv1.HTTPSProtocolType && requiresClientCertificates(gw.Object, spec.Port) {
		// Serving without the check would fail open: refuse the listener.
		accepted = conditions.ListenerUnsupportedValue(
			"spec.tls.frontend: client certificate validation is not supported yet; the listener is not served rather than served without it")
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
			if !slices.ContainsFunc(out, func(k gwv1.RouteGroupKind) bool { return k.Kind == rk.Kind }) {
				out = append(out, gwv1.RouteGroupKind{Group: groupPtr(group), Kind: rk.Kind})
			}
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
// No conflicting listener wins: every member of an indistinct group is
// Conflicted and not served, as the spec requires.
func markConflicts(ls []*Listener) {
	type key struct {
		port     gwv1.PortNumber
		hostname string
	}
	protocols := map[gwv1.PortNumber]map[gwv1.ProtocolType]bool{}
	hosts := map[key]int{}
	var candidates []*Listener
	for _, l := range ls {
		if !meta.IsStatusConditionTrue(l.Conditions, string(gwv1.ListenerConditionAccepted)) {
			continue
		}
		candidates = append(candidates, l)
		if protocols[l.Spec.Port] == nil {
			protocols[l.Spec.Port] = map[gwv1.ProtocolType]bool{}
		}
		protocols[l.Spec.Port][l.Spec.Protocol] = true
		hosts[key{l.Spec.Port, l.Hostname()}]++
	}
	for _, l := range candidates {
		switch {
		case len(protocols[l.Spec.Port]) > 1:
			meta.SetStatusCondition(&l.Conditions, conditions.ListenerProtocolConflict(fmt.Sprintf(
				"port %d is used by listeners with different protocols; give each protocol its own port", l.Spec.Port)))
		case hosts[key{l.Spec.Port, l.Hostname()}] > 1:
			meta.SetStatusCondition(&l.Conditions, conditions.ListenerHostnameConflict(fmt.Sprintf(
				"several listeners serve hostname %q on port %d; give each a distinct hostname or port", l.Hostname(), l.Spec.Port)))
		}
	}
}

// requiresClientCertificates reports whether the Gateway's spec.tls.frontend
// asks HTTPS listeners on port to validate client certificates.
func requiresClientCertificates(gw *gwv1.Gateway, port gwv1.PortNumber) bool {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Frontend == nil {
		return false
	}
	f := gw.Spec.TLS.Frontend
	for _, pp := range f.PerPort {
		if pp.Port == port {
			return true
		}
	}
	return f.Default.Validation != nil
}
