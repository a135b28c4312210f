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
	// ListenerSet is set for the listeners of a ListenerSet; Gateway is
	// then its parent.
	ListenerSet *ListenerSet
	Spec        *gwv1.Listener
	// Conditions are Accepted, Conflicted and ResolvedRefs; status adds
	// Programmed.
	Conditions     []metav1.Condition
	SupportedKinds []gwv1.RouteGroupKind
	// Certificates are the usable certificates of an HTTPS listener.
	Certificates []Certificate
	// ClientValidation is set when an HTTPS listener validates client
	// certificates (the Gateway's spec.tls.frontend for its port).
	ClientValidation *ClientValidation
	// Filters are the pre-routing filters of an HTTP or HTTPS listener
	// (spec.filters.requests), in order.
	Filters []ListenerFilter
	// Routes are the routes of every kind attached to this listener, kind
	// by kind (routeKinds order), each kind in tie-break order.
	Routes []Route
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
	if l.ListenerSet != nil && !l.ListenerSet.Accepted() {
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

// Namespace is the namespace of the listener's own resource (Gateway or
// ListenerSet): the one allowedRoutes "Same" and certificateRefs without a
// namespace mean.
func (l *Listener) Namespace() string {
	if l.ListenerSet != nil {
		return l.ListenerSet.Object.Namespace
	}
	return l.Gateway.Object.Namespace
}

// referrer is the listener's resource as the "from" of a ReferenceGrant.
func (l *Listener) referrer() refFrom {
	if l.ListenerSet != nil {
		return refFrom{gwv1.GroupName, "ListenerSet", l.ListenerSet.Object.Namespace}
	}
	return refFrom{gwv1.GroupName, "Gateway", l.Gateway.Object.Namespace}
}

// buildListener validates one listener of gw, or of ls (attached to gw)
// when ls is not nil.
func buildListener(gw *Gateway, ls *ListenerSet, spec *gwv1.Listener, ix *resource.Index) *Listener {
	l := &Listener{Gateway: gw, ListenerSet: ls, Spec: spec}
	kinds := routeKindsFor(spec.Protocol)
	if len(kinds) == 0 {
		// No route kind is supported on it: any in allowedRoutes.kinds
		// makes ResolvedRefs False (InvalidRouteKinds).
		var resolved metav1.Condition
		l.SupportedKinds, resolved = supportedKinds(spec, nil, conditions.ListenerResolvedRefs())
		l.Conditions = append(l.Conditions,
			conditions.ListenerUnsupportedProtocol(fmt.Sprintf(
				"spec.listeners[%s].protocol: %s is not supported yet; use HTTP or HTTPS", spec.Name, spec.Protocol)),
			conditions.ListenerNoConflicts(),
			resolved)
		return l
	}
	accepted := conditions.ListenerAccepted()
	if spec.Protocol == gwv1.HTTPSProtocolType && spec.TLS != nil && spec.TLS.Mode != nil && *spec.TLS.Mode != gwv1.TLSModeTerminate {
		accepted = conditions.ListenerUnsupportedValue(fmt.Sprintf(
			"spec.listeners[%s].tls.mode: %s is not valid for HTTPS; use Terminate", spec.Name, *spec.TLS.Mode))
	}
	if c := validateListenerFilters(spec); c != nil && accepted.Status == metav1.ConditionTrue {
		accepted = *c
	}
	var caProblem *metav1.Condition
	if spec.Protocol == gwv1.HTTPSProtocolType {
		// Without a usable CA the listener would fail open: refuse it.
		var rejected *metav1.Condition
		l.ClientValidation, caProblem, rejected = resolveClientValidation(gw.Object, spec.Port, ix)
		if rejected != nil && accepted.Status == metav1.ConditionTrue {
			accepted = *rejected
		}
	}
	l.Conditions = append(l.Conditions, accepted, conditions.ListenerNoConflicts())

	resolved := conditions.ListenerResolvedRefs()
	l.SupportedKinds, resolved = supportedKinds(spec, kinds, resolved)
	if spec.Protocol == gwv1.HTTPSProtocolType {
		var certCond *metav1.Condition
		l.Certificates, certCond = resolveCertificates(l.referrer(), spec, ix)
		// An invalid route kind and a bad certificate both say ResolvedRefs
		// False; the certificate is the more urgent to fix.
		if certCond != nil {
			resolved = *certCond
		}
	}
	// The listener's own certificates come first, then the CA certificates
	// of spec.tls.frontend, then route kinds.
	if caProblem != nil && (resolved.Status == metav1.ConditionTrue || resolved.Reason == string(gwv1.ListenerReasonInvalidRouteKinds)) {
		resolved = *caProblem
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

// markConflicts applies the listener distinctness rule (listenerConflict)
// within one Gateway or ListenerSet. No conflicting listener wins: every
// member of an indistinct group is Conflicted and not served, as the spec
// requires. Listeners that are not accepted (say, UnsupportedProtocol) take
// no part.
func markConflicts(ls []*Listener) {
	var candidates []*Listener
	var keys []listenerKey
	for _, l := range ls {
		if meta.IsStatusConditionTrue(l.Conditions, string(gwv1.ListenerConditionAccepted)) {
			candidates = append(candidates, l)
			keys = append(keys, keyOf(l.Spec))
		}
	}
	for i, why := range groupConflicts(keys) {
		l := candidates[i]
		switch {
		case why == protocolConflict && byHostname(l.Spec.Protocol):
			meta.SetStatusCondition(&l.Conditions, conditions.ListenerProtocolConflict(fmt.Sprintf(
				"port %d is used by listeners with different protocols; give each protocol its own port", l.Spec.Port)))
		case why == protocolConflict:
			meta.SetStatusCondition(&l.Conditions, conditions.ListenerProtocolConflict(fmt.Sprintf(
				"port %s is used by another listener and a %s listener is told apart by port alone; give it its own port",
				keys[i].portLabel(), l.Spec.Protocol)))
		case why == hostnameConflict:
			meta.SetStatusCondition(&l.Conditions, conditions.ListenerHostnameConflict(fmt.Sprintf(
				"several listeners serve hostname %q on port %d; give each a distinct hostname or port", l.Hostname(), l.Spec.Port)))
		}
	}
}
