package graph

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/resource"
)

// ListenerSet is a ListenerSet whose spec.parentRef names a Gateway of ours.
type ListenerSet struct {
	Object *gwv1.ListenerSet
	// Gateway is the parent. It is nil only in standalone mode, when the
	// parentRef names a Gateway that does not exist.
	Gateway *Gateway
	// Conditions holds Accepted; status adds Programmed.
	Conditions []metav1.Condition
	// Listeners are the ListenerSet's listeners once it is attached (the
	// Gateway is accepted and allows it); nil otherwise.
	Listeners []*Listener
}

// NamespacedName returns the ListenerSet's key.
func (ls *ListenerSet) NamespacedName() types.NamespacedName {
	return types.NamespacedName{Namespace: ls.Object.Namespace, Name: ls.Object.Name}
}

// Accepted reports whether the ListenerSet is attached to its Gateway and
// has at least one valid listener: its valid listeners are served.
func (ls *ListenerSet) Accepted() bool {
	return conditionTrue(ls.Conditions, string(gwv1.ListenerSetConditionAccepted))
}

// onlyListenersInvalid reports whether the ListenerSet is rejected only
// because none of its listeners is valid (it is attached otherwise).
func (ls *ListenerSet) onlyListenersInvalid() bool {
	c := meta.FindStatusCondition(ls.Conditions, string(gwv1.ListenerSetConditionAccepted))
	return c != nil && c.Reason == string(gwv1.ListenerSetReasonListenersNotValid)
}

// buildListenerSets finds the ListenerSets whose parent is a Gateway of
// ours, attaches those the Gateway allows, and merges their listeners into
// the Gateway's (Gateway.ListenerSets) with the Gateway API precedence and
// conflict rules (mergeListeners). It returns every such ListenerSet, in
// precedence order (oldest first, then by "namespace/name").
func buildListenerSets(s *resource.Snapshot, ix *resource.Index, gws []*Gateway, warnings *[]string) []*ListenerSet {
	gateways := indexParents(s, gws, s.Gateways)
	var out []*ListenerSet
	attached := map[*Gateway][]*ListenerSet{}
	for _, obj := range sortedBy(s.ListenerSets, func(ls *gwv1.ListenerSet) *metav1.ObjectMeta { return &ls.ObjectMeta }) {
		ref := obj.Spec.ParentRef
		if (ref.Group != nil && *ref.Group != gwv1.GroupName) || (ref.Kind != nil && *ref.Kind != "Gateway") {
			if s.Standalone {
				*warnings = append(*warnings, fmt.Sprintf(
					"ListenerSet %s/%s: spec.parentRef must name a gateway.networking.k8s.io Gateway; the ListenerSet is ignored",
					obj.Namespace, obj.Name))
			}
			continue
		}
		key := types.NamespacedName{Namespace: refNamespace(obj.Namespace, ref.Namespace), Name: string(ref.Name)}
		gw, ours := gateways.find(key)
		if !ours {
			continue
		}
		ls := &ListenerSet{Object: obj, Gateway: gw}
		out = append(out, ls)
		switch {
		case gw == nil:
			ls.Conditions = append(ls.Conditions, conditions.ListenerSetParentNotAccepted(fmt.Sprintf(
				"spec.parentRef: Gateway %s does not exist; check spec.parentRef", key)))
		case !allowsListenerSet(gw.Object, obj.Namespace, ix):
			ls.Conditions = append(ls.Conditions, conditions.ListenerSetNotAllowed(fmt.Sprintf(
				"Gateway %s does not allow ListenerSets from namespace %s; its spec.allowedListeners must admit them", key, obj.Namespace)))
		case !gw.Accepted():
			ls.Conditions = append(ls.Conditions, conditions.ListenerSetParentNotAccepted(fmt.Sprintf(
				"Gateway %s is not accepted; see its conditions", key)))
		default:
			for i := range obj.Spec.Listeners {
				// ListenerEntry is a Listener by another name: same fields.
				spec := (*gwv1.Listener)(&obj.Spec.Listeners[i])
				ls.Listeners = append(ls.Listeners, buildListener(gw, ls, spec, ix))
			}
			attached[gw] = append(attached[gw], ls)
		}
	}
	for _, gw := range gws {
		mergeListeners(gw, attached[gw])
	}
	return out
}

// allowsListenerSet applies a Gateway's spec.allowedListeners to a
// ListenerSet in namespace ns. Unset means None: no ListenerSets.
func allowsListenerSet(gw *gwv1.Gateway, ns string, ix *resource.Index) bool {
	al := gw.Spec.AllowedListeners
	if al == nil || al.Namespaces == nil || al.Namespaces.From == nil {
		return false
	}
	switch *al.Namespaces.From {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return ns == gw.Namespace
	case gwv1.NamespacesFromSelector:
		if al.Namespaces.Selector == nil {
			return false
		}
		sel, err := metav1.LabelSelectorAsSelector(al.Namespaces.Selector)
		if err != nil {
			return false
		}
		return sel.Matches(labels.Set(ix.NamespaceLabels(ns)))
	}
	return false
}

// mergeListeners merges the listeners of the ListenerSets attached to gw
// (sets, in precedence order) into the Gateway's, as the Gateway API
// orders them: the Gateway's own listeners first, then each ListenerSet's,
// oldest first, then by "namespace/name".
//
// A listener that is not distinct (listenerConflict) from one of higher
// precedence in another resource loses: it gets Accepted=False and Conflicted=True with reason
// ProtocolConflict or HostnameConflict, and the earlier one keeps serving.
// Within one resource no listener wins: markConflicts marks all of an
// indistinct group Conflicted, as for a single Gateway. The Gateway's own
// listeners and conditions are never changed by its ListenerSets.
//
// A ListenerSet with at least one valid listener is accepted and becomes
// one of gw.ListenerSets; the listeners of one that is not do not claim
// anything.
func mergeListeners(gw *Gateway, sets []*ListenerSet) {
	claims := &portClaims{}
	for _, l := range gw.Listeners {
		claims.add(l)
	}
	for _, ls := range sets {
		for _, l := range ls.Listeners {
			claims.check(l)
		}
		markConflicts(ls.Listeners)
		ls.Conditions = []metav1.Condition{acceptedListenerSet(ls.Listeners)}
		if !ls.Accepted() {
			continue
		}
		gw.ListenerSets = append(gw.ListenerSets, ls)
		for _, l := range ls.Listeners {
			claims.add(l)
		}
	}
}

// portClaims are the listeners of higher precedence, in precedence order.
type portClaims struct {
	keys      []listenerKey
	listeners []*Listener
}

// add makes an accepted listener claim its port, protocol and hostname.
// (A Conflicted one claims them too: it is not served, but neither may a
// later resource take its place.)
func (c *portClaims) add(l *Listener) {
	if meta.IsStatusConditionTrue(l.Conditions, string(gwv1.ListenerConditionAccepted)) {
		c.keys = append(c.keys, keyOf(l.Spec))
		c.listeners = append(c.listeners, l)
	}
}

// check marks l as conflicted when it is not distinct (listenerConflict)
// from a listener of higher precedence. A listener Portico cannot serve
// anyway (say, UnsupportedProtocol) reports the conflict rather than that:
// the conflict is what the user must fix first, whatever the protocol.
func (c *portClaims) check(l *Listener) {
	k := keyOf(l.Spec)
	i, why := firstConflict(c.keys, k)
	if why == noConflict {
		return
	}
	other := c.listeners[i]
	if why == protocolConflict {
		setConditions(l, conditions.ListenerEntryProtocolConflict(fmt.Sprintf(
			"port %s is already used with protocol %s by %s; use another port",
			k.portLabel(), other.Spec.Protocol, describeOwner(other, l))))
		return
	}
	host := "no hostname"
	if h := l.Hostname(); h != "" {
		host = fmt.Sprintf("hostname %q", h)
	}
	setConditions(l, conditions.ListenerEntryHostnameConflict(fmt.Sprintf(
		"%s on port %d is already served by %s; use a distinct hostname or port",
		host, l.Spec.Port, describeOwner(other, l))))
}

// describeOwner names whose listener other is, as far as the owner of l
// may know: the parent Gateway by name, another ListenerSet only as such
// (it may belong to someone else).
func describeOwner(other, l *Listener) string {
	switch {
	case other.ListenerSet == nil:
		return fmt.Sprintf("listener %s of the parent Gateway %s", other.Spec.Name, other.Gateway.NamespacedName())
	case other.ListenerSet == l.ListenerSet:
		return fmt.Sprintf("listener %s of this ListenerSet", other.Spec.Name)
	}
	return "a listener of another ListenerSet of the same Gateway that takes precedence (older, or as old and first by namespace/name)"
}

func setConditions(l *Listener, cs []metav1.Condition) {
	for _, c := range cs {
		meta.SetStatusCondition(&l.Conditions, c)
	}
}

// reaccept sets Accepted again after a change to the listeners or to the
// Gateway's acceptance (port sharing across Gateways, in standalone mode).
func (ls *ListenerSet) reaccept() {
	if !ls.Gateway.Accepted() {
		ls.Conditions = []metav1.Condition{conditions.ListenerSetParentNotAccepted(fmt.Sprintf(
			"Gateway %s is not accepted; see its conditions", ls.Gateway.NamespacedName()))}
		return
	}
	ls.Conditions = []metav1.Condition{acceptedListenerSet(ls.Listeners)}
}

// acceptedListenerSet is Accepted=True when every listener can be served,
// Accepted=True/ListenersNotValid when some can, and False when none can.
// A listener can be served when it is valid and, for HTTPS, has a usable
// certificate (a ResolvedRefs problem that leaves it none, such as a
// certificateRef without the ReferenceGrant it needs, makes it invalid).
func acceptedListenerSet(ls []*Listener) metav1.Condition {
	var bad []string
	for _, l := range ls {
		if !l.Valid() || (l.Spec.Protocol == gwv1.HTTPSProtocolType && len(l.Certificates) == 0) {
			bad = append(bad, string(l.Spec.Name))
		}
	}
	switch {
	case len(bad) == 0:
		return conditions.ListenerSetAccepted()
	case len(bad) < len(ls):
		return conditions.ListenerSetSomeListenersInvalid(fmt.Sprintf(
			"listeners %s are not valid (see their conditions); the others are served", strings.Join(bad, ", ")))
	default:
		return conditions.ListenerSetListenersNotValid("no listener is valid (see the listeners' conditions)")
	}
}

func isListenerSetRef(ref gwv1.ParentReference) bool {
	return (ref.Group == nil || *ref.Group == gwv1.GroupName) && ref.Kind != nil && *ref.Kind == "ListenerSet"
}

// listenerSetParents returns the lookup of a route's ListenerSet parentRef
// (from a route in namespace ns): the Parent to bind, or nil when the
// ListenerSet is not ours to answer for (its parent is another
// controller's, or, in a cluster, it does not exist).
func listenerSetParents(s *resource.Snapshot, sets []*ListenerSet) func(ref gwv1.ParentReference, ns string) *Parent {
	listenerSets := indexParents(s, sets, s.ListenerSets)
	return func(ref gwv1.ParentReference, ns string) *Parent {
		ls, ours := listenerSets.find(types.NamespacedName{Namespace: refNamespace(ns, ref.Namespace), Name: string(ref.Name)})
		switch {
		case !ours:
			return nil
		case ls == nil:
			return &Parent{Ref: ref}
		}
		return &Parent{Ref: ref, ListenerSet: ls, Gateway: ls.Gateway}
	}
}
