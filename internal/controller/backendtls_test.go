package controller

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/resource"
)

// The leader writes a BackendTLSPolicy's ancestor entry for the Gateway its
// Service is routed through, keeps another controller's entry, and writes
// nothing more while nothing changes.
func TestBackendTLSPolicyStatusIsWritten(t *testing.T) {
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "secure"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}},
	}
	r := route("apps", "r", "web")
	r.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
		BackendObjectReference: gwv1.BackendObjectReference{Name: "secure", Port: ptr.To(gwv1.PortNumber(443))}}}}}}
	foreign := gwv1.PolicyAncestorStatus{
		AncestorRef:    gwv1.ParentReference{Name: "other-gw"},
		ControllerName: "example.com/other-controller",
		Conditions:     []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(t0)}},
	}
	policy := &gwv1.BackendTLSPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "p", Generation: 1, CreationTimestamp: metav1.NewTime(t0)},
		Spec: gwv1.BackendTLSPolicySpec{
			TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Kind: "Service", Name: "secure"}}},
			Validation: gwv1.BackendTLSPolicyValidation{
				CACertificateRefs: []gwv1.LocalObjectReference{{Kind: "ConfigMap", Name: "ca"}},
				Hostname:          "secure.example.com",
			},
		},
		Status: gwv1.PolicyStatus{Ancestors: []gwv1.PolicyAncestorStatus{foreign}},
	}
	c := newFakeClient(t, class("portico"), gateway("apps", "web"), r, svc, policy)
	ctl := newTestController(c, newFakeStream())
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	got := get(t, c, "apps", "p", &gwv1.BackendTLSPolicy{})
	if len(got.Status.Ancestors) != 2 || got.Status.Ancestors[0].ControllerName != foreign.ControllerName ||
		got.Status.Ancestors[1].ControllerName != resource.ControllerName || got.Status.Ancestors[1].AncestorRef.Name != "web" {
		t.Fatalf("ancestors %+v, want the foreign entry kept and ours for Gateway web", got.Status.Ancestors)
	}
	// The ConfigMap is missing: not accepted.
	if c := condition(t, got.Status.Ancestors[1].Conditions, "Accepted"); c.Reason != string(gwv1.BackendTLSPolicyReasonNoValidCACertificate) {
		t.Errorf("Accepted = %+v, want NoValidCACertificate", c)
	}
	rv := got.ResourceVersion
	if err := ctl.sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if again := get(t, c, "apps", "p", &gwv1.BackendTLSPolicy{}); again.ResourceVersion != rv {
		t.Error("an unchanged status was written again")
	}
}
