package status

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/graph"
)

// listenerSet projects a ListenerSet: Accepted from the graph, Programmed
// from its listeners as the parent Gateway's proxies answered, and its
// listeners' status as a Gateway's listeners' (ListenerEntryStatus has the
// fields of ListenerStatus).
func (p *projector) listenerSet(ls *graph.ListenerSet) Object {
	o := ls.Object
	prev := previous[gwv1.ListenerSetStatus](p, "ListenerSet", o.Namespace, o.Name)
	// p.listener reads the previous listener conditions from a Gateway
	// status.
	prevListeners := &gwv1.GatewayStatus{}
	var prevConds []metav1.Condition
	if prev != nil {
		prevConds = prev.Conditions
		for _, pl := range prev.Listeners {
			prevListeners.Listeners = append(prevListeners.Listeners, gwv1.ListenerStatus(pl))
		}
	}
	p.ack = nil
	if ls.Gateway != nil {
		p.ack = p.dp.Ack(ls.Gateway)
	}
	st := &gwv1.ListenerSetStatus{}
	lsts, programmed, problems := p.listeners(ls.Listeners, prevListeners)
	for _, lst := range lsts {
		st.Listeners = append(st.Listeners, gwv1.ListenerEntryStatus(lst))
	}
	conds := append([]metav1.Condition(nil), ls.Conditions...)
	switch {
	case !ls.Accepted():
		conds = append(conds, conditions.ListenerSetNotProgrammedAsAccepted(
			*meta.FindStatusCondition(ls.Conditions, string(gwv1.ListenerSetConditionAccepted))))
	case p.ack == nil:
		conds = append(conds, conditions.ListenerSetProgrammedPending("waiting for the proxy to apply the configuration"))
	case p.ack.Error != "":
		conds = append(conds, conditions.ListenerSetNotProgrammed("the proxy refused the configuration: "+p.ack.Error))
	case programmed > 0:
		conds = append(conds, conditions.ListenerSetProgrammed())
	case len(problems) > 0:
		conds = append(conds, conditions.ListenerSetProgrammedPending(strings.Join(problems, "; ")))
	default:
		conds = append(conds, conditions.ListenerSetNotProgrammed("no listener can be programmed; see the listeners' conditions"))
	}
	st.Conditions = mergeConditions(prevConds, conds, listenerSetTypes, o.Generation, p.now)
	return Object{APIVersion: gwv1.GroupVersion.String(), Kind: "ListenerSet",
		Metadata: Metadata{Namespace: o.Namespace, Name: o.Name, Generation: o.Generation}, Status: st}
}

// attachedListenerSets is Gateway status.attachedListenerSets: the number
// of accepted ListenerSets attached. It is left out for a Gateway that does
// not allow ListenerSets and has none.
func attachedListenerSets(gw *graph.Gateway) *int32 {
	n := int32(0)
	for _, ls := range gw.ListenerSets {
		if ls.Accepted() {
			n++
		}
	}
	al := gw.Object.Spec.AllowedListeners
	allows := al != nil && al.Namespaces != nil && al.Namespaces.From != nil && *al.Namespaces.From != gwv1.NamespacesFromNone
	if n == 0 && !allows {
		return nil
	}
	return &n
}

// lostToPrecedence reports whether a ListenerSet listener was rejected for
// a conflict with a listener of higher precedence (Accepted=False and
// Conflicted=True).
func lostToPrecedence(l *graph.Listener) bool {
	return meta.IsStatusConditionFalse(l.Conditions, string(gwv1.ListenerConditionAccepted)) &&
		meta.IsStatusConditionTrue(l.Conditions, string(gwv1.ListenerConditionConflicted))
}

// listenerGeneration is the generation of the listener's own resource, which
// its conditions observe.
func listenerGeneration(l *graph.Listener) int64 {
	if l.ListenerSet != nil {
		return l.ListenerSet.Object.Generation
	}
	return l.Gateway.Object.Generation
}
