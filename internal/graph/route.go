package graph

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/hostname"
	"portico.dev/portico/internal/resource"
)

// HTTPRoute is an HTTPRoute with at least one parentRef we answer for.
type HTTPRoute struct {
	Object *gwv1.HTTPRoute
	// Parents are the parentRefs we answer for, in spec order.
	Parents []*Parent
	Rules   []*Rule
	// Backends are the resolved backendRefs and mirror refs, keyed by the
	// reference inside Object.
	Backends map[*gwv1.BackendObjectReference]*Backend
	// ResolvedRefs is the route-wide ResolvedRefs condition.
	ResolvedRefs metav1.Condition
}

// Parent is one parentRef and what it bound to.
type Parent struct {
	Ref gwv1.ParentReference
	// Gateway is nil when the referenced Gateway does not exist. For a
	// ListenerSet parentRef it is the ListenerSet's parent.
	Gateway *Gateway
	// ListenerSet is set for a parentRef of kind ListenerSet that exists;
	// the route attaches only to its listeners.
	ListenerSet *ListenerSet
	// Listeners are the listeners the route attached to through this ref.
	Listeners []*Listener
	// Accepted is this parent's Accepted condition.
	Accepted metav1.Condition
}

// Attached reports whether the route is accepted by this parent.
func (p *Parent) Attached() bool { return p.Accepted.Status == metav1.ConditionTrue }

func buildHTTPRoutes(s *resource.Snapshot, ix *resource.Index, gws []*Gateway, sets []*ListenerSet, warnings *[]string) []*HTTPRoute {
	listenerSetParent := listenerSetParents(s, sets)
	gateways := indexParents(s, gws, s.Gateways)
	var out []*HTTPRoute
	for _, obj := range sortedBy(s.HTTPRoutes, func(r *gwv1.HTTPRoute) *metav1.ObjectMeta { return &r.ObjectMeta }) {
		r := &HTTPRoute{Object: obj}
		if len(obj.Spec.ParentRefs) == 0 {
			// No status can carry this: a route has status only per parent.
			*warnings = append(*warnings, fmt.Sprintf(
				"HTTPRoute %s/%s: spec.parentRefs is empty, so the route attaches to no Gateway and is not served; add parentRefs: [{name: GATEWAY}]",
				obj.Namespace, obj.Name))
			continue
		}
		for _, ref := range obj.Spec.ParentRefs {
			if isListenerSetRef(ref) {
				if p := listenerSetParent(ref, obj.Namespace); p != nil {
					r.Parents = append(r.Parents, p)
				}
				continue
			}
			if !isGatewayRef(ref) {
				continue
			}
			gw, ours := gateways.find(types.NamespacedName{Namespace: refNamespace(obj.Namespace, ref.Namespace), Name: string(ref.Name)})
			if !ours {
				continue
			}
			r.Parents = append(r.Parents, &Parent{Ref: ref, Gateway: gw})
		}
		if len(r.Parents) == 0 {
			continue
		}
		resolveRules(r, ix, s.Standalone)
		for _, p := range r.Parents {
			bindParent(r, p, ix)
		}
		out = append(out, r)
	}
	return out
}

// parents indexes the parents of one kind (Gateways, ListenerSets) that
// references may name: ours, and every one that exists.
type parents[P any] struct {
	ours       map[types.NamespacedName]P
	exists     map[types.NamespacedName]bool
	standalone bool
}

// indexParents indexes ours among all the parents of one kind in s.
func indexParents[P interface{ NamespacedName() types.NamespacedName }, O metav1.Object](s *resource.Snapshot, ours []P, all []O) parents[P] {
	ps := parents[P]{ours: map[types.NamespacedName]P{}, exists: map[types.NamespacedName]bool{}, standalone: s.Standalone}
	for _, p := range ours {
		ps.ours[p.NamespacedName()] = p
	}
	for _, o := range all {
		ps.exists[types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}] = true
	}
	return ps
}

// find returns the parent named key, and whether it is ours to answer for.
// It is not when it is another controller's, or, in a cluster, when it does
// not exist (yet). In standalone mode one that does not exist is ours to
// report: p is then the zero P.
func (ps parents[P]) find(key types.NamespacedName) (p P, ours bool) {
	p, ok := ps.ours[key]
	return p, ok || (ps.standalone && !ps.exists[key])
}

// refNamespace is the namespace a reference from namespace from names: ns
// when set.
func refNamespace(from string, ns *gwv1.Namespace) string {
	if ns != nil {
		return string(*ns)
	}
	return from
}

func isGatewayRef(ref gwv1.ParentReference) bool {
	return (ref.Group == nil || *ref.Group == gwv1.GroupName) && (ref.Kind == nil || *ref.Kind == "Gateway")
}

// bindParent attaches the route to the listeners its parentRef selects, and
// sets the parent's Accepted condition.
func bindParent(r *HTTPRoute, p *Parent, ix *resource.Index) {
	if c, bad := parentProblem(r, p); bad {
		p.Accepted = c
		return
	}
	// A parentRef selects among the listeners of the resource it names
	// only: a Gateway's own, or a ListenerSet's.
	listeners := p.Gateway.Listeners
	if p.ListenerSet != nil {
		listeners = p.ListenerSet.Listeners
	}
	var candidates []*Listener
	for _, l := range listeners {
		if p.Ref.SectionName != nil && *p.Ref.SectionName != l.Spec.Name {
			continue
		}
		if p.Ref.Port != nil && *p.Ref.Port != l.Spec.Port {
			continue
		}
		candidates = append(candidates, l)
	}
	if len(candidates) == 0 {
		p.Accepted = conditions.RouteNoMatchingParent(fmt.Sprintf(
			"parentRef %s: the %s has no listener with that sectionName/port", describeRef(r.Object, p.Ref), parentKind(p.Ref)))
		return
	}
	var allowed []*Listener
	for _, l := range candidates {
		if l.Valid() && allowsRoute(l, r.Object.Namespace, ix) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		p.Accepted = conditions.RouteNotAllowedByListeners(fmt.Sprintf(
			"no valid listener of %s %s admits HTTPRoutes from namespace %s; check the listeners' allowedRoutes",
			parentKind(p.Ref), parentName(r.Object, p.Ref), r.Object.Namespace))
		return
	}
	for _, l := range allowed {
		if len(effectiveHostnames(l, r.Object.Spec.Hostnames)) > 0 {
			p.Listeners = append(p.Listeners, l)
		}
	}
	if len(p.Listeners) == 0 {
		p.Accepted = conditions.RouteNoMatchingListenerHostname(
			"no spec.hostnames entry intersects the hostname of an allowed listener; fix spec.hostnames or the listener hostname")
		return
	}
	if c, ok := routeRulesAccepted(r); !ok {
		p.Accepted = c
		p.Listeners = nil
		return
	}
	p.Accepted = conditions.RouteAccepted()
	for _, l := range p.Listeners {
		if len(l.Routes) == 0 || l.Routes[len(l.Routes)-1] != r {
			l.Routes = append(l.Routes, r)
		}
	}
}

// parentProblem returns the Accepted=False condition of a parent that
// takes no routes at all: one that does not exist, or that is rejected as a
// whole. A Gateway or ListenerSet rejected only for its listeners goes
// through the listener checks of bindParent, which say why.
func parentProblem(r *HTTPRoute, p *Parent) (metav1.Condition, bool) {
	kind := parentKind(p.Ref)
	switch {
	case isListenerSetRef(p.Ref) && p.ListenerSet == nil:
		return conditions.RouteNoMatchingParent(fmt.Sprintf(
			"parentRef %s: %s does not exist; check spec.parentRefs", describeRef(r.Object, p.Ref), kind)), true
	case p.ListenerSet != nil && !p.ListenerSet.Accepted() && !p.ListenerSet.onlyListenersInvalid():
		return conditions.RouteParentNotAccepted(fmt.Sprintf(
			"ListenerSet %s is not accepted; see its conditions", p.ListenerSet.NamespacedName())), true
	case p.Gateway == nil:
		return conditions.RouteNoMatchingParent(fmt.Sprintf(
			"parentRef %s: %s does not exist; check spec.parentRefs", describeRef(r.Object, p.Ref), kind)), true
	case p.ListenerSet == nil && !p.Gateway.Accepted() && !p.Gateway.onlyListenersInvalid():
		return conditions.RouteParentNotAccepted(fmt.Sprintf(
			"Gateway %s is not accepted; see its conditions", p.Gateway.NamespacedName())), true
	}
	return metav1.Condition{}, false
}

func parentKind(ref gwv1.ParentReference) string {
	if ref.Kind == nil {
		return "Gateway"
	}
	return string(*ref.Kind)
}

func parentName(r *gwv1.HTTPRoute, ref gwv1.ParentReference) string {
	return refNamespace(r.Namespace, ref.Namespace) + "/" + string(ref.Name)
}

func describeRef(r *gwv1.HTTPRoute, ref gwv1.ParentReference) string {
	s := parentName(r, ref)
	if ref.SectionName != nil {
		s += " sectionName " + string(*ref.SectionName)
	}
	if ref.Port != nil {
		s += fmt.Sprintf(" port %d", *ref.Port)
	}
	return s
}

// allowsRoute applies a listener's allowedRoutes to an HTTPRoute in ns.
func allowsRoute(l *Listener, ns string, ix *resource.Index) bool {
	kindOK := false
	for _, k := range l.SupportedKinds {
		if k.Kind == "HTTPRoute" {
			kindOK = true
		}
	}
	if !kindOK {
		return false
	}
	from := gwv1.NamespacesFromSame
	var selector *metav1.LabelSelector
	if ar := l.Spec.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != nil {
			from = *ar.Namespaces.From
		}
		selector = ar.Namespaces.Selector
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return ns == l.Namespace()
	case gwv1.NamespacesFromSelector:
		if selector == nil {
			return false
		}
		sel, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			return false
		}
		return sel.Matches(labels.Set(ix.NamespaceLabels(ns)))
	}
	return false
}

// EffectiveHostname is a hostname a route serves on a listener.
type EffectiveHostname struct {
	Match      string // intersection of route and listener hostnames
	Precedence string // the route's own hostname, "" when it has none
}

// effectiveHostnames intersects a route's hostnames with a listener's. A
// route without hostnames serves the listener's hostname.
func effectiveHostnames(l *Listener, route []gwv1.Hostname) []EffectiveHostname {
	if len(route) == 0 {
		return []EffectiveHostname{{Match: l.Hostname()}}
	}
	var out []EffectiveHostname
	for _, h := range route {
		if m, ok := hostname.Intersect(l.Hostname(), string(h)); ok {
			out = append(out, EffectiveHostname{Match: m, Precedence: string(h)})
		}
	}
	return out
}

// EffectiveHostnames is effectiveHostnames for translate.
func (r *HTTPRoute) EffectiveHostnames(l *Listener) []EffectiveHostname {
	return effectiveHostnames(l, r.Object.Spec.Hostnames)
}
