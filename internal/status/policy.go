package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/resource"
)

// backendTLSPolicy projects a BackendTLSPolicy: its ancestors with
// Accepted and ResolvedRefs.
func (p *projector) backendTLSPolicy(bp *graph.BackendTLSPolicy) (Object, bool) {
	return p.policy(bp.AttachedPolicy, bp.ResolvedRefs)
}

// policy projects a policy of any kind (GEP-713 PolicyStatus): one
// ancestor entry per Gateway of ours it applies through, with Accepted and
// the kind's own conditions (extra, the same for every ancestor). Entries
// of other controllers stay as they are and where they are; ours past
// graph.MaxPolicyAncestors entries in all are not written (the CRD forbids
// more). ok is false when the policy concerns none of our Gateways and had
// no entry of ours: there is nothing to write.
func (p *projector) policy(ap *graph.AttachedPolicy, extra ...metav1.Condition) (Object, bool) {
	kind, o := string(ap.Kind), ap.Meta
	var prev []gwv1.PolicyAncestorStatus
	if ps := previous[gwv1.PolicyStatus](p, kind, o.Namespace, o.Name); ps != nil {
		prev = ps.Ancestors
	}
	hadOurs := false
	for _, a := range prev {
		hadOurs = hadOurs || a.ControllerName == resource.ControllerName
	}
	if len(ap.Ancestors) == 0 && !hadOurs {
		return Object{}, false
	}

	ours := make([]gwv1.PolicyAncestorStatus, len(ap.Ancestors))
	for i, a := range ap.Ancestors {
		ref := gatewayAncestorRef(a.Gateway)
		var prevConds []metav1.Condition
		for _, pa := range prev {
			if pa.ControllerName == resource.ControllerName && sameParentRef(pa.AncestorRef, ref) {
				prevConds = pa.Conditions
			}
		}
		conds := append([]metav1.Condition{a.Accepted}, extra...)
		ours[i] = gwv1.PolicyAncestorStatus{
			AncestorRef:    ref,
			ControllerName: resource.ControllerName,
			Conditions:     mergeConditions(prevConds, conds, routeTypes, o.Generation, p.now),
		}
	}
	// Keep the order of the live list: other controllers' entries untouched,
	// ours updated in place or dropped, new ones of ours at the end.
	st := &gwv1.PolicyStatus{Ancestors: []gwv1.PolicyAncestorStatus{}}
	used := make([]bool, len(ours))
	for _, pa := range prev {
		if pa.ControllerName != resource.ControllerName {
			st.Ancestors = append(st.Ancestors, pa)
			continue
		}
		for i := range ours {
			if !used[i] && sameParentRef(pa.AncestorRef, ours[i].AncestorRef) {
				st.Ancestors = append(st.Ancestors, ours[i])
				used[i] = true
			}
		}
	}
	for i := range ours {
		if !used[i] && len(st.Ancestors) < graph.MaxPolicyAncestors {
			st.Ancestors = append(st.Ancestors, ours[i])
		}
	}
	return Object{APIVersion: gwv1.GroupVersion.String(), Kind: kind,
		Metadata: Metadata{Namespace: o.Namespace, Name: o.Name, Generation: o.Generation}, Status: st}, true
}

func gatewayAncestorRef(gw *graph.Gateway) gwv1.ParentReference {
	group := gwv1.Group(gwv1.GroupName)
	kind := gwv1.Kind("Gateway")
	ns := gwv1.Namespace(gw.Object.Namespace)
	return gwv1.ParentReference{Group: &group, Kind: &kind, Namespace: &ns, Name: gwv1.ObjectName(gw.Object.Name)}
}
