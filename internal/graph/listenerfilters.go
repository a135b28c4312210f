package graph

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/resource"
)

// ListenerFilter is one resolved pre-routing filter of a listener
// (spec.listeners[].filters.requests, GEP-5224); exactly one field is set.
type ListenerFilter struct {
	ExternalAuth *ListenerExternalAuth
}

// ListenerExternalAuth is an ExternalAuth listener filter and its backend.
type ListenerExternalAuth struct {
	Spec *gwv1.HTTPExternalAuthFilter
	// Backend is the authorization service; Backend.Invalid says why it
	// does not resolve (every request is then refused).
	Backend *Backend
}

// validateListenerFilters returns the Accepted=False condition for a
// listener whose filters.requests holds a filter Portico cannot run: it is
// not served rather than served without the filter. nil when all can run.
func validateListenerFilters(spec *gwv1.Listener) *metav1.Condition {
	if spec.Filters == nil {
		return nil
	}
	for i, f := range spec.Filters.Requests {
		field := fmt.Sprintf("spec.listeners[%s].filters.requests[%d]", spec.Name, i)
		var msg string
		switch {
		case f.Type == gwv1.ListenerFilterExternalAuth && f.ExternalAuth == nil:
			msg = field + ": type ExternalAuth needs externalAuth"
		case f.Type == gwv1.ListenerFilterExternalAuth && f.ExternalAuth.ExternalAuthProtocol != gwv1.HTTPRouteExternalAuthHTTPProtocol:
			msg = fmt.Sprintf("%s: ExternalAuth protocol %q is not supported; use HTTP", field, f.ExternalAuth.ExternalAuthProtocol)
		case f.Type == gwv1.ListenerFilterExternalAuth:
			continue
		case f.Type == gwv1.ListenerFilterExtensionRef:
			msg = field + ": ExtensionRef filters are not supported (Portico has no extension kinds); remove it"
		default:
			msg = fmt.Sprintf("%s: filter type %q is not supported; use ExternalAuth", field, f.Type)
		}
		c := conditions.ListenerUnsupportedValue(msg + "; the listener is not served rather than served without the filter")
		return &c
	}
	return nil
}

// resolveListenerFilters resolves the filters of every valid listener of
// g, once the listeners are built: their ExternalAuth backends need the
// endpoints, which depend on the mode (standalone). A reference that does
// not resolve makes the listener's ResolvedRefs False (InvalidListenerFilterRef
// or RefNotPermitted); the listener is served and refuses every request
// rather than skip the filter.
func resolveListenerFilters(g *Graph, ix *resource.Index, standalone bool) {
	var all []*Listener
	for _, gw := range g.Gateways {
		all = append(all, gw.Listeners...)
	}
	for _, ls := range g.ListenerSets {
		all = append(all, ls.Listeners...)
	}
	for _, l := range all {
		if l.Spec.Filters == nil || !l.Valid() {
			continue
		}
		var problem *metav1.Condition
		for i, f := range l.Spec.Filters.Requests {
			if f.ExternalAuth == nil {
				continue // validateListenerFilters refused the listener
			}
			field := fmt.Sprintf("spec.listeners[%s].filters.requests[%d].externalAuth.backendRef", l.Spec.Name, i)
			b, c := resolveFilterBackend(l, field, &f.ExternalAuth.BackendRef, ix, standalone)
			if c != nil && problem == nil {
				problem = c
			}
			l.Filters = append(l.Filters, ListenerFilter{ExternalAuth: &ListenerExternalAuth{Spec: f.ExternalAuth, Backend: b}})
		}
		if problem != nil && meta.IsStatusConditionTrue(l.Conditions, string(gwv1.ListenerConditionResolvedRefs)) {
			meta.SetStatusCondition(&l.Conditions, *problem)
		}
	}
}

// resolveFilterBackend resolves a listener filter's backendRef: a Service
// in the listener's namespace, or in another one that a ReferenceGrant from
// the listener's Gateway (or ListenerSet) opens.
func resolveFilterBackend(l *Listener, field string, ref *gwv1.BackendObjectReference, ix *resource.Index, standalone bool) (*Backend, *metav1.Condition) {
	ns := refNamespace(l.Namespace(), ref.Namespace)
	invalid := func(c metav1.Condition) (*Backend, *metav1.Condition) {
		b := &Backend{Name: fmt.Sprintf("%s/%s", ns, ref.Name), Invalid: c.Message}
		if ref.Port != nil {
			b.Name += fmt.Sprintf(":%d", *ref.Port)
		}
		return b, &c
	}
	if group, kind := refGroupKind(ref.Group, ref.Kind, "Service"); group != "" || kind != "Service" {
		return invalid(conditions.ListenerInvalidFilterRef(fmt.Sprintf(
			"%s: %s is not a supported backend kind; reference a core Service", field, qualifiedKind(group, kind))))
	}
	from := l.referrer()
	if !permitted(ix, from, refTo{"", "Service", ns, string(ref.Name)}) {
		return invalid(conditions.ListenerFilterRefNotPermitted(fmt.Sprintf(
			"%s: Service %s/%s is in another namespace and no ReferenceGrant in %s allows it; add a ReferenceGrant from %s in %s",
			field, ns, ref.Name, ns, from.kind, from.namespace)))
	}
	// The reference is allowed: resolve it as a route's backend in the
	// Service's own namespace.
	local := *ref
	local.Namespace = (*gwv1.Namespace)(&ns)
	b, c := resolveBackend(refFrom{namespace: ns}, field, &local, ix, standalone)
	if c != nil {
		cc := conditions.ListenerInvalidFilterRef(c.Message)
		return b, &cc
	}
	return b, nil
}
