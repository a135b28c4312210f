package status

import (
	"cmp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Object is one object's status as the API server stores it.
type Object struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	// Status is a *gwv1.GatewayClassStatus, *gwv1.GatewayStatus,
	// *gwv1.ListenerSetStatus, the status of a route kind
	// (*gwv1.HTTPRouteStatus; see routeStatusKinds) or *gwv1.PolicyStatus
	// (BackendTLSPolicy).
	Status any `json:"status"`
}

// Metadata identifies the object and the generation the status is for.
type Metadata struct {
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	Generation int64  `json:"generation"`
}

// Key identifies an object across projections.
type Key struct{ Kind, Namespace, Name string }

// Key returns o's key.
func (o Object) Key() Key { return Key{o.Kind, o.Metadata.Namespace, o.Metadata.Name} }

func sortObjects(objs []Object) {
	order := map[string]int{"GatewayClass": 0, "Gateway": 1, "ListenerSet": 2, "BackendTLSPolicy": 10}
	rank := func(kind string) int {
		if _, route := routeStatusKinds[gwv1.Kind(kind)]; route {
			return 3 // every route kind, after the ListenerSets
		}
		return order[kind]
	}
	slices.SortFunc(objs, func(a, b Object) int {
		return cmp.Or(cmp.Compare(rank(a.Kind), rank(b.Kind)), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Metadata.Namespace, b.Metadata.Namespace), cmp.Compare(a.Metadata.Name, b.Metadata.Name))
	})
}

// mergeConditions returns next with ObservedGeneration set and each
// LastTransitionTime carried over from prev while the status is unchanged.
// Conditions of prev whose type is not in owned belong to someone else
// (another controller, a policy) and are kept first, untouched.
func mergeConditions(prev, next []metav1.Condition, owned []string, gen int64, now metav1.Time) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(prev)+len(next))
	for _, p := range prev {
		if !slices.Contains(owned, p.Type) && !slices.Contains(owned, "*") {
			out = append(out, p)
		}
	}
	for _, c := range next {
		c.ObservedGeneration = gen
		c.LastTransitionTime = now
		for _, p := range prev {
			if p.Type == c.Type && p.Status == c.Status {
				c.LastTransitionTime = p.LastTransitionTime
			}
		}
		out = append(out, c)
	}
	return out
}

// The condition types Portico sets on each kind of status; any other type
// found on an object is someone else's.
var (
	classTypes    = []string{"Accepted", "SupportedVersion"}
	gatewayTypes  = []string{"Accepted", "Programmed", "ResolvedRefs", "AddressesAssigned", "InsecureFrontendValidationMode"}
	listenerTypes = []string{"Accepted", "Programmed", "ResolvedRefs", "Conflicted", "OverlappingTLSConfig"}
	// listenerSetTypes: the ListenerSet's own conditions (its listeners'
	// are listenerTypes).
	listenerSetTypes = []string{"Accepted", "Programmed"}
	// routeTypes: a route parent entry of ours is ours as a whole.
	routeTypes = []string{"*"}
)
