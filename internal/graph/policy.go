package graph

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/resource"
)

// Policy attachment (GEP-713), the part every policy kind shares: its
// targetRefs resolved against the graph, the conflict rule between
// policies of one kind, and the per-ancestor Accepted condition. A kind
// adds only its own validation and what it does to the objects it targets
// (backendtls.go is the first).

// MaxPolicyAncestors is the most entries PolicyStatus.ancestors may hold
// (the CRD's maxItems): entries of ours past it are not written.
const MaxPolicyAncestors = 16

// AttachedPolicy is one policy object of any kind, as attachment sees it.
type AttachedPolicy struct {
	// Kind is the policy's kind ("BackendTLSPolicy").
	Kind gwv1.Kind
	Meta *metav1.ObjectMeta
	// Targets are spec.targetRefs, resolved, in spec order.
	Targets []*PolicyTarget
	// Problem is the policy's own Accepted=False condition (Invalid, or a
	// kind's reason) when it cannot be used; nil when it can. The kind sets
	// it before ancestors are added.
	Problem *metav1.Condition
	// Ancestors are the objects the policy's status is reported for (the
	// Gateways it applies through), sorted by namespace and name.
	Ancestors []*PolicyAncestor
}

// NamespacedName returns the policy's key.
func (p *AttachedPolicy) NamespacedName() types.NamespacedName {
	return types.NamespacedName{Namespace: p.Meta.Namespace, Name: p.Meta.Name}
}

// PolicyAncestor is the status of a policy for one ancestor Gateway.
type PolicyAncestor struct {
	Gateway  *Gateway
	Accepted metav1.Condition
}

// PolicyTarget is one targetRef and what it reached. A targetRef is local:
// the target is in the policy's namespace. At most one of Gateway (alone,
// or with Listener), ListenerSet (alone or with Listener), Route (alone or
// with Rule) and Service (alone or with Port) is set.
type PolicyTarget struct {
	Index int
	Ref   gwv1.LocalPolicyTargetReferenceWithSectionName

	Gateway     *Gateway
	ListenerSet *ListenerSet
	// Listener is the listener a Gateway or ListenerSet sectionName names
	// (nil when that listener is not part of the graph, such as one of a
	// ListenerSet that is not attached).
	Listener *Listener
	Route    Route
	// Rule is the name of the route rule a route sectionName names.
	Rule    string
	Service *corev1.Service
	// Port is the name of the Service port a Service sectionName names.
	Port string

	// Unsupported is set when the policy's kind does not take a target of
	// this group and kind: the ref selects nothing and is never reported.
	Unsupported bool
	// NotFound is the TargetNotFound condition when the object, or the
	// section sectionName names, does not exist; nil when it does.
	NotFound *metav1.Condition
	// LostTo is the older policy of the same kind that holds the same
	// target and sectionName; nil when this policy holds it.
	LostTo *AttachedPolicy
}

// Section is the targetRef's sectionName ("" when unset).
func (t *PolicyTarget) Section() string { return sectionName(t.Ref.SectionName) }

// policyScope is what targetRefs resolve against.
type policyScope struct {
	ix       *resource.Index
	gateways map[types.NamespacedName]*Gateway
	sets     map[types.NamespacedName]*ListenerSet
	routes   map[routeKey]Route
}

type routeKey struct {
	kind gwv1.Kind
	name types.NamespacedName
}

func newPolicyScope(ix *resource.Index, gws []*Gateway, sets []*ListenerSet, routes []Route) *policyScope {
	s := &policyScope{ix: ix, gateways: map[types.NamespacedName]*Gateway{},
		sets: map[types.NamespacedName]*ListenerSet{}, routes: map[routeKey]Route{}}
	for _, gw := range gws {
		s.gateways[gw.NamespacedName()] = gw
	}
	for _, ls := range sets {
		s.sets[ls.NamespacedName()] = ls
	}
	for _, r := range routes {
		c := r.Core()
		s.routes[routeKey{c.Kind, c.NamespacedName()}] = r
	}
	return s
}

// policyTargetKind is a group and kind a policy may target.
type policyTargetKind struct{ group, kind string }

var (
	targetGateway     = policyTargetKind{gwv1.GroupName, "Gateway"}
	targetListenerSet = policyTargetKind{gwv1.GroupName, "ListenerSet"}
	targetService     = policyTargetKind{"", "Service"}
)

// attachPolicies resolves the targetRefs of policies of one kind, given
// oldest first (then "namespace/name"), and settles conflicts: of the
// policies selecting the same target and sectionName the first wins, on
// age alone (a policy is not skipped for being invalid: the owner fixes or
// removes it), and the others get LostTo. takes lists the target kinds
// the policy kind accepts; a route kind is named by its kind in the
// gateway.networking.k8s.io group.
func attachPolicies(sc *policyScope, takes []policyTargetKind, policies []*AttachedPolicy) {
	type key struct {
		group, kind, namespace, name, section string
	}
	held := map[key]*AttachedPolicy{}
	for _, p := range policies {
		for _, t := range p.Targets {
			t.Unsupported = !slices.Contains(takes, policyTargetKind{string(t.Ref.Group), string(t.Ref.Kind)})
			if t.Unsupported {
				continue
			}
			sc.resolve(p.Meta.Namespace, t)
			k := key{string(t.Ref.Group), string(t.Ref.Kind), p.Meta.Namespace, string(t.Ref.Name), t.Section()}
			switch w := held[k]; {
			case w == nil:
				held[k] = p
			case w != p: // the same ref twice in one policy is no conflict
				t.LostTo = w
			}
		}
	}
}

// resolve finds what t names in namespace ns, or sets NotFound.
func (sc *policyScope) resolve(ns string, t *PolicyTarget) {
	nn := types.NamespacedName{Namespace: ns, Name: string(t.Ref.Name)}
	sec := t.Section()
	what := fmt.Sprintf("spec.targetRefs[%d]: %s %s", t.Index, qualifiedKind(string(t.Ref.Group), string(t.Ref.Kind)), nn)
	notFound := func(format string, a ...any) {
		c := conditions.PolicyTargetNotFound(fmt.Sprintf(format, a...))
		t.NotFound = &c
	}
	gk := policyTargetKind{string(t.Ref.Group), string(t.Ref.Kind)}
	switch {
	case gk == targetService:
		svc := sc.ix.Services[nn]
		if t.Service = svc; svc == nil {
			notFound("%s does not exist", what)
		} else if t.Port = sec; sec != "" && !hasPortNamed(svc, sec) {
			notFound("spec.targetRefs[%d].sectionName: Service %s has no port named %q", t.Index, nn, sec)
		}
	case gk == targetGateway:
		gw := sc.gateways[nn]
		if t.Gateway = gw; gw == nil {
			notFound("%s is not a Gateway of ours", what)
		} else if sec != "" {
			if t.Listener = listenerNamed(gw.Listeners, sec); t.Listener == nil {
				notFound("spec.targetRefs[%d].sectionName: Gateway %s has no listener named %q", t.Index, nn, sec)
			}
		}
	case gk == targetListenerSet:
		ls := sc.sets[nn]
		if t.ListenerSet = ls; ls == nil {
			notFound("%s is not a ListenerSet of a Gateway of ours", what)
		} else if sec != "" {
			t.Listener = listenerNamed(ls.Listeners, sec)
			if !slices.ContainsFunc(ls.Object.Spec.Listeners, func(l gwv1.ListenerEntry) bool { return string(l.Name) == sec }) {
				notFound("spec.targetRefs[%d].sectionName: ListenerSet %s has no listener named %q", t.Index, nn, sec)
			}
		}
	default: // a route kind
		r := sc.routes[routeKey{t.Ref.Kind, nn}]
		if t.Route = r; r == nil || gk.group != gwv1.GroupName {
			t.Route = nil
			notFound("%s is not a route of ours", what)
		} else if t.Rule = sec; sec != "" && !routeHasRule(r, sec) {
			notFound("spec.targetRefs[%d].sectionName: %s %s has no rule named %q", t.Index, t.Ref.Kind, nn, sec)
		}
	}
}

func listenerNamed(ls []*Listener, name string) *Listener {
	for _, l := range ls {
		if string(l.Spec.Name) == name {
			return l
		}
	}
	return nil
}

// namedRules is implemented by route kinds whose rules have names (a
// route sectionName names a rule).
type namedRules interface {
	hasRule(name string) bool
}

func routeHasRule(r Route, name string) bool {
	nr, ok := r.(namedRules)
	return ok && nr.hasRule(name)
}

func hasPortNamed(svc *corev1.Service, name string) bool {
	if svc == nil {
		return false
	}
	return slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == name })
}

func sectionName(s *gwv1.SectionName) string {
	if s == nil {
		return ""
	}
	return string(*s)
}

// newAttachedPolicy is the attachment view of a policy object.
func newAttachedPolicy(kind gwv1.Kind, meta *metav1.ObjectMeta, refs []gwv1.LocalPolicyTargetReferenceWithSectionName) *AttachedPolicy {
	p := &AttachedPolicy{Kind: kind, Meta: meta}
	for i, r := range refs {
		p.Targets = append(p.Targets, &PolicyTarget{Index: i, Ref: r})
	}
	return p
}

// addAncestor records gw as an ancestor the policy applies through by
// target t, and works out Accepted there. The first problem found for a
// Gateway is the one reported; per target: a conflict first (the policy is
// not in effect there, whatever it says), then the policy's own problem,
// then a target or section that does not exist.
func (p *AttachedPolicy) addAncestor(gw *Gateway, t *PolicyTarget) {
	i := slices.IndexFunc(p.Ancestors, func(a *PolicyAncestor) bool { return a.Gateway == gw })
	if i < 0 {
		i = len(p.Ancestors)
		p.Ancestors = append(p.Ancestors, &PolicyAncestor{Gateway: gw, Accepted: conditions.PolicyAccepted()})
	}
	a := p.Ancestors[i]
	if a.Accepted.Status != metav1.ConditionTrue {
		return
	}
	switch {
	case t.LostTo != nil:
		a.Accepted = conditions.PolicyConflicted(fmt.Sprintf(
			"spec.targetRefs[%d]: %s %s/%s%s is already targeted by the older %s %s, which takes precedence",
			t.Index, qualifiedKind(string(t.Ref.Group), string(t.Ref.Kind)), p.Meta.Namespace, t.Ref.Name,
			sectionSuffix(t), t.LostTo.Kind, t.LostTo.NamespacedName()))
	case p.Problem != nil:
		a.Accepted = *p.Problem
	case t.NotFound != nil:
		a.Accepted = *t.NotFound
	}
}

// sectionSuffix names the section of a target in a message.
func sectionSuffix(t *PolicyTarget) string {
	sec := t.Section()
	switch {
	case sec == "":
		return ""
	case t.Ref.Group == "" && t.Ref.Kind == "Service":
		return " port " + sec
	case t.Ref.Kind == "Gateway" || t.Ref.Kind == "ListenerSet":
		return " listener " + sec
	}
	return " rule " + sec
}

// sortAncestors orders the ancestors by namespace and name.
func (p *AttachedPolicy) sortAncestors() {
	slices.SortFunc(p.Ancestors, func(a, b *PolicyAncestor) int {
		return cmp.Or(cmp.Compare(a.Gateway.Object.Namespace, b.Gateway.Object.Namespace),
			cmp.Compare(a.Gateway.Object.Name, b.Gateway.Object.Name))
	})
}

// attachedGateways are the Gateways route r is attached to (accepted by
// at least one listener), in parentRef order: the ancestors of a policy
// that applies to r or below it.
func attachedGateways(r Route) []*Gateway {
	var gws []*Gateway
	for _, p := range r.Core().Parents {
		if p.Gateway != nil && p.Attached() && !slices.Contains(gws, p.Gateway) {
			gws = append(gws, p.Gateway)
		}
	}
	return gws
}
