package graph

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/hostname"
	"portico.dev/portico/internal/resource"
)

// Route is a route of any kind with at least one parentRef we answer for.
// Binding (parentRefs, listeners, allowedRoutes, hostnames, Accepted) works
// on its RouteCore alone; the rest is the kind's own (for an HTTPRoute,
// *HTTPRoute: its rules, matches, filters and backendRefs).
type Route interface {
	// Core is the part every kind shares.
	Core() *RouteCore
	// PartiallyInvalid is the PartiallyInvalid condition when some, not
	// all, rules are dropped; nil otherwise.
	PartiallyInvalid() *metav1.Condition
	// resolveRules validates the rules, resolves their references and sets
	// Core().ResolvedRefs. It runs once, before the route is bound.
	resolveRules(ix *resource.Index, standalone bool)
	// rulesAccepted is false, with the Accepted condition to report, when
	// no rule of the route can be served.
	rulesAccepted() (metav1.Condition, bool)
	// eachBackend calls f with every resolved backend of the route's
	// served rules, in spec order, and the field path of its reference
	// (BackendTLSPolicies apply to them).
	eachBackend(f func(field string, b *Backend))
}

// RouteCore is what binding reads and writes, the same for every kind.
type RouteCore struct {
	// Kind is the route's kind ("HTTPRoute"); its group is
	// gateway.networking.k8s.io.
	Kind gwv1.Kind
	Meta *metav1.ObjectMeta
	// ParentRefs and Hostnames are the route's spec.parentRefs and
	// spec.hostnames (nil for a kind without hostnames, such as TCPRoute).
	ParentRefs []gwv1.ParentReference
	Hostnames  []gwv1.Hostname
	// Parents are the parentRefs we answer for, in spec order.
	Parents []*Parent
	// ResolvedRefs is the route-wide ResolvedRefs condition.
	ResolvedRefs metav1.Condition
}

// Core returns c: a kind embeds *RouteCore and so gets Route's Core.
func (c *RouteCore) Core() *RouteCore { return c }

// NamespacedName returns the route's key.
func (c *RouteCore) NamespacedName() types.NamespacedName {
	return types.NamespacedName{Namespace: c.Meta.Namespace, Name: c.Meta.Name}
}

// referrer is the route as the "from" of a ReferenceGrant: its own kind.
func (c *RouteCore) referrer() refFrom {
	return refFrom{gwv1.GroupName, string(c.Kind), c.Meta.Namespace}
}

// routeKind registers one route kind: adding a kind is a file with its
// rules (a type implementing Route) and one entry in routeKinds.
type routeKind struct {
	kind gwv1.Kind
	// protocols are the listener protocols that take the kind (what
	// SupportedKinds lists by default).
	protocols []gwv1.ProtocolType
	// routes returns the kind's objects in s, oldest first (the Gateway API
	// tie-break order), each with its core set and nothing resolved.
	routes func(s *resource.Snapshot) []Route
}

// routeKinds are the route kinds Portico binds, in the order their routes
// are built and listed.
var routeKinds = []routeKind{
	{kind: "HTTPRoute", protocols: []gwv1.ProtocolType{gwv1.HTTPProtocolType, gwv1.HTTPSProtocolType}, routes: httpRoutes},
}

// routeKindsFor lists the route kinds a listener protocol takes, in
// registration order; nil for a protocol that takes none (unsupported).
func routeKindsFor(p gwv1.ProtocolType) []gwv1.Kind {
	var out []gwv1.Kind
	for _, k := range routeKinds {
		if slices.Contains(k.protocols, p) {
			out = append(out, k.kind)
		}
	}
	return out
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

// buildRoutes binds the routes of every registered kind, kind by kind.
func buildRoutes(s *resource.Snapshot, ix *resource.Index, gws []*Gateway, sets []*ListenerSet, warnings *[]string) []Route {
	listenerSetParent := listenerSetParents(s, sets)
	gateways := indexParents(s, gws, s.Gateways)
	var out []Route
	for _, k := range routeKinds {
		for _, r := range k.routes(s) {
			c := r.Core()
			if len(c.ParentRefs) == 0 {
				// No status can carry this: a route has status only per parent.
				*warnings = append(*warnings, fmt.Sprintf(
					"%s %s/%s: spec.parentRefs is empty, so the route attaches to no Gateway and is not served; add parentRefs: [{name: GATEWAY}]",
					c.Kind, c.Meta.Namespace, c.Meta.Name))
				continue
			}
			c.Parents = findParents(c, gateways, listenerSetParent)
			if len(c.Parents) == 0 {
				continue
			}
			r.resolveRules(ix, s.Standalone)
			for _, p := range c.Parents {
				bindParent(r, p, ix)
			}
			out = append(out, r)
		}
	}
	return out
}

// findParents returns the route's parentRefs that we answer for, in spec
// order.
func findParents(c *RouteCore, gateways parents[*Gateway], listenerSetParent func(gwv1.ParentReference, string) *Parent) []*Parent {
	var out []*Parent
	for _, ref := range c.ParentRefs {
		if isListenerSetRef(ref) {
			if p := listenerSetParent(ref, c.Meta.Namespace); p != nil {
				out = append(out, p)
			}
			continue
		}
		if !isGatewayRef(ref) {
			continue
		}
		gw, ours := gateways.find(types.NamespacedName{Namespace: refNamespace(c.Meta.Namespace, ref.Namespace), Name: string(ref.Name)})
		if !ours {
			continue
		}
		out = append(out, &Parent{Ref: ref, Gateway: gw})
	}
	return out
}

// routesOf returns the routes of type R in rs, in order.
func routesOf[R Route](rs []Route) []R {
	var out []R
	for _, r := range rs {
		if v, ok := r.(R); ok {
			out = append(out, v)
		}
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
func bindParent(r Route, p *Parent, ix *resource.Index) {
	c := r.Core()
	if cond, bad := parentProblem(c, p); bad {
		p.Accepted = cond
		return
	}
	ns := c.Meta.Namespace
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
			"parentRef %s: the %s has no listener with that sectionName/port", describeRef(ns, p.Ref), parentKind(p.Ref)))
		return
	}
	var allowed []*Listener
	for _, l := range candidates {
		if l.Valid() && allowsRoute(l, c.Kind, ns, ix) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		p.Accepted = conditions.RouteNotAllowedByListeners(fmt.Sprintf(
			"no valid listener of %s %s admits %ss from namespace %s; check the listeners' allowedRoutes",
			parentKind(p.Ref), parentName(ns, p.Ref), c.Kind, ns))
		return
	}
	for _, l := range allowed {
		if len(effectiveHostnames(l, c.Hostnames)) > 0 {
			p.Listeners = append(p.Listeners, l)
		}
	}
	if len(p.Listeners) == 0 {
		p.Accepted = conditions.RouteNoMatchingListenerHostname(
			"no spec.hostnames entry intersects the hostname of an allowed listener; fix spec.hostnames or the listener hostname")
		return
	}
	if cond, ok := r.rulesAccepted(); !ok {
		p.Accepted = cond
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
func parentProblem(r *RouteCore, p *Parent) (metav1.Condition, bool) {
	kind := parentKind(p.Ref)
	switch {
	case isListenerSetRef(p.Ref) && p.ListenerSet == nil:
		return conditions.RouteNoMatchingParent(fmt.Sprintf(
			"parentRef %s: %s does not exist; check spec.parentRefs", describeRef(r.Meta.Namespace, p.Ref), kind)), true
	case p.ListenerSet != nil && !p.ListenerSet.Accepted() && !p.ListenerSet.onlyListenersInvalid():
		return conditions.RouteParentNotAccepted(fmt.Sprintf(
			"ListenerSet %s is not accepted; see its conditions", p.ListenerSet.NamespacedName())), true
	case p.Gateway == nil:
		return conditions.RouteNoMatchingParent(fmt.Sprintf(
			"parentRef %s: %s does not exist; check spec.parentRefs", describeRef(r.Meta.Namespace, p.Ref), kind)), true
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

// parentName is "namespace/name" of ref, from a route in namespace ns.
func parentName(ns string, ref gwv1.ParentReference) string {
	return refNamespace(ns, ref.Namespace) + "/" + string(ref.Name)
}

func describeRef(ns string, ref gwv1.ParentReference) string {
	s := parentName(ns, ref)
	if ref.SectionName != nil {
		s += " sectionName " + string(*ref.SectionName)
	}
	if ref.Port != nil {
		s += fmt.Sprintf(" port %d", *ref.Port)
	}
	return s
}

// allowsRoute applies a listener's allowedRoutes (kinds, then namespaces)
// to a route of kind in namespace ns.
func allowsRoute(l *Listener, kind gwv1.Kind, ns string, ix *resource.Index) bool {
	if !slices.ContainsFunc(l.SupportedKinds, func(k gwv1.RouteGroupKind) bool {
		return k.Kind == kind && (k.Group == nil || *k.Group == gwv1.GroupName)
	}) {
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

// EffectiveHostnames are the hostnames the route serves on listener l (for
// translate).
func (c *RouteCore) EffectiveHostnames(l *Listener) []EffectiveHostname {
	return effectiveHostnames(l, c.Hostnames)
}
