package resource

import (
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The defaulting below is what the Gateway API CRD schemas make the API server
// apply on create. The file provider calls it so that standalone input reads
// exactly as the same objects would read back from a cluster; later stages may
// then rely on the defaulted fields being set.

// DefaultGateway fills the CRD defaults of a Gateway in place.
func DefaultGateway(g *gwv1.Gateway) {
	for i := range g.Spec.Addresses {
		if g.Spec.Addresses[i].Type == nil {
			g.Spec.Addresses[i].Type = ptr.To(gwv1.IPAddressType)
		}
	}
	for i := range g.Spec.Listeners {
		defaultListener(&g.Spec.Listeners[i])
	}
}

// defaultListener fills the CRD defaults of a Gateway listener or, through
// a conversion of its identical struct, a ListenerSet's ListenerEntry.
func defaultListener(l *gwv1.Listener) {
	if l.AllowedRoutes == nil {
		l.AllowedRoutes = &gwv1.AllowedRoutes{}
	}
	if l.AllowedRoutes.Namespaces == nil {
		l.AllowedRoutes.Namespaces = &gwv1.RouteNamespaces{}
	}
	if l.AllowedRoutes.Namespaces.From == nil {
		l.AllowedRoutes.Namespaces.From = ptr.To(gwv1.NamespacesFromSame)
	}
	for k := range l.AllowedRoutes.Kinds {
		if l.AllowedRoutes.Kinds[k].Group == nil {
			l.AllowedRoutes.Kinds[k].Group = ptr.To(gwv1.Group(gwv1.GroupName))
		}
	}
	if l.TLS != nil {
		if l.TLS.Mode == nil {
			l.TLS.Mode = ptr.To(gwv1.TLSModeTerminate)
		}
		for k := range l.TLS.CertificateRefs {
			defaultSecretRef(&l.TLS.CertificateRefs[k])
		}
	}
}

func defaultSecretRef(r *gwv1.SecretObjectReference) {
	if r.Group == nil {
		r.Group = ptr.To(gwv1.Group(""))
	}
	if r.Kind == nil {
		r.Kind = ptr.To(gwv1.Kind("Secret"))
	}
}

// DefaultHTTPRoute fills the CRD defaults of an HTTPRoute in place.
func DefaultHTTPRoute(r *gwv1.HTTPRoute) {
	defaultParentRefs(r.Spec.ParentRefs)
	if len(r.Spec.Rules) == 0 {
		r.Spec.Rules = []gwv1.HTTPRouteRule{{}}
	}
	for i := range r.Spec.Rules {
		rule := &r.Spec.Rules[i]
		if len(rule.Matches) == 0 {
			rule.Matches = []gwv1.HTTPRouteMatch{{}}
		}
		for j := range rule.Matches {
			defaultMatch(&rule.Matches[j])
		}
		defaultFilters(rule.Filters)
		for j := range rule.BackendRefs {
			b := &rule.BackendRefs[j]
			defaultBackendRef(&b.BackendRef)
			defaultFilters(b.Filters)
		}
		if rule.Retry != nil && rule.Retry.Attempts == nil {
			rule.Retry.Attempts = ptr.To(1)
		}
	}
}

func defaultParentRefs(refs []gwv1.ParentReference) {
	for i := range refs {
		if refs[i].Group == nil {
			refs[i].Group = ptr.To(gwv1.Group(gwv1.GroupName))
		}
		if refs[i].Kind == nil {
			refs[i].Kind = ptr.To(gwv1.Kind("Gateway"))
		}
	}
}

func defaultMatch(m *gwv1.HTTPRouteMatch) {
	if m.Path == nil {
		m.Path = &gwv1.HTTPPathMatch{}
	}
	if m.Path.Type == nil {
		m.Path.Type = ptr.To(gwv1.PathMatchPathPrefix)
	}
	if m.Path.Value == nil {
		m.Path.Value = ptr.To("/")
	}
	for k := range m.Headers {
		if m.Headers[k].Type == nil {
			m.Headers[k].Type = ptr.To(gwv1.HeaderMatchExact)
		}
	}
	for k := range m.QueryParams {
		if m.QueryParams[k].Type == nil {
			m.QueryParams[k].Type = ptr.To(gwv1.QueryParamMatchExact)
		}
	}
}

func defaultFilters(fs []gwv1.HTTPRouteFilter) {
	for i := range fs {
		f := &fs[i]
		if f.RequestRedirect != nil && f.RequestRedirect.StatusCode == nil {
			f.RequestRedirect.StatusCode = ptr.To(302)
		}
		if f.RequestMirror != nil {
			defaultBackendObjectRef(&f.RequestMirror.BackendRef)
		}
		if f.CORS != nil && f.CORS.MaxAge == 0 {
			f.CORS.MaxAge = 5
		}
	}
}

func defaultBackendRef(b *gwv1.BackendRef) {
	defaultBackendObjectRef(&b.BackendObjectReference)
	if b.Weight == nil {
		b.Weight = ptr.To(int32(1))
	}
}

func defaultBackendObjectRef(b *gwv1.BackendObjectReference) {
	if b.Group == nil {
		b.Group = ptr.To(gwv1.Group(""))
	}
	if b.Kind == nil {
		b.Kind = ptr.To(gwv1.Kind("Service"))
	}
}

// DefaultListenerSet fills the CRD defaults of a ListenerSet in place: its
// parentRef's group and kind, and of its listeners what a Gateway's
// listeners get.
func DefaultListenerSet(ls *gwv1.ListenerSet) {
	ref := &ls.Spec.ParentRef
	if ref.Group == nil {
		ref.Group = ptr.To(gwv1.Group(gwv1.GroupName))
	}
	if ref.Kind == nil {
		ref.Kind = ptr.To(gwv1.Kind("Gateway"))
	}
	for i := range ls.Spec.Listeners {
		defaultListener((*gwv1.Listener)(&ls.Spec.Listeners[i]))
	}
}
