package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/resource"
)

// routeStatusKind is how one route kind's status object holds the
// kind-independent gwv1.RouteStatus.
type routeStatusKind struct {
	// wrap makes the kind's status object from its RouteStatus.
	wrap func(gwv1.RouteStatus) any
	// unwrap returns the RouteStatus of a status object of the kind.
	unwrap func(any) *gwv1.RouteStatus
}

// routeStatusKinds has an entry per route kind the graph binds.
var routeStatusKinds = map[gwv1.Kind]routeStatusKind{
	"HTTPRoute": {
		wrap:   func(rs gwv1.RouteStatus) any { return &gwv1.HTTPRouteStatus{RouteStatus: rs} },
		unwrap: func(st any) *gwv1.RouteStatus { return &st.(*gwv1.HTTPRouteStatus).RouteStatus },
	},
}

// route projects the status of a route of any kind: one parent entry of
// ours per parentRef we answer for, other controllers' entries kept. ok is
// false for a kind without an entry in routeStatusKinds.
func (p *projector) route(r graph.Route) (Object, bool) {
	c := r.Core()
	k, ok := routeStatusKinds[c.Kind]
	if !ok {
		return Object{}, false
	}
	o := c.Meta
	var prev *gwv1.RouteStatus
	if po, ok := p.prev[Key{string(c.Kind), o.Namespace, o.Name}]; ok {
		prev = k.unwrap(po.Status)
	}
	st := gwv1.RouteStatus{}
	if prev != nil {
		for _, pp := range prev.Parents {
			if pp.ControllerName != resource.ControllerName {
				st.Parents = append(st.Parents, pp) // another controller's entry
			}
		}
	}
	partial := r.PartiallyInvalid()
	for _, parent := range c.Parents {
		conds := []metav1.Condition{parent.Accepted, c.ResolvedRefs}
		if partial != nil && parent.Attached() {
			conds = append(conds, *partial)
		}
		var prevConds []metav1.Condition
		if prev != nil {
			for _, pp := range prev.Parents {
				if sameParentRef(pp.ParentRef, parent.Ref) && pp.ControllerName == resource.ControllerName {
					prevConds = pp.Conditions
				}
			}
		}
		st.Parents = append(st.Parents, gwv1.RouteParentStatus{
			ParentRef:      parent.Ref,
			ControllerName: resource.ControllerName,
			Conditions:     mergeConditions(prevConds, conds, routeTypes, o.Generation, p.now),
		})
	}
	return Object{APIVersion: gwv1.GroupVersion.String(), Kind: string(c.Kind),
		Metadata: Metadata{Namespace: o.Namespace, Name: o.Name, Generation: o.Generation}, Status: k.wrap(st)}, true
}
