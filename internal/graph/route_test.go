package graph

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/resource"
)

// fakeRoute is a route kind defined only here: parentRefs, hostnames and
// one backendRef, and no rules of its own. That binding serves it shows
// the binding is generic: nothing in route.go knows this kind.
type fakeRoute struct {
	*RouteCore
	backendRef gwv1.BackendObjectReference
	backend    *Backend
}

func (r *fakeRoute) resolveRules(ix *resource.Index, standalone bool) {
	var c *metav1.Condition
	r.backend, c = resolveBackend(r.referrer(), "spec.backendRef", &r.backendRef, ix, standalone)
	r.ResolvedRefs = conditions.RouteResolvedRefs()
	if c != nil {
		r.ResolvedRefs = *c
	}
}

func (r *fakeRoute) rulesAccepted() (metav1.Condition, bool) { return metav1.Condition{}, true }

func (r *fakeRoute) PartiallyInvalid() *metav1.Condition { return nil }

func (r *fakeRoute) eachBackend(f func(string, *Backend)) { f("spec.backendRef", r.backend) }

const fakeKind gwv1.Kind = "FakeRoute"

// registerFakeRoute adds the fake kind to routeKinds for HTTP listeners,
// its objects being routes, for the duration of the test. It changes a
// package variable: a test calling it must not run in parallel.
func registerFakeRoute(t *testing.T, routes ...*fakeRoute) {
	saved := routeKinds
	t.Cleanup(func() { routeKinds = saved })
	routeKinds = append(slices.Clone(saved), routeKind{
		kind:      fakeKind,
		protocols: []gwv1.ProtocolType{gwv1.HTTPProtocolType},
		routes: func(*resource.Snapshot) []Route {
			out := make([]Route, len(routes))
			for i, r := range routes {
				out[i] = r
			}
			return out
		},
	})
}

func newFakeRoute(name string, hostnames []gwv1.Hostname, refs ...gwv1.ParentReference) *fakeRoute {
	meta := &metav1.ObjectMeta{Namespace: "apps", Name: name, CreationTimestamp: metav1.NewTime(t0)}
	return &fakeRoute{
		RouteCore:  &RouteCore{Kind: fakeKind, Meta: meta, ParentRefs: refs, Hostnames: hostnames},
		backendRef: gwv1.BackendObjectReference{Name: "svc", Namespace: ptr.To(gwv1.Namespace("backend")), Port: ptr.To(gwv1.PortNumber(8080))},
	}
}

// A second route kind, registered once, binds through the same code as
// HTTPRoute: it attaches by sectionName and port, is refused by
// allowedRoutes.kinds and namespaces (NotAllowedByListeners), its
// hostnames intersect the listener's, a ReferenceGrant must name its own
// kind, and the listener's routes (attachedRoutes) count it with the
// HTTPRoutes.
func TestBindingIsGenericOverRouteKinds(t *testing.T) {
	web := httpListener("web", "*.example.com", 80)
	web.AllowedRoutes = &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromAll)}}
	httpOnly := httpListener("http-only", "", 8080)
	httpOnly.AllowedRoutes = &gwv1.AllowedRoutes{
		Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromAll)},
		Kinds:      []gwv1.RouteGroupKind{{Kind: "HTTPRoute"}},
	}
	same := httpListener("same", "", 81) // allowedRoutes From: Same (infra)
	gw := lsGateway("", web, httpOnly, same)

	gwRef := func(section string, port gwv1.PortNumber) gwv1.ParentReference {
		ref := gwv1.ParentReference{Name: "gw", Namespace: ptr.To(gwv1.Namespace("infra"))}
		if section != "" {
			ref.SectionName = ptr.To(gwv1.SectionName(section))
		}
		if port != 0 {
			ref.Port = ptr.To(port)
		}
		return ref
	}
	attached := newFakeRoute("attached", []gwv1.Hostname{"a.example.com"}, gwRef("web", 0))
	byPort := newFakeRoute("by-port", nil, gwRef("", 80))
	kindRefused := newFakeRoute("kind-refused", nil, gwRef("http-only", 0))
	nsRefused := newFakeRoute("namespace-refused", nil, gwRef("same", 0))
	noHost := newFakeRoute("no-hostname", []gwv1.Hostname{"a.example.org"}, gwRef("web", 0))
	noPort := newFakeRoute("no-port", nil, gwRef("", 9999))
	noParents := newFakeRoute("no-parents", nil)
	registerFakeRoute(t, attached, byPort, kindRefused, nsRefused, noHost, noPort, noParents)

	httpRoute := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "http", CreationTimestamp: metav1.NewTime(t0)}}
	httpRoute.Spec.ParentRefs = []gwv1.ParentReference{gwRef("", 0)}
	httpRoute.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
		BackendObjectReference: newFakeRoute("", nil).backendRef}}}}}
	resource.DefaultHTTPRoute(httpRoute)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "backend", Name: "svc"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}}}
	grant := func(kind gwv1.Kind) *gwv1.ReferenceGrant {
		return &gwv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "backend", Name: "from-" + strings.ToLower(string(kind))},
			Spec: gwv1.ReferenceGrantSpec{
				From: []gwv1.ReferenceGrantFrom{{Group: gwv1.GroupName, Kind: kind, Namespace: "apps"}},
				To:   []gwv1.ReferenceGrantTo{{Kind: "Service"}},
			}}
	}
	build := func(grants ...*gwv1.ReferenceGrant) *Graph {
		return buildLS(t, &resource.Snapshot{
			Gateways: []*gwv1.Gateway{gw}, HTTPRoutes: []*gwv1.HTTPRoute{httpRoute},
			Services: []*corev1.Service{svc}, ReferenceGrants: grants,
		})
	}

	g := build(grant(fakeKind))
	want := map[string]string{ // fake route -> its one parent: Accepted and the listeners bound
		"attached":          "True/Accepted [web]",
		"by-port":           "True/Accepted [web]",
		"kind-refused":      "False/NotAllowedByListeners []",
		"namespace-refused": "False/NotAllowedByListeners []",
		"no-hostname":       "False/NoMatchingListenerHostname []",
		"no-port":           "False/NoMatchingParent []",
	}
	var fakes []string
	for _, r := range routesOf[*fakeRoute](g.Routes) {
		fakes = append(fakes, r.Meta.Name)
		if len(r.Parents) != 1 {
			t.Errorf("%s: %d parents, want 1", r.Meta.Name, len(r.Parents))
			continue
		}
		if got := parentSummary(r.Parents[0]); got != want[r.Meta.Name] {
			t.Errorf("%s: parent %s, want %s", r.Meta.Name, got, want[r.Meta.Name])
		}
		if r.ResolvedRefs.Status != metav1.ConditionTrue {
			t.Errorf("%s: ResolvedRefs %s/%s (%s), want True: a ReferenceGrant from FakeRoute allows its backendRef",
				r.Meta.Name, r.ResolvedRefs.Status, r.ResolvedRefs.Reason, r.ResolvedRefs.Message)
		}
	}
	if len(fakes) != len(want) {
		t.Errorf("fake routes in the graph %v, want the %d with parentRefs", fakes, len(want))
	}
	if !slices.ContainsFunc(g.Warnings, func(w string) bool {
		return strings.HasPrefix(w, "FakeRoute apps/no-parents: spec.parentRefs is empty")
	}) {
		t.Errorf("no warning for the fake route without parentRefs: %q", g.Warnings)
	}
	if hr := g.HTTPRoutes[0]; hr.ResolvedRefs.Reason != string(gwv1.RouteReasonRefNotPermitted) {
		t.Errorf("HTTPRoute: ResolvedRefs %s (%s), want RefNotPermitted: the grant is from FakeRoute", hr.ResolvedRefs.Reason, hr.ResolvedRefs.Message)
	}
	if c := kindRefused.Parents[0].Accepted; !strings.Contains(c.Message, "admits FakeRoutes from namespace apps") {
		t.Errorf("kind-refused message %q should name the kind", c.Message)
	}

	listeners := map[gwv1.SectionName]*Listener{}
	for _, l := range g.Gateways[0].Listeners {
		listeners[l.Spec.Name] = l
	}
	for name, w := range map[gwv1.SectionName]struct{ kinds, routes string }{
		// web takes both kinds: the HTTPRoute and the two fake routes
		// bound to it count in attachedRoutes, kind by kind.
		"web":       {"HTTPRoute FakeRoute", "HTTPRoute/http FakeRoute/attached FakeRoute/by-port"},
		"http-only": {"HTTPRoute", "HTTPRoute/http"},
		"same":      {"HTTPRoute FakeRoute", ""},
	} {
		l := listeners[name]
		var kinds, routes []string
		for _, k := range l.SupportedKinds {
			kinds = append(kinds, string(k.Kind))
		}
		for _, r := range l.Routes {
			routes = append(routes, string(r.Core().Kind)+"/"+r.Core().Meta.Name)
		}
		if got := strings.Join(kinds, " "); got != w.kinds {
			t.Errorf("listener %s: supportedKinds %s, want %s", name, got, w.kinds)
		}
		if got := strings.Join(routes, " "); got != w.routes {
			t.Errorf("listener %s: routes (attachedRoutes %d) %s, want %s", name, len(l.Routes), got, w.routes)
		}
	}
	if c := meta.FindStatusCondition(listeners["http-only"].Conditions, string(gwv1.ListenerConditionResolvedRefs)); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("http-only: ResolvedRefs %+v, want True (HTTPRoute is a kind it takes)", c)
	}

	// A ReferenceGrant from HTTPRoute does not open the Service to a
	// FakeRoute: the grant's from is the route's own kind.
	g = build(grant("HTTPRoute"))
	for _, r := range routesOf[*fakeRoute](g.Routes) {
		if r.ResolvedRefs.Reason != string(gwv1.RouteReasonRefNotPermitted) ||
			!strings.Contains(r.ResolvedRefs.Message, "add a ReferenceGrant from FakeRoute in apps") {
			t.Errorf("%s: ResolvedRefs %s (%s), want RefNotPermitted naming FakeRoute", r.Meta.Name, r.ResolvedRefs.Reason, r.ResolvedRefs.Message)
		}
	}
	if hr := g.HTTPRoutes[0]; hr.ResolvedRefs.Status != metav1.ConditionTrue {
		t.Errorf("HTTPRoute: ResolvedRefs %s (%s), want True with a grant from HTTPRoute", hr.ResolvedRefs.Reason, hr.ResolvedRefs.Message)
	}
}

// parentSummary is "Status/Reason [listeners]" of a route's parent.
func parentSummary(p *Parent) string {
	var names []string
	for _, l := range p.Listeners {
		names = append(names, string(l.Spec.Name))
	}
	return string(p.Accepted.Status) + "/" + p.Accepted.Reason + " [" + strings.Join(names, " ") + "]"
}

// BackendTLSPolicies apply to the backends of every route kind
// (Route.eachBackend), and the Gateways such a route attaches to are the
// policy's ancestors.
func TestBackendTLSAppliesToEveryRouteKind(t *testing.T) {
	web := httpListener("web", "", 80)
	web.AllowedRoutes = &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromAll)}}
	gw := lsGateway("", web)
	route := newFakeRoute("tls-backend", nil, gwv1.ParentReference{Name: "gw", Namespace: ptr.To(gwv1.Namespace("infra"))})
	route.backendRef = gwv1.BackendObjectReference{Name: "svc", Port: ptr.To(gwv1.PortNumber(8443))}
	registerFakeRoute(t, route)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "svc"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "tls", Port: 8443, AppProtocol: ptr.To("https")}}}}
	policy := &gwv1.BackendTLSPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "tls", CreationTimestamp: metav1.NewTime(t0)},
		Spec: gwv1.BackendTLSPolicySpec{
			TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Kind: "Service", Name: "svc"}}},
			Validation: gwv1.BackendTLSPolicyValidation{
				Hostname:                "svc.example.com",
				WellKnownCACertificates: ptr.To(gwv1.WellKnownCACertificatesSystem),
			},
		},
	}
	build := func(policies ...*gwv1.BackendTLSPolicy) *Graph {
		return buildLS(t, &resource.Snapshot{Gateways: []*gwv1.Gateway{gw}, Services: []*corev1.Service{svc}, BackendTLSPolicies: policies})
	}

	build()
	if route.ResolvedRefs.Reason != string(gwv1.RouteReasonUnsupportedProtocol) || route.backend.Invalid == "" {
		t.Errorf("without a policy: ResolvedRefs %s (%s), backend invalid %q; want UnsupportedProtocol and an invalid backend",
			route.ResolvedRefs.Reason, route.ResolvedRefs.Message, route.backend.Invalid)
	}

	g := build(policy)
	if route.ResolvedRefs.Status != metav1.ConditionTrue || route.backend.TLS == nil || route.backend.TLS.ServerName != "svc.example.com" {
		t.Errorf("with a policy: ResolvedRefs %s (%s), backend TLS %+v; want True and the policy's TLS",
			route.ResolvedRefs.Reason, route.ResolvedRefs.Message, route.backend.TLS)
	}
	if len(g.BackendTLSPolicies) != 1 || len(g.BackendTLSPolicies[0].Ancestors) != 1 ||
		g.BackendTLSPolicies[0].Ancestors[0].Gateway.NamespacedName().String() != "infra/gw" {
		t.Errorf("policy ancestors: %+v, want the Gateway infra/gw the FakeRoute attaches to", g.BackendTLSPolicies)
	}
}
