package graph

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/resource"
)

// policyGraph is a Gateway infra/gw (listeners a, b) with a ListenerSet
// infra/ls (listener c), an HTTPRoute infra/r with a rule named "named",
// and a Service infra/svc with a port named "http".
func policyGraph(t *testing.T) (*Graph, *policyScope) {
	t.Helper()
	route := &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "r", Generation: 1, CreationTimestamp: metav1.NewTime(t0)},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Rules:           []gwv1.HTTPRouteRule{{Name: ptr.To(gwv1.SectionName("named"))}, {}},
		},
	}
	s := &resource.Snapshot{
		Gateways:     []*gwv1.Gateway{lsGateway(gwv1.NamespacesFromAll, httpListener("a", "", 80), httpListener("b", "b.example", 80))},
		ListenerSets: []*gwv1.ListenerSet{listenerSet("infra", "ls", time.Second, httpListener("c", "c.example", 80))},
		HTTPRoutes:   []*gwv1.HTTPRoute{route},
		Services: []*corev1.Service{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "svc"},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		}},
	}
	g := buildLS(t, s)
	if len(g.Gateways) != 1 || len(g.ListenerSets) != 1 || len(g.Routes) != 1 {
		t.Fatalf("graph: %d Gateways, %d ListenerSets, %d routes; want 1 each", len(g.Gateways), len(g.ListenerSets), len(g.Routes))
	}
	return g, newPolicyScope(resource.NewIndex(s), g.Gateways, g.ListenerSets, g.Routes)
}

func ref(group, kind, name, section string) gwv1.LocalPolicyTargetReferenceWithSectionName {
	r := gwv1.LocalPolicyTargetReferenceWithSectionName{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
		Group: gwv1.Group(group), Kind: gwv1.Kind(kind), Name: gwv1.ObjectName(name)}}
	if section != "" {
		r.SectionName = ptr.To(gwv1.SectionName(section))
	}
	return r
}

func testPolicy(ns, name string, age time.Duration, refs ...gwv1.LocalPolicyTargetReferenceWithSectionName) *AttachedPolicy {
	meta := &metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(t0.Add(age))}
	return newAttachedPolicy("TestPolicy", meta, refs)
}

var allTargets = []policyTargetKind{targetGateway, targetListenerSet, targetService, {gwv1.GroupName, "HTTPRoute"}}

func TestPolicyTargetResolution(t *testing.T) {
	g, sc := policyGraph(t)
	gw, ls, r := g.Gateways[0], g.ListenerSets[0], g.Routes[0]
	const gn = gwv1.GroupName
	cases := []struct {
		name     string
		ref      gwv1.LocalPolicyTargetReferenceWithSectionName
		check    func(*PolicyTarget) bool
		notFound bool
	}{
		{"gateway", ref(gn, "Gateway", "gw", ""), func(pt *PolicyTarget) bool { return pt.Gateway == gw && pt.Listener == nil }, false},
		{"listener", ref(gn, "Gateway", "gw", "b"), func(pt *PolicyTarget) bool { return pt.Gateway == gw && pt.Listener == gw.Listeners[1] }, false},
		{"no such listener", ref(gn, "Gateway", "gw", "z"), func(pt *PolicyTarget) bool { return pt.Gateway == gw && pt.Listener == nil }, true},
		{"no such gateway", ref(gn, "Gateway", "nope", ""), func(pt *PolicyTarget) bool { return pt.Gateway == nil }, true},
		{"listenerset", ref(gn, "ListenerSet", "ls", ""), func(pt *PolicyTarget) bool { return pt.ListenerSet == ls }, false},
		{"listenerset listener", ref(gn, "ListenerSet", "ls", "c"), func(pt *PolicyTarget) bool { return pt.ListenerSet == ls && pt.Listener == ls.Listeners[0] }, false},
		{"listenerset no listener", ref(gn, "ListenerSet", "ls", "a"), func(pt *PolicyTarget) bool { return pt.Listener == nil }, true},
		{"route", ref(gn, "HTTPRoute", "r", ""), func(pt *PolicyTarget) bool { return pt.Route == r && pt.Rule == "" }, false},
		{"named rule", ref(gn, "HTTPRoute", "r", "named"), func(pt *PolicyTarget) bool { return pt.Route == r && pt.Rule == "named" }, false},
		{"no such rule", ref(gn, "HTTPRoute", "r", "other"), func(pt *PolicyTarget) bool { return pt.Route == r }, true},
		{"route of another group", ref("example.com", "HTTPRoute", "r", ""), func(pt *PolicyTarget) bool { return pt.Unsupported }, false},
		{"service", ref("", "Service", "svc", ""), func(pt *PolicyTarget) bool { return pt.Service != nil && pt.Port == "" }, false},
		{"service port", ref("", "Service", "svc", "http"), func(pt *PolicyTarget) bool { return pt.Service != nil && pt.Port == "http" }, false},
		{"no such port", ref("", "Service", "svc", "grpc"), func(pt *PolicyTarget) bool { return pt.Service != nil }, true},
		{"no such service", ref("", "Service", "gone", ""), func(pt *PolicyTarget) bool { return pt.Service == nil }, true},
		{"unsupported kind", ref("", "ConfigMap", "x", ""), func(pt *PolicyTarget) bool { return pt.Unsupported && pt.NotFound == nil }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testPolicy("infra", "p", 0, c.ref)
			attachPolicies(sc, allTargets, []*AttachedPolicy{p})
			pt := p.Targets[0]
			if !c.check(pt) {
				t.Errorf("target %+v did not resolve as expected", c.ref)
			}
			if got := pt.NotFound != nil; got != c.notFound {
				t.Errorf("NotFound = %v (%v), want %v", got, pt.NotFound, c.notFound)
			}
			if pt.NotFound != nil && pt.NotFound.Reason != string(gwv1.PolicyReasonTargetNotFound) {
				t.Errorf("NotFound reason %q, want TargetNotFound", pt.NotFound.Reason)
			}
		})
	}
	// A policy in another namespace reaches nothing of infra: targetRefs are local.
	p := testPolicy("other", "p", 0, ref(gn, "Gateway", "gw", ""))
	attachPolicies(sc, allTargets, []*AttachedPolicy{p})
	if p.Targets[0].Gateway != nil || p.Targets[0].NotFound == nil {
		t.Errorf("a targetRef from namespace other reached infra/gw")
	}
}

func TestPolicyConflictsOldestThenName(t *testing.T) {
	_, sc := policyGraph(t)
	gwRef := ref(gwv1.GroupName, "Gateway", "gw", "")
	listenerRef := ref(gwv1.GroupName, "Gateway", "gw", "a")
	young := testPolicy("infra", "a-young", 2*time.Second, gwRef)
	oldB := testPolicy("infra", "b-old", 0, gwRef, listenerRef)
	oldA := testPolicy("infra", "a-old", 0, listenerRef, listenerRef)
	// Callers pass policies oldest first, then by namespace/name.
	ps := []*AttachedPolicy{oldA, oldB, young}
	attachPolicies(sc, allTargets, ps)
	if oldB.Targets[0].LostTo != nil {
		t.Errorf("b-old lost the Gateway to %s; it is the oldest holding it", oldB.Targets[0].LostTo.NamespacedName())
	}
	if oldB.Targets[1].LostTo != oldA {
		t.Errorf("b-old on listener a: LostTo = %v, want a-old (same age, name first)", oldB.Targets[1].LostTo)
	}
	if young.Targets[0].LostTo != oldB {
		t.Errorf("a-young on the Gateway: LostTo = %v, want b-old (older)", young.Targets[0].LostTo)
	}
	if oldA.Targets[1].LostTo != nil {
		t.Errorf("the same targetRef twice in one policy is a conflict with itself")
	}
	// The Gateway and its listener are different targets: no conflict between them.
	if oldA.Targets[0].LostTo != nil {
		t.Errorf("a-old lost listener a")
	}
}

func TestPolicyAncestorAccepted(t *testing.T) {
	g, sc := policyGraph(t)
	gw := g.Gateways[0]
	other := &Gateway{Object: &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "first"}}}
	holder := testPolicy("infra", "holder", 0, ref("", "Service", "svc", ""))
	p := testPolicy("infra", "p", time.Second, ref("", "Service", "svc", ""), ref("", "Service", "svc", "grpc"), ref("", "Service", "svc", "http"))
	attachPolicies(sc, allTargets, []*AttachedPolicy{holder, p})

	p.addAncestor(gw, p.Targets[2]) // fine
	p.addAncestor(other, p.Targets[1])
	if got := reason([]metav1.Condition{p.Ancestors[0].Accepted}, "Accepted"); got != "True/Accepted" {
		t.Errorf("gw: Accepted %s, want True/Accepted", got)
	}
	if got := reason([]metav1.Condition{p.Ancestors[1].Accepted}, "Accepted"); got != "False/TargetNotFound" {
		t.Errorf("other: Accepted %s, want False/TargetNotFound", got)
	}
	// A conflict on another target of the same ancestor replaces True...
	p.addAncestor(gw, p.Targets[0])
	if got := reason([]metav1.Condition{p.Ancestors[0].Accepted}, "Accepted"); got != "False/Conflicted" {
		t.Errorf("gw after conflict: Accepted %s, want False/Conflicted", got)
	}
	// ...but the first problem of an ancestor is the one reported.
	p.addAncestor(other, p.Targets[0])
	if got := reason([]metav1.Condition{p.Ancestors[1].Accepted}, "Accepted"); got != "False/TargetNotFound" {
		t.Errorf("other after conflict: Accepted %s, want False/TargetNotFound (first problem)", got)
	}
	p.sortAncestors()
	if p.Ancestors[0].Gateway != other {
		t.Errorf("ancestors not sorted by namespace/name")
	}
	// The policy's own problem comes before TargetNotFound, after Conflicted.
	q := testPolicy("infra", "q", time.Second, ref("", "Service", "svc", "grpc"))
	attachPolicies(sc, allTargets, []*AttachedPolicy{q})
	q.Problem = &metav1.Condition{Type: "Accepted", Status: metav1.ConditionFalse, Reason: "Invalid"}
	q.addAncestor(gw, q.Targets[0])
	if got := q.Ancestors[0].Accepted.Reason; got != "Invalid" {
		t.Errorf("q: Accepted reason %s, want Invalid", got)
	}
}

func TestPolicyChainAppliedAt(t *testing.T) {
	g, sc := policyGraph(t)
	gw, ls, r := g.Gateways[0], g.ListenerSets[0], g.Routes[0]
	const gn = gwv1.GroupName
	onGW := testPolicy("infra", "gw", 0, ref(gn, "Gateway", "gw", ""))
	onLS := testPolicy("infra", "ls", 0, ref(gn, "ListenerSet", "ls", ""))
	onC := testPolicy("infra", "c", 0, ref(gn, "ListenerSet", "ls", "c"))
	onRoute := testPolicy("infra", "route", 0, ref(gn, "HTTPRoute", "r", ""))
	onRule := testPolicy("infra", "rule", 0, ref(gn, "HTTPRoute", "r", "named"))
	loser := testPolicy("infra", "z-loser", 0, ref(gn, "Gateway", "gw", ""))
	ps := []*AttachedPolicy{onC, onGW, onLS, onRoute, onRule, loser}
	attachPolicies(sc, allTargets, ps)

	chain := PolicyChain{Gateway: gw, ListenerSet: ls, Listener: ls.Listeners[0], Route: r, Rule: "named"}
	got := chain.AppliedAt(ps)
	want := []*AttachedPolicy{onGW, onLS, onC, onRoute, onRule}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("level %d: %v, want %s", i, got[i], want[i].Meta.Name)
		}
	}
	// An unnamed rule of the route, on a Gateway listener: the route's and the Gateway's policies are inherited.
	got = PolicyChain{Gateway: gw, Listener: gw.Listeners[0], Route: r}.AppliedAt(ps)
	if got[0] != onGW || got[1] != nil || got[2] != nil || got[3] != onRoute || got[4] != nil {
		t.Errorf("Gateway listener a, unnamed rule: got %v", got)
	}
}

type fields struct{ A, B, C *int }

func fill(have, from fields) fields {
	if have.A == nil {
		have.A = from.A
	}
	if have.B == nil {
		have.B = from.B
	}
	if have.C == nil {
		have.C = from.C
	}
	return have
}

func TestEffectivePolicy(t *testing.T) {
	n := func(i int) *int { return &i }
	f := func(a, b, c *int) *fields { return &fields{a, b, c} }
	cases := []struct {
		name    string
		levels  []PolicyLevel[fields] // Gateway, listener, route, rule
		want    fields
		wantSet bool
	}{
		{"nothing", make([]PolicyLevel[fields], 4), fields{}, false},
		{"one default is inherited", []PolicyLevel[fields]{{Defaults: f(n(1), nil, nil)}, {}, {}, {}}, fields{A: n(1)}, true},
		{"lower default wins", []PolicyLevel[fields]{{Defaults: f(n(1), n(1), nil)}, {}, {Defaults: f(n(3), nil, nil)}, {}}, fields{A: n(3), B: n(1)}, true},
		{"most specific default wins", []PolicyLevel[fields]{{Defaults: f(n(1), nil, nil)}, {Defaults: f(n(2), nil, nil)}, {Defaults: f(n(3), nil, nil)}, {Defaults: f(n(4), nil, nil)}}, fields{A: n(4)}, true},
		{"higher override wins", []PolicyLevel[fields]{{Overrides: f(n(1), nil, nil)}, {}, {Overrides: f(n(3), n(3), nil)}, {}}, fields{A: n(1), B: n(3)}, true},
		{"a rule default alone", []PolicyLevel[fields]{{}, {}, {}, {Defaults: f(n(4), n(4), n(4))}}, fields{A: n(4), B: n(4), C: n(4)}, true},
		{"override beats lower default", []PolicyLevel[fields]{{Overrides: f(n(1), nil, nil)}, {}, {}, {Defaults: f(n(4), n(4), nil)}}, fields{A: n(1), B: n(4)}, true},
		{"rule override, gateway default", []PolicyLevel[fields]{{Defaults: f(n(1), n(1), n(1))}, {}, {}, {Overrides: f(nil, n(4), nil)}}, fields{A: n(1), B: n(4), C: n(1)}, true},
		{"both at one level", []PolicyLevel[fields]{{}, {Defaults: f(n(2), n(2), nil), Overrides: f(nil, n(9), nil)}, {}, {}}, fields{A: n(2), B: n(9)}, true},
	}
	val := func(p *int) any {
		if p == nil {
			return nil
		}
		return *p
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := EffectivePolicy(c.levels, fill)
			if ok != c.wantSet {
				t.Errorf("ok = %v, want %v", ok, c.wantSet)
			}
			for i, pair := range [][2]*int{{got.A, c.want.A}, {got.B, c.want.B}, {got.C, c.want.C}} {
				if val(pair[0]) != val(pair[1]) {
					t.Errorf("field %d = %v, want %v", i, val(pair[0]), val(pair[1]))
				}
			}
		})
	}
}
