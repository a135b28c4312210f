package kubernetes_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/infra"
	"portico.dev/portico/internal/provider/kubernetes"
	"portico.dev/portico/internal/testkube"
)

func TestReadAssemblesTheSnapshot(t *testing.T) {
	gw := testkube.Gateway("apps", "web")
	gw.Spec.Listeners[0].AllowedRoutes = nil // defaulted by Read, as the CRD would
	c := testkube.NewFakeClient(t,
		testkube.Class("portico"),
		gw,
		testkube.Route("apps", "r", "web"),
		&gwv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "backends", Name: "g"}},
		testkube.Namespace("apps"),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "svc"}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "svc-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: "svc"}}, AddressType: discoveryv1.AddressTypeIPv4},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "cert"}, Type: corev1.SecretTypeTLS},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "portico-web",
			Labels: map[string]string{infra.LabelManagedBy: infra.ManagedBy}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "someone-elses"}},
	)
	st, err := kubernetes.NewStore(c, c, nil).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s := st.Snapshot
	if s.Standalone {
		t.Error("Standalone is set in a cluster")
	}
	counts := map[string][2]int{
		"GatewayClasses":  {len(s.GatewayClasses), 1},
		"Gateways":        {len(s.Gateways), 1},
		"HTTPRoutes":      {len(s.HTTPRoutes), 1},
		"ReferenceGrants": {len(s.ReferenceGrants), 1},
		"Namespaces":      {len(s.Namespaces), 1},
		"Services":        {len(s.Services), 1},
		"EndpointSlices":  {len(s.EndpointSlices), 1},
		"Secrets":         {len(s.Secrets), 1},
		"Deployments":     {len(st.Deployments), 1},
	}
	for what, n := range counts {
		if n[0] != n[1] {
			t.Errorf("%s: %d, want %d", what, n[0], n[1])
		}
	}
	if st.Deployments[0].Name != "portico-web" {
		t.Errorf("the Deployment read is %s, want only Portico's own", st.Deployments[0].Name)
	}
	l := s.Gateways[0].Spec.Listeners[0]
	if l.AllowedRoutes == nil || l.AllowedRoutes.Namespaces == nil || *l.AllowedRoutes.Namespaces.From != gwv1.NamespacesFromSame {
		t.Errorf("Gateway CRD defaults not applied: %+v", l.AllowedRoutes)
	}
	r := s.HTTPRoutes[0]
	if r.Spec.ParentRefs[0].Kind == nil || len(r.Spec.Rules) != 1 {
		t.Errorf("HTTPRoute CRD defaults not applied: %+v", r.Spec)
	}
}
