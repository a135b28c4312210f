package status

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
)

// backendTLSSnapshot is a Gateway with a route to Service "s", targeted by
// BackendTLSPolicy "p" (whose CA ConfigMap is missing) when routed is set.
func policyStatus(t *testing.T, routed bool, live []Object) (*gwv1.PolicyStatus, bool) {
	t.Helper()
	s := snapshot(1, 8080)
	s.Services = []*corev1.Service{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "s"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}},
	}}
	s.BackendTLSPolicies = []*gwv1.BackendTLSPolicy{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p", Generation: 3},
		Spec: gwv1.BackendTLSPolicySpec{
			TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Kind: "Service", Name: "s"}}},
			Validation: gwv1.BackendTLSPolicyValidation{
				CACertificateRefs: []gwv1.LocalObjectReference{{Kind: "ConfigMap", Name: "ca"}},
				Hostname:          "s.example.com",
			},
		},
	}}
	if routed {
		s.HTTPRoutes = []*gwv1.HTTPRoute{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "r", Generation: 1},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
				Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
					BackendObjectReference: gwv1.BackendObjectReference{Name: "s", Port: ptr.To(gwv1.PortNumber(443))}}}}}},
			},
		}}
	}
	g := graph.Build(s, graph.Options{BindAddress: "127.0.0.1"})
	for _, o := range Project(g, Standalone{&ir.Ack{}}, live, time.Unix(100, 0)) {
		if o.Kind == "BackendTLSPolicy" {
			return o.Status.(*gwv1.PolicyStatus), true
		}
	}
	return nil, false
}

func TestBackendTLSPolicyAncestors(t *testing.T) {
	foreign := gwv1.PolicyAncestorStatus{
		AncestorRef:    gwv1.ParentReference{Name: "unmanaged"},
		ControllerName: "example.com/other",
		Conditions:     []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", LastTransitionTime: metav1.Unix(5, 0)}},
	}
	st, ok := policyStatus(t, true, nil)
	if !ok || len(st.Ancestors) != 1 {
		t.Fatalf("routed policy: %+v, want one ancestor", st)
	}
	ours := st.Ancestors[0]
	if ours.AncestorRef.Name != "gw" || len(ours.Conditions) != 2 ||
		ours.Conditions[0].Reason != string(gwv1.BackendTLSPolicyReasonNoValidCACertificate) ||
		ours.Conditions[1].Reason != string(gwv1.BackendTLSPolicyReasonInvalidCACertificateRef) ||
		ours.Conditions[0].ObservedGeneration != 3 {
		t.Errorf("ancestor gw: %+v, want Accepted=NoValidCACertificate and ResolvedRefs=InvalidCACertificateRef at generation 3", ours)
	}

	// Other controllers' entries keep their place and content.
	live := []Object{{Kind: "BackendTLSPolicy", Metadata: Metadata{Namespace: "default", Name: "p"},
		Status: &gwv1.PolicyStatus{Ancestors: []gwv1.PolicyAncestorStatus{ours, foreign}}}}
	st, _ = policyStatus(t, true, live)
	if len(st.Ancestors) != 2 || st.Ancestors[0].ControllerName != "portico.dev/gateway-controller" ||
		st.Ancestors[1].ControllerName != "example.com/other" || st.Ancestors[1].Conditions[0] != foreign.Conditions[0] {
		t.Errorf("with a foreign entry: %+v, want ours then the foreign one untouched", st.Ancestors)
	}

	// Once no route uses the Service, our entry goes, the foreign one stays.
	st, ok = policyStatus(t, false, live)
	if !ok || len(st.Ancestors) != 1 || st.Ancestors[0].ControllerName != "example.com/other" {
		t.Errorf("unrouted: %+v, want only the foreign entry", st)
	}
	// And a policy that never concerned us has no status of ours to write.
	if _, ok := policyStatus(t, false, nil); ok {
		t.Error("a policy with no ancestor of ours and no entry of ours was projected")
	}
}
