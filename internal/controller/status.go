package controller

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/features"
	"portico.dev/portico/internal/provider/kubernetes"
	"portico.dev/portico/internal/resource"
	"portico.dev/portico/internal/status"
)

// What the controller adds to status.Project's projection before the
// provider writes it.

// decorate adds to a projection what the status package does not decide:
// the supported features of our GatewayClasses.
func decorate(objs []status.Object) []status.Object {
	for _, o := range objs {
		if st, ok := o.Status.(*gwv1.GatewayClassStatus); ok {
			st.SupportedFeatures = features.SupportedFeatures()
		}
	}
	return objs
}

// staleRouteStatuses returns, for every HTTPRoute that the projection does
// not cover but whose status still has route parent entries of ours (it no
// longer references a Gateway of ours), its status without them.
func staleRouteStatuses(s *resource.Snapshot, projected []status.Object) []status.Object {
	covered := map[status.Key]bool{}
	for _, o := range projected {
		covered[o.Key()] = true
	}
	var out []status.Object
	for _, r := range s.HTTPRoutes {
		so, _ := kubernetes.StatusOf(r)
		if covered[so.Key()] {
			continue
		}
		if st, ok := withoutOurParents(&r.Status); ok {
			so.Status = st
			out = append(out, so)
		}
	}
	return out
}

// withoutOurParents returns st without the route parent entries of ours;
// ok is false when it has none.
func withoutOurParents(st *gwv1.HTTPRouteStatus) (*gwv1.HTTPRouteStatus, bool) {
	out := &gwv1.HTTPRouteStatus{}
	for _, p := range st.Parents {
		if p.ControllerName != resource.ControllerName {
			out.Parents = append(out.Parents, p)
		}
	}
	return out, len(out.Parents) != len(st.Parents)
}
