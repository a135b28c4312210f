package status

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/conditions"
	"portico.dev/portico/internal/graph"
)

// TestPolicyAncestorsCapped: a policy of any kind applying through more
// Gateways than PolicyStatus may list writes at most MaxPolicyAncestors
// entries, the other controllers' entries included and kept.
func TestPolicyAncestorsCapped(t *testing.T) {
	ap := &graph.AttachedPolicy{Kind: "ExamplePolicy", Meta: &metav1.ObjectMeta{Namespace: "default", Name: "p", Generation: 2}}
	for i := range graph.MaxPolicyAncestors + 4 {
		gw := &graph.Gateway{Object: &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("gw%02d", i)}}}
		ap.Ancestors = append(ap.Ancestors, &graph.PolicyAncestor{Gateway: gw, Accepted: conditions.PolicyAccepted()})
	}
	foreign := gwv1.PolicyAncestorStatus{AncestorRef: gwv1.ParentReference{Name: "theirs"}, ControllerName: "example.com/other",
		Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"}}}
	live := Object{Kind: "ExamplePolicy", Metadata: Metadata{Namespace: "default", Name: "p"},
		Status: &gwv1.PolicyStatus{Ancestors: []gwv1.PolicyAncestorStatus{foreign}}}
	p := projector{prev: map[Key]Object{live.Key(): live}, now: metav1.NewTime(time.Unix(100, 0))}
	o, ok := p.policy(ap)
	if !ok || o.Kind != "ExamplePolicy" {
		t.Fatalf("policy projected as %+v (ok %v)", o, ok)
	}
	st := o.Status.(*gwv1.PolicyStatus)
	if len(st.Ancestors) != graph.MaxPolicyAncestors {
		t.Fatalf("%d ancestors written, want %d", len(st.Ancestors), graph.MaxPolicyAncestors)
	}
	if st.Ancestors[0].ControllerName != "example.com/other" {
		t.Errorf("the foreign entry lost its place: %+v", st.Ancestors[0])
	}
	if last := st.Ancestors[len(st.Ancestors)-1]; last.AncestorRef.Name != "gw14" || last.Conditions[0].ObservedGeneration != 2 {
		t.Errorf("last entry %s (generation %d), want gw14 at generation 2 (ours in ancestor order)", last.AncestorRef.Name, last.Conditions[0].ObservedGeneration)
	}
}
