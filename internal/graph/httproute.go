package graph

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/resource"
)

// HTTPRoute is an HTTPRoute with at least one parentRef we answer for: the
// kind-independent RouteCore, and its own rules and backends (rule.go).
type HTTPRoute struct {
	*RouteCore
	Object *gwv1.HTTPRoute
	Rules  []*Rule
	// Backends are the resolved backendRefs and mirror refs, keyed by the
	// reference inside Object.
	Backends map[*gwv1.BackendObjectReference]*Backend
}

// httpRoutes is the routes of the HTTPRoute kind (routeKinds).
func httpRoutes(s *resource.Snapshot) []Route {
	var out []Route
	for _, obj := range sortedBy(s.HTTPRoutes, func(r *gwv1.HTTPRoute) *metav1.ObjectMeta { return &r.ObjectMeta }) {
		out = append(out, &HTTPRoute{Object: obj, RouteCore: &RouteCore{
			Kind: "HTTPRoute", Meta: &obj.ObjectMeta, ParentRefs: obj.Spec.ParentRefs, Hostnames: obj.Spec.Hostnames,
		}})
	}
	return out
}

// hasRule reports whether a rule of the route is named name (a policy
// sectionName on an HTTPRoute names a rule: namedRules).
func (r *HTTPRoute) hasRule(name string) bool {
	for i := range r.Object.Spec.Rules {
		if n := r.Object.Spec.Rules[i].Name; n != nil && string(*n) == name {
			return true
		}
	}
	return false
}
